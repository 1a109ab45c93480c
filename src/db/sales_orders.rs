//! Sales orders: Blue Whale's bill to a station. Reads scoped to staff and the station (a
//! supplier never sees one: it would show Blue Whale's margin), what invoicing decides on,
//! and the invoice write.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use super::catalogue::scope_params;
use super::page::{PageRequest, Paged};
use crate::domain::money::{Totals, two_decimals};
use crate::domain::roles::Scope;
use crate::domain::sales_order_invoicing::{
    BilledPurchaseOrder, InvoiceableOrder, SalesOrderStatus,
};
use crate::domain::sales_order_pricing::{BoughtLine, SalesLine};

/// A line of a sales order: one purchase-order line resold to the station.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct SalesOrderLineView {
    /// Sales order.
    #[serde(skip)]
    pub sales_order_id: Uuid,
    /// 1-based position.
    pub line_number: i32,
    /// The purchase order the goods were bought on.
    pub purchase_order_id: Uuid,
    /// Its number.
    pub purchase_order_number: String,
    /// Its line.
    pub purchase_order_line_id: Uuid,
    /// Product.
    pub product_id: Uuid,
    /// Product code at order time.
    pub product_code: String,
    /// Product name at order time.
    pub product_name: String,
    /// Conditioning unit the quantity counts.
    pub conditioning_unit: String,
    /// Conditioning units.
    pub quantity: i32,
    /// What Blue Whale pays the supplier per unit, excluding VAT.
    #[schema(value_type = String, example = "18.50")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub purchase_unit_price: Decimal,
    /// Blue Whale's fee from the line's contract, in percent.
    #[schema(value_type = String, example = "4.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub platform_fee_percent: Decimal,
    /// What the station pays per unit, excluding VAT.
    #[schema(value_type = String, example = "19.24")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub unit_price: Decimal,
    /// VAT rate in percent.
    #[schema(value_type = String, example = "20.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_rate: Decimal,
    /// `unit_price × quantity`.
    #[schema(value_type = String, example = "962.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub line_total: Decimal,
    /// Not billed: its purchase order was cancelled (set when invoiced).
    pub credited: bool,
}

/// The invoice of a sales order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InvoiceView {
    /// `INV-YYYY-NNNNNN`.
    pub number: String,
    /// Invoice date (business date).
    pub invoice_date: NaiveDate,
    /// Payment due date.
    pub due_date: NaiveDate,
    /// Σ billed lines, excluding VAT (credited lines excluded).
    #[schema(value_type = String, example = "962.00")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: Decimal,
    /// VAT of the billed lines, rounded once per rate.
    #[schema(value_type = String, example = "192.40")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_amount: Decimal,
    /// Both.
    #[schema(value_type = String, example = "1154.40")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_including_tax: Decimal,
    /// When it was issued.
    pub invoiced_at: DateTime<Utc>,
}

