//! Master contracts as the worker changes them: locked rows, their lines, the contracts in
//! force of a supplier, numbers, and the writes of one change (functions taking a connection
//! inside the command's transaction).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::numbers;
use crate::domain::catalogue::PriceBreak;
use crate::domain::contract_lifecycle::{ContractState, ContractStatus};
use crate::domain::contract_overlap::ContractSpan;
use crate::domain::contract_terms::{ContractHeader, ContractLineTerms, KnownReferences};
use crate::domain::numbering::{DocumentKind, format_number};

/// A contract with its lines, as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContractRecord {
    /// Id.
    pub id: Uuid,
    /// Number.
    pub number: String,
    /// Status.
    pub status: ContractStatus,
    /// Header terms.
    #[serde(flatten)]
    pub header: ContractHeader,
    /// Lines, in product order.
    pub lines: Vec<ContractLineTerms>,
    /// Why it was last suspended or terminated.
    pub status_reason: Option<String>,
    /// The contract it renews.
    pub renewed_from: Option<Uuid>,
    /// Version.
    pub version: i32,
    /// Entered ACTIVE first.
    pub activated_at: Option<DateTime<Utc>>,
    /// Last suspended.
    pub suspended_at: Option<DateTime<Utc>>,
    /// Terminated.
    pub terminated_at: Option<DateTime<Utc>>,
    /// Expired.
    pub expired_at: Option<DateTime<Utc>>,
}

impl ContractRecord {
    /// Status and version, as the lifecycle rules see them.
    pub fn state(&self) -> ContractState {
        ContractState {
            status: self.status,
            version: self.version,
        }
    }

    /// As the overlap rule sees it.
    pub fn span(&self) -> ContractSpan {
        ContractSpan {
            id: self.id,
            number: self.number.clone(),
            supplier_id: self.header.supplier_id,
            valid_from: self.header.valid_from,
            valid_until: self.header.valid_until,
            product_ids: self.lines.iter().map(|l| l.product_id).collect(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct HeaderRow {
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
    suspended_at: Option<DateTime<Utc>>,
    terminated_at: Option<DateTime<Utc>>,
    expired_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    contract_id: Uuid,
    product_id: Uuid,
    unit_price: Decimal,
    min_order_quantity: i32,
    price_breaks: Json<Vec<PriceBreak>>,
    tax_rate: Decimal,
    supplier_reference: Option<String>,
}

fn corrupt(e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(e.to_string().into())
}

impl HeaderRow {
    fn into_record(self, lines: Vec<ContractLineTerms>) -> sqlx::Result<ContractRecord> {
        Ok(ContractRecord {
            id: self.id,
            number: self.number,
            status: self.status.parse().map_err(corrupt)?,
            header: ContractHeader {
                supplier_id: self.supplier_id,
                valid_from: self.valid_from,
                valid_until: self.valid_until,
                currency: self.currency,
                minimum_order_value: self.minimum_order_value,
                platform_fee_percent: self.platform_fee_percent,
                notes: self.notes,
            },
            lines,
            status_reason: self.status_reason,
            renewed_from: self.renewed_from,
            version: self.version,
            activated_at: self.activated_at,
            suspended_at: self.suspended_at,
            terminated_at: self.terminated_at,
            expired_at: self.expired_at,
        })
    }
}

impl LineRow {
    fn terms(self) -> sqlx::Result<ContractLineTerms> {
        Ok(ContractLineTerms {
            product_id: self.product_id,
            unit_price: self.unit_price,
            min_order_quantity: u32::try_from(self.min_order_quantity).map_err(corrupt)?,
            price_breaks: self.price_breaks.0,
            tax_rate: self.tax_rate,
            supplier_reference: self.supplier_reference,
        })
    }
}

const HEADER_COLUMNS: &str = "id, number, supplier_id, status, valid_from, valid_until, currency, \
     minimum_order_value, platform_fee_percent, notes, status_reason, renewed_from, version, \
     activated_at, suspended_at, terminated_at, expired_at";

async fn with_lines(
    conn: &mut PgConnection,
    rows: Vec<HeaderRow>,
) -> sqlx::Result<Vec<ContractRecord>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT contract_id, product_id, unit_price, min_order_quantity, price_breaks, tax_rate, \
         supplier_reference FROM contract_lines WHERE contract_id = ANY($1) \
         ORDER BY contract_id, product_id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_contract: HashMap<Uuid, Vec<ContractLineTerms>> = HashMap::new();
    for line in lines {
        let id = line.contract_id;
        by_contract.entry(id).or_default().push(line.terms()?);
    }
    rows.into_iter()
        .map(|row| {
            let lines = by_contract.remove(&row.id).unwrap_or_default();
            row.into_record(lines)
        })
        .collect()
}

/// The contract, locked until the transaction ends.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ContractRecord>> {
    fetch(conn, id, "FOR UPDATE").await
}

/// The contract as it is now (the ingress's checks; the worker decides under [`lock`]).
pub async fn load(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ContractRecord>> {
    fetch(conn, id, "").await
}

async fn fetch(
    conn: &mut PgConnection,
    id: Uuid,
    locking: &'static str,
) -> sqlx::Result<Option<ContractRecord>> {
    let rows: Vec<HeaderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {HEADER_COLUMNS} FROM master_contracts WHERE id = $1 {locking}"
    )))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(with_lines(conn, rows).await?.pop())
}

