//! Purchase-order reads.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::money::two_decimals;

use super::page::{PageRequest, Paged};
use crate::domain::purchase_order_status::PurchaseOrderStatus;
use crate::domain::roles::Scope;

/// A purchase-order line, with the terms crystallised at split time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
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
    /// Conditioning units received; null until received.
    pub received_quantity: Option<i32>,
    /// received − ordered; null until received.
    pub discrepancy: Option<i32>,
    /// The station's note at reception.
    pub reception_note: Option<String>,
}

/// A purchase order to one supplier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
    /// Incremented by every change; also the `ETag`.
    pub version: i32,
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
    /// Delivery date the supplier committed to.
    pub confirmed_delivery_date: Option<NaiveDate>,
    /// Carrier, once shipped.
    pub carrier: Option<String>,
    /// Carrier's tracking number.
    pub tracking_number: Option<String>,
    /// Whether some line was received in another quantity than ordered.
    pub has_discrepancy: bool,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// Why it was archived.
    pub archive_reason: Option<String>,
    /// Blue Whale's invoice number.
    pub invoice_number: Option<String>,
    /// Lines.
    pub lines: Vec<PurchaseOrderLineView>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Confirmation instant.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Shipping instant.
    pub shipped_at: Option<DateTime<Utc>>,
    /// Reception instant.
    pub received_at: Option<DateTime<Utc>>,
    /// Closing instant.
    pub closed_at: Option<DateTime<Utc>>,
    /// Cancellation instant.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Invoicing instant.
    pub invoiced_at: Option<DateTime<Utc>>,
    /// Archiving instant.
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct PurchaseOrderRow {
    id: Uuid,
    number: String,
    master_order_id: Uuid,
    supplier_id: Uuid,
    station_id: Uuid,
    status: String,
    version: i32,
    order_date: NaiveDate,
    currency: String,
    total_excluding_tax: Decimal,
    tax_amount: Decimal,
    total_including_tax: Decimal,
    confirmed_delivery_date: Option<NaiveDate>,
    carrier: Option<String>,
    tracking_number: Option<String>,
    has_discrepancy: bool,
    cancellation_reason: Option<String>,
    archive_reason: Option<String>,
    invoice_number: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    shipped_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
    invoiced_at: Option<DateTime<Utc>>,
    archived_at: Option<DateTime<Utc>>,
}

/// Columns of [`PurchaseOrderRow`].
pub(crate) const PO_COLUMNS: &str = "id, number, master_order_id, supplier_id, station_id, \
     status, version, order_date, currency, total_excluding_tax, tax_amount, \
     total_including_tax, confirmed_delivery_date, carrier, tracking_number, has_discrepancy, \
     cancellation_reason, archive_reason, invoice_number, created_at, updated_at, confirmed_at, \
     shipped_at, received_at, closed_at, cancelled_at, invoiced_at, archived_at";

/// The purchase orders of some master orders, with lines.
pub async fn for_master_orders(
    pool: &PgPool,
    master_order_ids: &[Uuid],
) -> sqlx::Result<Vec<PurchaseOrderView>> {
    if master_order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = pool.acquire().await?;
    let rows: Vec<PurchaseOrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PO_COLUMNS} FROM purchase_orders WHERE master_order_id = ANY($1) ORDER BY number"
    )))
    .bind(master_order_ids)
    .fetch_all(&mut *conn)
    .await?;
    with_lines(&mut conn, rows).await
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
    let mut conn = pool.acquire().await?;
    let rows: Vec<PurchaseOrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PO_COLUMNS} FROM purchase_orders WHERE {PO_SCOPE} AND id = $4"
    )))
    .bind(all)
    .bind(station)
    .bind(supplier)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(with_lines(&mut conn, rows).await?.pop())
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
    /// Only this master order's.
    pub master_order_id: Option<Uuid>,
}

const PO_FILTER: &str = "($4::text IS NULL OR status = $4) \
     AND ($5::uuid IS NULL OR station_id = $5) AND ($6::uuid IS NULL OR supplier_id = $6) \
     AND ($7::uuid IS NULL OR master_order_id = $7)";

