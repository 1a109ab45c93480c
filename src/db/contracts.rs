//! Master-contract reads.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::money::two_decimals;

use super::page::{PageRequest, Paged};
use crate::domain::catalogue::PriceBreak;
use crate::domain::roles::Scope;

/// A price break of a contract line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceBreakView {
    /// From this many conditioning units on…
    pub min_quantity: u32,
    /// …the unit price is reduced by this percentage.
    #[schema(value_type = String, example = "5.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub reduction_percent: Decimal,
}

/// A contract line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractLineView {
    /// Line id.
    pub id: Uuid,
    /// Product.
    pub product_id: Uuid,
    /// Supplier's own reference for the product.
    pub supplier_reference: Option<String>,
    /// Price per conditioning unit, excluding VAT.
    #[schema(value_type = String, example = "18.50")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub unit_price: Decimal,
    /// Minimum conditioning units per order line.
    pub min_order_quantity: i32,
    /// Quantity discounts.
    pub price_breaks: Vec<PriceBreakView>,
    /// VAT rate in percent.
    #[schema(value_type = String, example = "20.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_rate: Decimal,
}

/// A master contract with its lines.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractView {
    /// Id.
    pub id: Uuid,
    /// Contract number.
    pub number: String,
    /// Supplier.
    pub supplier_id: Uuid,
    /// DRAFT, ACTIVE, SUSPENDED, EXPIRED or TERMINATED.
    pub status: String,
    /// First day of validity.
    pub valid_from: NaiveDate,
    /// Last day of validity (inclusive).
    pub valid_until: NaiveDate,
    /// ISO currency.
    pub currency: String,
    /// Minimum purchase-order value excluding VAT.
    #[schema(value_type = Option<String>, example = "150.00")]
    #[serde(serialize_with = "two_decimals::option")]
    pub minimum_order_value: Option<Decimal>,
    /// Blue Whale's fee on the supplier's prices, in percent (never shown to suppliers).
    #[schema(value_type = Option<String>, example = "4.00")]
    #[serde(
        serialize_with = "two_decimals::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub platform_fee_percent: Option<Decimal>,
    /// Internal notes (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Why it was last suspended or terminated.
    pub status_reason: Option<String>,
    /// The contract this one renews.
    pub renewed_from: Option<Uuid>,
    /// Changes with every command; `ETag` and `If-Match` carry it.
    pub version: i32,
    /// Lines.
    pub lines: Vec<ContractLineView>,
    /// First activation.
    pub activated_at: Option<DateTime<Utc>>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Filters of the contract list.
#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    /// Only this supplier's contracts.
    pub supplier_id: Option<Uuid>,
    /// Only contracts in this status.
    pub status: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ContractRow {
    id: Uuid,
    number: String,
    supplier_id: Uuid,
    status: String,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    currency: String,
    minimum_order_value: Option<Decimal>,
    platform_fee_percent: Decimal,
    notes: Option<String>,
    status_reason: Option<String>,
    renewed_from: Option<Uuid>,
    version: i32,
    activated_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, number, supplier_id, status, valid_from, valid_until, currency, \
     minimum_order_value, platform_fee_percent, notes, status_reason, renewed_from, version, \
     activated_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct LineRow {
    id: Uuid,
    contract_id: Uuid,
    product_id: Uuid,
    supplier_reference: Option<String>,
    unit_price: Decimal,
    min_order_quantity: i32,
    price_breaks: Json<Vec<PriceBreak>>,
    tax_rate: Decimal,
}

/// Staff and stations read every contract; a supplier only its own.
fn supplier_restriction(scope: Scope) -> (bool, Option<Uuid>) {
    match scope {
        Scope::All | Scope::Station(_) => (false, None),
        Scope::Supplier(id) => (true, Some(id)),
        Scope::Nothing => (true, None),
    }
}

const CONTRACT_FILTER: &str = "(NOT $1 OR supplier_id = $2) \
     AND ($3::uuid IS NULL OR supplier_id = $3) AND ($4::text IS NULL OR status = $4)";

/// Contracts visible in `scope`, with their lines.
pub async fn list(
    pool: &PgPool,
    scope: Scope,
    filter: &ContractFilter,
    page: PageRequest,
) -> sqlx::Result<Paged<ContractView>> {
    let (restricted, own) = supplier_restriction(scope);
    let rows: Vec<ContractRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM master_contracts \
         WHERE {CONTRACT_FILTER} ORDER BY number LIMIT $5 OFFSET $6"
    )))
    .bind(restricted)
    .bind(own)
    .bind(filter.supplier_id)
    .bind(filter.status.as_deref())
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM master_contracts WHERE {CONTRACT_FILTER}"
    )))
    .bind(restricted)
    .bind(own)
    .bind(filter.supplier_id)
    .bind(filter.status.as_deref())
    .fetch_one(pool)
    .await?;
    Ok(Paged {
        items: with_lines(pool, scope, rows).await?,
        total,
    })
}

/// One contract if visible in `scope`.
pub async fn find(pool: &PgPool, scope: Scope, id: Uuid) -> sqlx::Result<Option<ContractView>> {
    let (restricted, own) = supplier_restriction(scope);
    let rows: Vec<ContractRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM master_contracts WHERE id = $3 AND (NOT $1 OR supplier_id = $2)"
    )))
    .bind(restricted)
    .bind(own)
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(with_lines(pool, scope, rows).await?.pop())
}

async fn with_lines(
    pool: &PgPool,
    scope: Scope,
    rows: Vec<ContractRow>,
) -> sqlx::Result<Vec<ContractView>> {
    // Blue Whale's margin is not the supplier's business; notes are internal.
    let sees_fee = !matches!(scope, Scope::Supplier(_) | Scope::Nothing);
    let sees_notes = matches!(scope, Scope::All);
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT id, contract_id, product_id, supplier_reference, unit_price, min_order_quantity, \
         price_breaks, tax_rate FROM contract_lines WHERE contract_id = ANY($1) \
         ORDER BY contract_id, product_id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|c| ContractView {
            lines: lines
                .iter()
                .filter(|l| l.contract_id == c.id)
                .map(|l| ContractLineView {
                    id: l.id,
                    product_id: l.product_id,
                    supplier_reference: l.supplier_reference.clone(),
                    unit_price: l.unit_price,
                    min_order_quantity: l.min_order_quantity,
                    price_breaks: l
                        .price_breaks
                        .0
                        .iter()
                        .map(|b| PriceBreakView {
                            min_quantity: b.min_quantity,
                            reduction_percent: b.reduction_percent,
                        })
                        .collect(),
                    tax_rate: l.tax_rate,
                })
                .collect(),
            id: c.id,
            number: c.number,
            supplier_id: c.supplier_id,
            status: c.status,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            currency: c.currency,
            minimum_order_value: c.minimum_order_value,
            platform_fee_percent: sees_fee.then_some(c.platform_fee_percent),
            notes: c.notes.filter(|_| sees_notes),
            status_reason: c.status_reason,
            renewed_from: c.renewed_from,
            version: c.version,
            activated_at: c.activated_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
        .collect())
}