/// Locks the supplier's row: activations of one supplier's contracts are serialised by it, so
/// two racing activations cannot both miss each other's overlap.
pub async fn lock_supplier(conn: &mut PgConnection, supplier_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("SELECT 1 FROM suppliers WHERE id = $1 FOR UPDATE")
        .bind(supplier_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The supplier's ACTIVE and SUSPENDED contracts.
pub async fn in_force(
    conn: &mut PgConnection,
    supplier_id: Uuid,
) -> sqlx::Result<Vec<ContractRecord>> {
    let rows: Vec<HeaderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {HEADER_COLUMNS} FROM master_contracts \
         WHERE supplier_id = $1 AND status IN ('ACTIVE', 'SUSPENDED') ORDER BY number"
    )))
    .bind(supplier_id)
    .fetch_all(&mut *conn)
    .await?;
    with_lines(conn, rows).await
}

/// Product codes by id, for refusals that name products.
pub async fn product_codes(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, code FROM products WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Whether the supplier and products a contract names exist and are active.
pub async fn known_references(
    conn: &mut PgConnection,
    supplier_id: Uuid,
    product_ids: &[Uuid],
) -> sqlx::Result<KnownReferences> {
    let supplier_active: Option<bool> =
        sqlx::query_scalar("SELECT active FROM suppliers WHERE id = $1")
            .bind(supplier_id)
            .fetch_optional(&mut *conn)
            .await?;
    let products: Vec<(Uuid, bool)> =
        sqlx::query_as("SELECT id, active FROM products WHERE id = ANY($1)")
            .bind(product_ids)
            .fetch_all(conn)
            .await?;
    Ok(KnownReferences {
        supplier_active,
        products_active: products.into_iter().collect(),
    })
}

/// Whether another contract than `except` has this number.
pub async fn number_taken(
    conn: &mut PgConnection,
    number: &str,
    except: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM master_contracts WHERE number = $1 AND id <> $2)",
    )
    .bind(number)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// The next free `MC-YYYY-NNNN` of `year` (numbers chosen by hand are skipped).
pub async fn next_number(conn: &mut PgConnection, year: i32) -> sqlx::Result<String> {
    loop {
        let value = numbers::allocate(&mut *conn, DocumentKind::Contract, year, 1).await?;
        let number = format_number(DocumentKind::Contract, year, value);
        if !number_taken(&mut *conn, &number, Uuid::nil()).await? {
            return Ok(number);
        }
    }
}

/// The stable id of a contract's line for a product.
pub fn line_id(contract_id: Uuid, product_id: Uuid) -> Uuid {
    Uuid::new_v5(&contract_id, product_id.as_bytes())
}