/// Blue Whale's sales order to a station for one master order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SalesOrderView {
    /// Id.
    pub id: Uuid,
    /// `SO-YYYY-NNNNNN`.
    pub number: String,
    /// The master order it bills.
    pub master_order_id: Uuid,
    /// Its reference.
    pub master_order_reference: String,
    /// Billed station.
    pub station_id: Uuid,
    /// ISSUED or INVOICED.
    pub status: String,
    /// Incremented by every change; also the `ETag`.
    pub version: i32,
    /// Order date.
    pub order_date: NaiveDate,
    /// ISO currency.
    pub currency: String,
    /// Σ line totals, excluding VAT.
    #[schema(value_type = String, example = "2135.12")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: Decimal,
    /// VAT, rounded once per rate.
    #[schema(value_type = String, example = "383.59")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_amount: Decimal,
    /// Both.
    #[schema(value_type = String, example = "2518.71")]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_including_tax: Decimal,
    /// The invoice, once invoiced.
    pub invoice: Option<InvoiceView>,
    /// Lines, in purchase-order order.
    pub lines: Vec<SalesOrderLineView>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SalesOrderRow {
    id: Uuid,
    number: String,
    master_order_id: Uuid,
    master_order_reference: String,
    station_id: Uuid,
    status: String,
    version: i32,
    order_date: NaiveDate,
    currency: String,
    total_excluding_tax: Decimal,
    tax_amount: Decimal,
    total_including_tax: Decimal,
    invoice_number: Option<String>,
    invoice_date: Option<NaiveDate>,
    due_date: Option<NaiveDate>,
    invoiced_total_excluding_tax: Option<Decimal>,
    invoiced_tax_amount: Option<Decimal>,
    invoiced_total_including_tax: Option<Decimal>,
    invoiced_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl SalesOrderRow {
    fn into_view(self, lines: Vec<SalesOrderLineView>) -> SalesOrderView {
        let invoice = match (
            self.invoice_number,
            self.invoice_date,
            self.due_date,
            self.invoiced_total_excluding_tax,
            self.invoiced_tax_amount,
            self.invoiced_total_including_tax,
            self.invoiced_at,
        ) {
            (
                Some(number),
                Some(invoice_date),
                Some(due_date),
                Some(ex),
                Some(tax),
                Some(inc),
                Some(at),
            ) => Some(InvoiceView {
                number,
                invoice_date,
                due_date,
                total_excluding_tax: ex,
                tax_amount: tax,
                total_including_tax: inc,
                invoiced_at: at,
            }),
            // The table's CHECK keeps these all set or all null.
            _ => None,
        };
        SalesOrderView {
            id: self.id,
            number: self.number,
            master_order_id: self.master_order_id,
            master_order_reference: self.master_order_reference,
            station_id: self.station_id,
            status: self.status,
            version: self.version,
            order_date: self.order_date,
            currency: self.currency,
            total_excluding_tax: self.total_excluding_tax,
            tax_amount: self.tax_amount,
            total_including_tax: self.total_including_tax,
            invoice,
            lines,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const SO_SELECT: &str = "SELECT s.id, s.number, s.master_order_id, \
     m.reference AS master_order_reference, s.station_id, s.status, s.version, s.order_date, \
     s.currency, s.total_excluding_tax, s.tax_amount, s.total_including_tax, s.invoice_number, \
     s.invoice_date, s.due_date, s.invoiced_total_excluding_tax, s.invoiced_tax_amount, \
     s.invoiced_total_including_tax, s.invoiced_at, s.created_at, s.updated_at \
     FROM sales_orders s JOIN master_orders m ON m.id = s.master_order_id";

/// Staff see every sales order, a station its own, anyone else none.
const SO_SCOPE: &str = "($1 OR s.station_id = $2)";

/// Filters of the sales-order list.
#[derive(Debug, Clone, Default)]
pub struct SalesOrderFilter {
    /// Only this status.
    pub status: Option<SalesOrderStatus>,
    /// Only this station's.
    pub station_id: Option<Uuid>,
    /// Only this master order's.
    pub master_order_id: Option<Uuid>,
}

const SO_FILTER: &str = "($3::text IS NULL OR s.status = $3) \
     AND ($4::uuid IS NULL OR s.station_id = $4) AND ($5::uuid IS NULL OR s.master_order_id = $5)";

/// Sales orders visible in `scope`, newest first.
pub async fn list(
    pool: &PgPool,
    scope: Scope,
    filter: &SalesOrderFilter,
    page: PageRequest,
) -> sqlx::Result<Paged<SalesOrderView>> {
    let (all, station, _) = scope_params(scope);
    let status = filter.status.map(SalesOrderStatus::as_str);
    let mut conn = pool.acquire().await?;
    let rows: Vec<SalesOrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "{SO_SELECT} WHERE {SO_SCOPE} AND {SO_FILTER} \
         ORDER BY s.created_at DESC, s.number DESC LIMIT $6 OFFSET $7"
    )))
    .bind(all)
    .bind(station)
    .bind(status)
    .bind(filter.station_id)
    .bind(filter.master_order_id)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM sales_orders s WHERE {SO_SCOPE} AND {SO_FILTER}"
    )))
    .bind(all)
    .bind(station)
    .bind(status)
    .bind(filter.station_id)
    .bind(filter.master_order_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Paged {
        items: with_lines(&mut conn, rows).await?,
        total,
    })
}

/// One sales order if visible in `scope`.
pub async fn find(pool: &PgPool, scope: Scope, id: Uuid) -> sqlx::Result<Option<SalesOrderView>> {
    let mut conn = pool.acquire().await?;
    find_in(&mut conn, scope, id, false).await
}

/// One sales order; with `lock`, its row stays locked until the transaction ends.
async fn find_in(
    conn: &mut PgConnection,
    scope: Scope,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<SalesOrderView>> {
    let (all, station, _) = scope_params(scope);
    let locking = if lock { "FOR UPDATE OF s" } else { "" };
    let rows: Vec<SalesOrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "{SO_SELECT} WHERE {SO_SCOPE} AND s.id = $3 {locking}"
    )))
    .bind(all)
    .bind(station)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(with_lines(conn, rows).await?.pop())
}

