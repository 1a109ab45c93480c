//! Batched writes of processed orders: one statement per table for a whole batch.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

/// A master order row.
#[derive(Debug, Clone, Serialize)]
pub struct NewMasterOrder {
    /// Id.
    pub id: Uuid,
    /// `MO-YYYY-NNNNNN`.
    pub reference: String,
    /// Station.
    pub station_id: Uuid,
    /// Submitting user.
    pub created_by: Uuid,
    /// Client idempotency key.
    pub idempotency_key: String,
    /// Hex SHA-256 of the request.
    pub request_hash: String,
    /// REGISTERED or REJECTED.
    pub status: String,
    /// Pricing date.
    pub order_date: NaiveDate,
    /// Acceptance instant.
    pub accepted_at: DateTime<Utc>,
    /// Asked delivery date.
    pub requested_delivery_date: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
    /// Σ excluding VAT.
    pub total_excluding_tax: Decimal,
    /// Σ VAT.
    pub tax_amount: Decimal,
    /// Σ including VAT.
    pub total_including_tax: Decimal,
    /// Rejection, for REJECTED orders.
    pub rejection: Option<Value>,
    /// Command id.
    pub command_id: Uuid,
}

/// A purchase order row.
#[derive(Debug, Clone, Serialize)]
pub struct NewPurchaseOrder {
    /// Id.
    pub id: Uuid,
    /// `PO-YYYY-NNNNNN`.
    pub number: String,
    /// Master order.
    pub master_order_id: Uuid,
    /// Supplier.
    pub supplier_id: Uuid,
    /// Station delivered.
    pub station_id: Uuid,
    /// Initial status.
    pub status: String,
    /// Pricing date.
    pub order_date: NaiveDate,
    /// Σ line totals.
    pub total_excluding_tax: Decimal,
    /// VAT.
    pub tax_amount: Decimal,
    /// Both.
    pub total_including_tax: Decimal,
}

/// A purchase-order line row.
#[derive(Debug, Clone, Serialize)]
pub struct NewPurchaseOrderLine {
    /// Id.
    pub id: Uuid,
    /// Purchase order.
    pub purchase_order_id: Uuid,
    /// 1-based position.
    pub line_number: i32,
    /// Product.
    pub product_id: Uuid,
    /// Product code at split time.
    pub product_code: String,
    /// Product name at split time.
    pub product_name: String,
    /// Conditioning unit.
    pub conditioning_unit: String,
    /// Supplier reference.
    pub supplier_reference: Option<String>,
    /// Contract.
    pub contract_id: Uuid,
    /// Contract line.
    pub contract_line_id: Uuid,
    /// Units.
    pub quantity: i64,
    /// Contract price.
    pub base_unit_price: Decimal,
    /// Break reduction.
    pub reduction_percent: Decimal,
    /// Price paid per unit.
    pub unit_price: Decimal,
    /// VAT rate.
    pub tax_rate: Decimal,
    /// unit_price × quantity.
    pub line_total: Decimal,
    /// The resale to the station: Blue Whale's fee from the contract, in percent.
    pub platform_fee_percent: Decimal,
    /// What the station pays per unit.
    pub sales_unit_price: Decimal,
    /// sales_unit_price × quantity.
    pub sales_line_total: Decimal,
}