/// Purchase orders visible in `scope`, newest first.
pub async fn list(
    pool: &PgPool,
    scope: Scope,
    filter: &PurchaseOrderFilter,
    page: PageRequest,
) -> sqlx::Result<Paged<PurchaseOrderView>> {
    let (all, station, supplier) = restriction(scope);
    let mut conn = pool.acquire().await?;
    let rows: Vec<PurchaseOrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PO_COLUMNS} FROM purchase_orders WHERE {PO_SCOPE} AND {PO_FILTER} \
         ORDER BY created_at DESC, number DESC LIMIT $8 OFFSET $9"
    )))
    .bind(all)
    .bind(station)
    .bind(supplier)
    .bind(filter.status.as_deref())
    .bind(filter.station_id)
    .bind(filter.supplier_id)
    .bind(filter.master_order_id)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
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
    .bind(filter.master_order_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Paged {
        items: with_lines(&mut conn, rows).await?,
        total,
    })
}

/// Purchase orders by id, locked for update until the transaction ends (ids in ascending
/// order, so concurrent transactions cannot deadlock on them).
pub async fn lock_for_update(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<PurchaseOrderView>> {
    let rows: Vec<PurchaseOrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PO_COLUMNS} FROM purchase_orders WHERE id = ANY($1) ORDER BY id FOR UPDATE"
    )))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    with_lines(conn, rows).await
}

async fn with_lines(
    conn: &mut PgConnection,
    rows: Vec<PurchaseOrderRow>,
) -> sqlx::Result<Vec<PurchaseOrderView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut lines: Vec<PurchaseOrderLineView> = sqlx::query_as(
        "SELECT purchase_order_id, line_number, product_id, product_code, product_name, \
         conditioning_unit, supplier_reference, quantity, base_unit_price, reduction_percent, \
         unit_price, tax_rate, line_total, contract_id, received_quantity, \
         received_quantity - quantity AS discrepancy, reception_note FROM purchase_order_lines \
         WHERE purchase_order_id = ANY($1) ORDER BY purchase_order_id, line_number",
    )
    .bind(&ids)
    .fetch_all(conn)
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
                version: r.version,
                order_date: r.order_date,
                currency: r.currency,
                total_excluding_tax: r.total_excluding_tax,
                tax_amount: r.tax_amount,
                total_including_tax: r.total_including_tax,
                confirmed_delivery_date: r.confirmed_delivery_date,
                carrier: r.carrier,
                tracking_number: r.tracking_number,
                has_discrepancy: r.has_discrepancy,
                cancellation_reason: r.cancellation_reason,
                archive_reason: r.archive_reason,
                invoice_number: r.invoice_number,
                lines: mine,
                created_at: r.created_at,
                updated_at: r.updated_at,
                confirmed_at: r.confirmed_at,
                shipped_at: r.shipped_at,
                received_at: r.received_at,
                closed_at: r.closed_at,
                cancelled_at: r.cancelled_at,
                invoiced_at: r.invoiced_at,
                archived_at: r.archived_at,
            }
        })
        .collect())
}

impl PurchaseOrderView {
    /// What the lifecycle rules need to decide a transition of this purchase order.
    pub fn lifecycle_state(
        &self,
    ) -> Result<
        crate::domain::purchase_order_lifecycle::PurchaseOrderState,
        crate::domain::purchase_order_status::ParsePurchaseOrderStatusError,
    > {
        use crate::domain::purchase_order_lifecycle::{OrderedLine, PurchaseOrderState};
        use crate::domain::purchase_order_transitions::PurchaseOrderParties;
        Ok(PurchaseOrderState {
            parties: PurchaseOrderParties {
                supplier_id: self.supplier_id,
                station_id: self.station_id,
            },
            status: self.status.parse()?,
            version: self.version,
            order_date: self.order_date,
            lines: self
                .lines
                .iter()
                .map(|l| OrderedLine {
                    line_number: l.line_number,
                    quantity: l.quantity,
                })
                .collect(),
        })
    }
}