/// Writes a new contract and its lines.
pub async fn insert(
    conn: &mut PgConnection,
    record: &ContractRecord,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let h = &record.header;
    sqlx::query(
        "INSERT INTO master_contracts (id, number, supplier_id, status, valid_from, valid_until, \
         currency, minimum_order_value, platform_fee_percent, notes, renewed_from, version, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(record.id)
    .bind(&record.number)
    .bind(h.supplier_id)
    .bind(record.status.as_str())
    .bind(h.valid_from)
    .bind(h.valid_until)
    .bind(&h.currency)
    .bind(h.minimum_order_value)
    .bind(h.platform_fee_percent)
    .bind(&h.notes)
    .bind(record.renewed_from)
    .bind(record.version)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    insert_lines(conn, record.id, &record.lines, now).await
}

async fn insert_lines(
    conn: &mut PgConnection,
    contract_id: Uuid,
    lines: &[ContractLineTerms],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = lines
        .iter()
        .map(|l| line_id(contract_id, l.product_id))
        .collect();
    let products: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    let prices: Vec<Decimal> = lines.iter().map(|l| l.unit_price).collect();
    let minimums: Vec<i32> = lines
        .iter()
        .map(|l| i32::try_from(l.min_order_quantity).unwrap_or(i32::MAX))
        .collect();
    let breaks: Vec<Json<&Vec<PriceBreak>>> = lines.iter().map(|l| Json(&l.price_breaks)).collect();
    let taxes: Vec<Decimal> = lines.iter().map(|l| l.tax_rate).collect();
    let references: Vec<Option<String>> =
        lines.iter().map(|l| l.supplier_reference.clone()).collect();
    sqlx::query(
        "INSERT INTO contract_lines (id, contract_id, product_id, unit_price, min_order_quantity, \
         price_breaks, tax_rate, supplier_reference, created_at, updated_at) \
         SELECT id, $2, product_id, unit_price, min_order_quantity, price_breaks, tax_rate, \
                supplier_reference, $9, $9 \
         FROM UNNEST($1::uuid[], $3::uuid[], $4::numeric[], $5::int[], $6::jsonb[], \
                     $7::numeric[], $8::text[]) \
              AS l(id, product_id, unit_price, min_order_quantity, price_breaks, tax_rate, \
                   supplier_reference)",
    )
    .bind(&ids)
    .bind(contract_id)
    .bind(&products)
    .bind(&prices)
    .bind(&minimums)
    .bind(&breaks)
    .bind(&taxes)
    .bind(&references)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the lines of a DRAFT (the database refuses it for any other status).
pub async fn replace_lines(
    conn: &mut PgConnection,
    contract_id: Uuid,
    lines: &[ContractLineTerms],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM contract_lines WHERE contract_id = $1")
        .bind(contract_id)
        .execute(&mut *conn)
        .await?;
    insert_lines(conn, contract_id, lines, now).await
}

/// Writes the header, status and version of a changed contract.
pub async fn update(
    conn: &mut PgConnection,
    record: &ContractRecord,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let h = &record.header;
    sqlx::query(
        "UPDATE master_contracts SET number = $2, supplier_id = $3, status = $4, \
         valid_from = $5, valid_until = $6, currency = $7, minimum_order_value = $8, \
         platform_fee_percent = $9, notes = $10, status_reason = $11, version = $12, \
         activated_at = $13, suspended_at = $14, terminated_at = $15, expired_at = $16, \
         updated_at = $17 WHERE id = $1",
    )
    .bind(record.id)
    .bind(&record.number)
    .bind(h.supplier_id)
    .bind(record.status.as_str())
    .bind(h.valid_from)
    .bind(h.valid_until)
    .bind(&h.currency)
    .bind(h.minimum_order_value)
    .bind(h.platform_fee_percent)
    .bind(&h.notes)
    .bind(&record.status_reason)
    .bind(record.version)
    .bind(record.activated_at)
    .bind(record.suspended_at)
    .bind(record.terminated_at)
    .bind(record.expired_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Contracts in force whose last day is before `as_of`: the expiry job's work.
pub async fn ended_in_force(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM master_contracts WHERE status IN ('ACTIVE', 'SUSPENDED') \
         AND valid_until < $1 ORDER BY valid_until, id LIMIT $2",
    )
    .bind(as_of)
    .bind(limit)
    .fetch_all(conn)
    .await
}