async fn with_lines(
    conn: &mut PgConnection,
    rows: Vec<SalesOrderRow>,
) -> sqlx::Result<Vec<SalesOrderView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    // The lines are the master order's purchase-order lines with their resale terms, in
    // purchase-order number and line order (the order the sales order was priced in).
    let mut lines: Vec<SalesOrderLineView> = sqlx::query_as(
        "SELECT s.id AS sales_order_id, \
           (row_number() OVER (PARTITION BY s.id ORDER BY p.number, l.line_number))::int4 \
             AS line_number, \
           l.purchase_order_id, p.number AS purchase_order_number, \
           l.id AS purchase_order_line_id, l.product_id, l.product_code, l.product_name, \
           l.conditioning_unit, l.quantity, l.unit_price AS purchase_unit_price, \
           l.platform_fee_percent, l.sales_unit_price AS unit_price, l.tax_rate, \
           l.sales_line_total AS line_total, \
           coalesce(l.purchase_order_id = ANY(s.credited_purchase_order_ids), false) AS credited \
         FROM sales_orders s JOIN purchase_orders p ON p.master_order_id = s.master_order_id \
           JOIN purchase_order_lines l ON l.purchase_order_id = p.id \
         WHERE s.id = ANY($1) ORDER BY s.id, p.number, l.line_number",
    )
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                lines.drain(..).partition(|l| l.sales_order_id == r.id);
            lines = rest;
            r.into_view(mine)
        })
        .collect())
}

/// A sales order with what invoicing decides on: its status, version and the purchase
/// orders of its master order. With `lock` (the worker), the sales order's row is locked
/// first and then its purchase orders', so a racing cancellation or invoicing waits.
pub async fn invoiceable(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<(SalesOrderView, InvoiceableOrder)>> {
    let Some(order) = find_in(&mut *conn, Scope::All, id, lock).await? else {
        return Ok(None);
    };
    let locking = if lock { "FOR SHARE" } else { "" };
    let purchase_orders: Vec<(Uuid, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, number, status FROM purchase_orders WHERE master_order_id = $1 \
         ORDER BY number {locking}"
    )))
    .bind(order.master_order_id)
    .fetch_all(&mut *conn)
    .await?;
    let state = InvoiceableOrder {
        // The column is CHECKed to these two values.
        status: SalesOrderStatus::parse(&order.status).unwrap_or(SalesOrderStatus::Invoiced),
        version: order.version,
        purchase_orders: purchase_orders
            .into_iter()
            .filter_map(|(id, number, status)| {
                Some(BilledPurchaseOrder {
                    id,
                    number,
                    status: status.parse().ok()?,
                })
            })
            .collect(),
    };
    Ok(Some((order, state)))
}

impl SalesOrderView {
    /// The lines as the pricing domain sees them, to total the invoice.
    pub fn sales_lines(&self) -> Vec<SalesLine> {
        self.lines
            .iter()
            .map(|l| SalesLine {
                bought: BoughtLine {
                    purchase_order_id: l.purchase_order_id,
                    line_number: l.line_number,
                    product_id: l.product_id,
                    quantity: u32::try_from(l.quantity).unwrap_or(0),
                    purchase_unit_price: l.purchase_unit_price,
                    platform_fee_percent: l.platform_fee_percent,
                    tax_rate: l.tax_rate,
                },
                unit_price: l.unit_price,
                line_total: l.line_total,
            })
            .collect()
    }
}

/// The invoice of a sales order, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    /// `INV-YYYY-NNNNNN`.
    pub number: String,
    /// Invoice date.
    pub invoice_date: NaiveDate,
    /// Due date.
    pub due_date: NaiveDate,
    /// Billed totals.
    pub totals: Totals,
    /// Cancelled purchase orders, whose lines are credited.
    pub credited: Vec<Uuid>,
}

/// Marks a sales order INVOICED with its invoice, crediting the lines of the cancelled
/// purchase orders it names.
pub async fn write_invoice(
    conn: &mut PgConnection,
    id: Uuid,
    invoice: &NewInvoice,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sales_orders SET status = 'INVOICED', version = version + 1, \
           invoice_number = $2, invoice_date = $3, due_date = $4, \
           invoiced_total_excluding_tax = $5, invoiced_tax_amount = $6, \
           invoiced_total_including_tax = $7, invoiced_at = $8, updated_at = $8, \
           credited_purchase_order_ids = $9 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(&invoice.number)
    .bind(invoice.invoice_date)
    .bind(invoice.due_date)
    .bind(invoice.totals.excluding_tax)
    .bind(invoice.totals.tax_amount)
    .bind(invoice.totals.including_tax)
    .bind(now)
    .bind(&invoice.credited)
    .execute(conn)
    .await?;
    Ok(())
}
