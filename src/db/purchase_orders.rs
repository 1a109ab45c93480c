//! Purchase-order reads.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{AssertSqlSafe, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::money::two_decimals;

use super::page::{PageRequest, Paged};
use crate::domain::purchase_order_status::PurchaseOrderStatus;
use crate::domain::roles::Scope;

/// A purchase-order line, with the terms crystallised at split time.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PurchaseOrderLineView {
    /// Purchase order.
    #[serde(skip)]
    pub purchase_order_id: Uuid,
    /// 1-based position.
    pub line_number: i32,
    /// Product.
    pub product_id: Uuid,
    /// Product code at split time.
    pub product_code: String,
    /// Product name at split time.
    pub product_name: String,
    /// Conditioning unit the quantity counts.
    pub conditioning_unit: String,
    /// Supplier's reference.
    pub supplier_reference: Option<String>,
    /// Conditioning units ordered.
    pub quantity: i32,
    /// Contract price before any break.
    #[schema(value_type = String, example = "18.50")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub base_unit_price: Decimal,
    /// Price-break reduction applied, in percent.
    #[schema(value_type = String, example = "5.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub reduction_percent: Decimal,
    /// Price per conditioning unit, excluding VAT.
    #[schema(value_type = String, example = "17.58")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub unit_price: Decimal,
    /// VAT rate in percent.
    #[schema(value_type = String, example = "20.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_rate: Decimal,
    /// unit_price × quantity.
    #[schema(value_type = String, example = "175.80")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub line_total: Decimal,
    /// Contract the price comes from.
    pub contract_id: Uuid,
}

/// A purchase order to one supplier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseOrderView {
    /// Id.
    pub id: Uuid,
    /// `PO-YYYY-NNNNNN`.
    pub number: String,
    /// Master order it belongs to.
    pub master_order_id: Uuid,
    /// Supplier.
    pub supplier_id: Uuid,
    /// Delivered station.
    pub station_id: Uuid,
    /// Status code.
    pub status: String,
    /// Status label in French.
    pub status_label: String,
    /// Order date.
    pub order_date: NaiveDate,
    /// ISO currency.
    pub currency: String,
    /// Σ line totals.
    #[schema(value_type = String, example = "450.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: Decimal,
    /// VAT, rounded per rate.
    #[schema(value_type = String, example = "90.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_amount: Decimal,
    /// Both together.
    #[schema(value_type = String, example = "540.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_including_tax: Decimal,
    /// Lines.
    pub lines: Vec<PurchaseOrderLineView>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct PurchaseOrderRow {
    id: Uuid,
    number: String,
    master_order_id: Uuid,
    supplier_id: Uuid,
    station_id: Uuid,
    status: String,
    order_date: NaiveDate,
    currency: String,
    total_excluding_tax: Decimal,
    tax_amount: Decimal,
    total_including_tax: Decimal,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const PO_COLUMNS: &str = "id, number, master_order_id, supplier_id, station_id, status, \
     order_date, currency, total_excluding_tax, tax_amount, total_including_tax, created_at, \
     updated_at";

/// The purchase orders of some master orders, with lines.
pub async fn for_master_orders(
    pool: &PgPool,
    master_order_ids: &[Uuid],
) -> sqlx::Result<Vec<PurchaseOrderView>> {
    if master_order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<PurchaseOrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PO_COLUMNS} FROM purchase_orders WHERE master_order_id = ANY($1) ORDER BY number"
    )))
    .bind(master_order_ids)
    .fetch_all(pool)
    .await?;
    with_lines(pool, rows).await
}

/// `(see everything, own station, own supplier)` of a scope.
fn restriction(scope: Scope) -> (bool, Option<Uuid>, Option<Uuid>) {
    super::catalogue::scope_params(scope)
}

const PO_SCOPE: &str = "($1 OR station_id = $2 OR supplier_id = $3)";

/// One purchase order if visible in `scope`.
pub async fn find(
    pool: &PgPool,
    scope: Scope,
    id: Uuid,
) -> sqlx::Result<Option<PurchaseOrderView>> {
    let (all, station, supplier) = restriction(scope);
    let rows: Vec<PurchaseOrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PO_COLUMNS} FROM purchase_orders WHERE {PO_SCOPE} AND id = $4"
    )))
    .bind(all)
    .bind(station)
    .bind(supplier)
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(with_lines(pool, rows).await?.pop())
}

/// Filters of the purchase-order list.
#[derive(Debug, Clone, Default)]
pub struct PurchaseOrderFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this station.
    pub station_id: Option<Uuid>,
    /// Only this supplier.
    pub supplier_id: Option<Uuid>,
}

const PO_FILTER: &str = "($4::text IS NULL OR status = $4) \
     AND ($5::uuid IS NULL OR station_id = $5) AND ($6::uuid IS NULL OR supplier_id = $6)";

/// Purchase orders visible in `scope`, newest first.
pub async fn list(
    pool: &PgPool,
    scope: Scope,
    filter: &PurchaseOrderFilter,
    page: PageRequest,
) -> sqlx::Result<Paged<PurchaseOrderView>> {
    let (all, station, supplier) = restriction(scope);
    let rows: Vec<PurchaseOrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PO_COLUMNS} FROM purchase_orders WHERE {PO_SCOPE} AND {PO_FILTER} \
         ORDER BY created_at DESC, number DESC LIMIT $7 OFFSET $8"
    )))
    .bind(all)
    .bind(station)
    .bind(supplier)
    .bind(filter.status.as_deref())
    .bind(filter.station_id)
    .bind(filter.supplier_id)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM purchase_orders WHERE {PO_SCOPE} AND {PO_FILTER}"
    )))
    .bind(all)
    .bind(station)
    .bind(supplier)
    .bind(filter.status.as_deref())
    .bind(filter.station_id)
    .bind(filter.supplier_id)
    .fetch_one(pool)
    .await?;
    Ok(Paged {
        items: with_lines(pool, rows).await?,
        total,
    })
}

async fn with_lines(
    pool: &PgPool,
    rows: Vec<PurchaseOrderRow>,
) -> sqlx::Result<Vec<PurchaseOrderView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut lines: Vec<PurchaseOrderLineView> = sqlx::query_as(
        "SELECT purchase_order_id, line_number, product_id, product_code, product_name, \
         conditioning_unit, supplier_reference, quantity, base_unit_price, reduction_percent, \
         unit_price, tax_rate, line_total, contract_id FROM purchase_order_lines \
         WHERE purchase_order_id = ANY($1) ORDER BY purchase_order_id, line_number",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                lines.drain(..).partition(|l| l.purchase_order_id == r.id);
            lines = rest;
            let status_label = r
                .status
                .parse::<PurchaseOrderStatus>()
                .map(|s| s.label_fr().to_owned())
                .unwrap_or_default();
            PurchaseOrderView {
                id: r.id,
                number: r.number,
                master_order_id: r.master_order_id,
                supplier_id: r.supplier_id,
                station_id: r.station_id,
                status: r.status,
                status_label,
                order_date: r.order_date,
                currency: r.currency,
                total_excluding_tax: r.total_excluding_tax,
                tax_amount: r.tax_amount,
                total_including_tax: r.total_including_tax,
                lines: mine,
                created_at: r.created_at,
                updated_at: r.updated_at,
            }
        })
        .collect())
}
