//! Master-order reads (the order representation of DESIGN.md §6) and idempotency lookups.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sqlx::{AssertSqlSafe, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::money::two_decimals;

use super::page::{PageRequest, Paged};
use super::purchase_orders::{self, PurchaseOrderView};
use crate::domain::roles::Scope;

/// A master order with its purchase orders.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    /// Id (stable from the 202 on).
    pub id: Uuid,
    /// `MO-YYYY-NNNNNN`, once processed.
    pub reference: Option<String>,
    /// Ordering station.
    pub station_id: Uuid,
    /// PENDING, DEAD_LETTERED, REJECTED, or derived from the purchase orders.
    pub status: String,
    /// Why a DEAD_LETTERED order is not processed: `{code, detail}`, and for staff the
    /// reason, error and dead-letter id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub dead_letter: Option<Value>,
    /// Acceptance date in the business time zone; prices are those of this date.
    pub order_date: NaiveDate,
    /// Delivery date asked for.
    pub requested_delivery_date: Option<NaiveDate>,
    /// Free text.
    pub notes: Option<String>,
    /// Why the order was rejected: `{code, lines:[{index, code, message}]}`.
    #[schema(value_type = Option<Object>)]
    pub rejection: Option<Value>,
    /// ISO currency.
    pub currency: String,
    /// Σ purchase-order totals excluding VAT (null while pending).
    #[schema(value_type = Option<String>, example = "1250.40")]
    #[serde(serialize_with = "two_decimals::option")]
    pub total_excluding_tax: Option<Decimal>,
    /// Σ purchase-order VAT.
    #[schema(value_type = Option<String>, example = "250.08")]
    #[serde(serialize_with = "two_decimals::option")]
    pub tax_amount: Option<Decimal>,
    /// Σ purchase-order totals including VAT.
    #[schema(value_type = Option<String>, example = "1500.48")]
    #[serde(serialize_with = "two_decimals::option")]
    pub total_including_tax: Option<Decimal>,
    /// One per supplier.
    pub purchase_orders: Vec<PurchaseOrderView>,
    /// Acceptance instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    reference: String,
    station_id: Uuid,
    status: String,
    order_date: NaiveDate,
    requested_delivery_date: Option<NaiveDate>,
    notes: Option<String>,
    rejection: Option<Value>,
    currency: String,
    total_excluding_tax: Decimal,
    tax_amount: Decimal,
    total_including_tax: Decimal,
    accepted_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const ORDER_COLUMNS: &str = "id, reference, station_id, status, order_date, \
     requested_delivery_date, notes, rejection, currency, total_excluding_tax, tax_amount, \
     total_including_tax, accepted_at, updated_at";

/// Master orders are visible to staff and to their own station only.
fn station_restriction(scope: Scope) -> Option<(bool, Option<Uuid>)> {
    match scope {
        Scope::All => Some((false, None)),
        Scope::Station(id) => Some((true, Some(id))),
        Scope::Supplier(_) | Scope::Nothing => None,
    }
}

/// One processed order, if visible in `scope`.
pub async fn find(pool: &PgPool, scope: Scope, id: Uuid) -> sqlx::Result<Option<OrderView>> {
    let Some((restricted, own)) = station_restriction(scope) else {
        return Ok(None);
    };
    let rows: Vec<OrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM master_orders \
         WHERE id = $1 AND (NOT $2 OR station_id = $3)"
    )))
    .bind(id)
    .bind(restricted)
    .bind(own)
    .fetch_all(pool)
    .await?;
    Ok(with_purchase_orders(pool, rows).await?.pop())
}

/// Filters of the order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this station's orders.
    pub station_id: Option<Uuid>,
    /// Only orders with a purchase order to this supplier.
    pub supplier_id: Option<Uuid>,
}

const ORDER_FILTER: &str = "(NOT $1 OR station_id = $2) \
     AND ($3::text IS NULL OR status = $3) AND ($4::uuid IS NULL OR station_id = $4) \
     AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM purchase_orders po \
          WHERE po.master_order_id = master_orders.id AND po.supplier_id = $5))";

/// Processed orders visible in `scope`, newest first.
pub async fn list(
    pool: &PgPool,
    scope: Scope,
    filter: &OrderFilter,
    page: PageRequest,
) -> sqlx::Result<Paged<OrderView>> {
    let Some((restricted, own)) = station_restriction(scope) else {
        return Ok(Paged {
            items: Vec::new(),
            total: 0,
        });
    };
    let rows: Vec<OrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM master_orders WHERE {ORDER_FILTER} \
         ORDER BY created_at DESC, id LIMIT $6 OFFSET $7"
    )))
    .bind(restricted)
    .bind(own)
    .bind(filter.status.as_deref())
    .bind(filter.station_id)
    .bind(filter.supplier_id)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM master_orders WHERE {ORDER_FILTER}"
    )))
    .bind(restricted)
    .bind(own)
    .bind(filter.status.as_deref())
    .bind(filter.station_id)
    .bind(filter.supplier_id)
    .fetch_one(pool)
    .await?;
    Ok(Paged {
        items: with_purchase_orders(pool, rows).await?,
        total,
    })
}

async fn with_purchase_orders(pool: &PgPool, rows: Vec<OrderRow>) -> sqlx::Result<Vec<OrderView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut pos = purchase_orders::for_master_orders(pool, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                pos.drain(..).partition(|po| po.master_order_id == r.id);
            pos = rest;
            OrderView {
                id: r.id,
                reference: Some(r.reference),
                station_id: r.station_id,
                status: r.status,
                dead_letter: None,
                order_date: r.order_date,
                requested_delivery_date: r.requested_delivery_date,
                notes: r.notes,
                rejection: r.rejection,
                currency: r.currency,
                total_excluding_tax: Some(r.total_excluding_tax),
                tax_amount: Some(r.tax_amount),
                total_including_tax: Some(r.total_including_tax),
                purchase_orders: mine,
                created_at: r.accepted_at,
                updated_at: r.updated_at,
            }
        })
        .collect())
}

/// The request hash stored for an order id, to tell a replay from a reused key.
pub async fn request_hash(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT request_hash FROM master_orders WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}