/// A status-history row.
#[derive(Debug, Clone, Serialize)]
pub struct NewStatusChange {
    /// Purchase order.
    pub purchase_order_id: Uuid,
    /// Previous status, none at creation.
    pub from_status: Option<String>,
    /// New status.
    pub to_status: String,
    /// Who.
    pub actor_user_id: Option<Uuid>,
    /// Their role then.
    pub actor_role: Option<String>,
    /// Their organisation kind then.
    pub actor_org_type: Option<String>,
    /// Their organisation.
    pub actor_org_id: Option<Uuid>,
    /// Command.
    pub command_id: Option<Uuid>,
    /// Why.
    pub reason: Option<String>,
    /// The step's own data (delivery date, carrier, received lines…).
    pub details: Option<Value>,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// Inserts master orders.
pub async fn insert_master_orders(
    conn: &mut PgConnection,
    rows: &[NewMasterOrder],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO master_orders (id, reference, station_id, created_by, idempotency_key, \
           request_hash, status, order_date, accepted_at, requested_delivery_date, notes, \
           total_excluding_tax, tax_amount, total_including_tax, rejection, command_id) \
         SELECT id, reference, station_id, created_by, idempotency_key, \
           decode(request_hash, 'hex'), status, order_date, accepted_at, requested_delivery_date, \
           notes, total_excluding_tax, tax_amount, total_including_tax, rejection, command_id \
         FROM jsonb_to_recordset($1) AS x(id uuid, reference text, station_id uuid, \
           created_by uuid, idempotency_key text, request_hash text, status text, order_date date, \
           accepted_at timestamptz, requested_delivery_date date, notes text, \
           total_excluding_tax numeric, tax_amount numeric, total_including_tax numeric, \
           rejection jsonb, command_id uuid)",
    )
    .bind(Json(rows))
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts purchase orders.
pub async fn insert_purchase_orders(
    conn: &mut PgConnection,
    rows: &[NewPurchaseOrder],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO purchase_orders (id, number, master_order_id, supplier_id, station_id, \
           status, order_date, total_excluding_tax, tax_amount, total_including_tax) \
         SELECT id, number, master_order_id, supplier_id, station_id, status, order_date, \
           total_excluding_tax, tax_amount, total_including_tax \
         FROM jsonb_to_recordset($1) AS x(id uuid, number text, master_order_id uuid, \
           supplier_id uuid, station_id uuid, status text, order_date date, \
           total_excluding_tax numeric, tax_amount numeric, total_including_tax numeric)",
    )
    .bind(Json(rows))
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts purchase-order lines.
pub async fn insert_lines(
    conn: &mut PgConnection,
    rows: &[NewPurchaseOrderLine],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO purchase_order_lines (id, purchase_order_id, line_number, product_id, \
           product_code, product_name, conditioning_unit, supplier_reference, contract_id, \
           contract_line_id, quantity, base_unit_price, reduction_percent, unit_price, tax_rate, \
           line_total, platform_fee_percent, sales_unit_price, sales_line_total) \
         SELECT * FROM jsonb_to_recordset($1) AS x(id uuid, purchase_order_id uuid, \
           line_number integer, product_id uuid, product_code text, product_name text, \
           conditioning_unit text, supplier_reference text, contract_id uuid, \
           contract_line_id uuid, quantity integer, base_unit_price numeric, \
           reduction_percent numeric, unit_price numeric, tax_rate numeric, line_total numeric, \
           platform_fee_percent numeric, sales_unit_price numeric, sales_line_total numeric)",
    )
    .bind(Json(rows))
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts status-history rows.
pub async fn insert_status_changes(
    conn: &mut PgConnection,
    rows: &[NewStatusChange],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO purchase_order_status_history (purchase_order_id, from_status, to_status, \
           actor_user_id, actor_role, actor_org_type, actor_org_id, command_id, reason, details, \
           changed_at) \
         SELECT * FROM jsonb_to_recordset($1) AS x(purchase_order_id uuid, from_status text, \
           to_status text, actor_user_id uuid, actor_role text, actor_org_type text, \
           actor_org_id uuid, command_id uuid, reason text, details jsonb, \
           changed_at timestamptz)",
    )
    .bind(Json(rows))
    .execute(conn)
    .await?;
    Ok(())
}

/// A sales-order row (Blue Whale's bill to the station for a priced master order).
#[derive(Debug, Clone, Serialize)]
pub struct NewSalesOrder {
    /// Id.
    pub id: Uuid,
    /// `SO-YYYY-NNNNNN`.
    pub number: String,
    /// The master order it bills.
    pub master_order_id: Uuid,
    /// Billed station.
    pub station_id: Uuid,
    /// Pricing date.
    pub order_date: NaiveDate,
    /// Σ line totals.
    pub total_excluding_tax: Decimal,
    /// VAT, rounded once per rate.
    pub tax_amount: Decimal,
    /// Both.
    pub total_including_tax: Decimal,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
}

/// Inserts sales orders.
pub async fn insert_sales_orders(
    conn: &mut PgConnection,
    rows: &[NewSalesOrder],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO sales_orders (id, number, master_order_id, station_id, status, order_date, \
           total_excluding_tax, tax_amount, total_including_tax, created_at, updated_at) \
         SELECT id, number, master_order_id, station_id, 'ISSUED', order_date, \
           total_excluding_tax, tax_amount, total_including_tax, created_at, created_at \
         FROM jsonb_to_recordset($1) AS x(id uuid, number text, master_order_id uuid, \
           station_id uuid, order_date date, total_excluding_tax numeric, tax_amount numeric, \
           total_including_tax numeric, created_at timestamptz)",
    )
    .bind(Json(rows))
    .execute(conn)
    .await?;
    Ok(())
}

/// A document whose rows were inserted under a placeholder number.
#[derive(Debug, Clone, Copy)]
pub enum Numbered {
    /// `master_orders.reference`.
    MasterOrder,
    /// `purchase_orders.number`.
    PurchaseOrder,
    /// `sales_orders.number`.
    SalesOrder,
}

/// Gives rows their final number: `(id, number)` pairs of one document kind.
pub async fn set_numbers(
    conn: &mut PgConnection,
    kind: Numbered,
    numbers: &[(Uuid, String)],
) -> sqlx::Result<()> {
    if numbers.is_empty() {
        return Ok(());
    }
    // Both names come from this enum, never from input.
    let (table, column) = match kind {
        Numbered::MasterOrder => ("master_orders", "reference"),
        Numbered::PurchaseOrder => ("purchase_orders", "number"),
        Numbered::SalesOrder => ("sales_orders", "number"),
    };
    let (ids, values): (Vec<Uuid>, Vec<&str>) =
        numbers.iter().map(|(id, v)| (*id, v.as_str())).unzip();
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE {table} t SET {column} = v.value \
         FROM UNNEST($1::uuid[], $2::text[]) AS v(id, value) WHERE t.id = v.id"
    )))
    .bind(ids)
    .bind(values)
    .execute(conn)
    .await?;
    Ok(())
}
