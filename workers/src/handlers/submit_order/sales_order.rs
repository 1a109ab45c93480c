//! The sales order of a priced master order: Blue Whale resells every purchase-order line to
//! the station at the line's contract fee (DESIGN §5, issue 8 §4).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use bluewhale::db::order_writes::{NewPurchaseOrderLine, NewSalesOrder, NewSalesOrderLine};
use bluewhale::domain::sales_order_pricing::{BoughtLine, price_sales_order};
use bluewhale::messaging::commands::SubmitOrder;
use bluewhale::messaging::envelope::Envelope;

use crate::handler::derived_id as derived;

/// The sales-order row and its lines for the purchase-order lines of one master order, in
/// their order; `fees` is the platform fee by contract (a contract without one charges 0).
pub fn sales_order_rows(
    cmd: &Envelope<SubmitOrder>,
    bought: &[NewPurchaseOrderLine],
    fees: &HashMap<Uuid, Decimal>,
    number: String,
    now: DateTime<Utc>,
) -> (NewSalesOrder, Vec<NewSalesOrderLine>) {
    let id = sales_order_id(cmd.data.order_id);
    let (priced, totals) = price_sales_order(
        &bought
            .iter()
            .map(|l| BoughtLine {
                purchase_order_id: l.purchase_order_id,
                line_number: l.line_number,
                product_id: l.product_id,
                // Quantities were validated as positive u32 at the ingress.
                quantity: u32::try_from(l.quantity).unwrap_or(0),
                purchase_unit_price: l.unit_price,
                platform_fee_percent: fees.get(&l.contract_id).copied().unwrap_or_default(),
                tax_rate: l.tax_rate,
            })
            .collect::<Vec<_>>(),
    );
    let lines = priced
        .into_iter()
        .zip(bought)
        .enumerate()
        .map(|(i, (sold, line))| {
            let line_number = i32::try_from(i + 1).unwrap_or(i32::MAX);
            NewSalesOrderLine {
                sales_order_id: id,
                line_number,
                purchase_order_id: line.purchase_order_id,
                purchase_order_line_id: line.id,
                product_id: line.product_id,
                product_code: line.product_code.clone(),
                product_name: line.product_name.clone(),
                conditioning_unit: line.conditioning_unit.clone(),
                quantity: line.quantity,
                purchase_unit_price: line.unit_price,
                platform_fee_percent: sold.bought.platform_fee_percent,
                unit_price: sold.unit_price,
                tax_rate: line.tax_rate,
                line_total: sold.line_total,
            }
        })
        .collect();
    let row = NewSalesOrder {
        id,
        number,
        master_order_id: cmd.data.order_id,
        station_id: cmd.data.station_id,
        order_date: cmd.data.order_date,
        total_excluding_tax: totals.excluding_tax,
        tax_amount: totals.tax_amount,
        total_including_tax: totals.including_tax,
        created_at: now,
    };
    (row, lines)
}

/// The id of a master order's sales order.
pub fn sales_order_id(order_id: Uuid) -> Uuid {
    derived(order_id, "sales_order")
}

/// What the sales order's CREATE audit row records: the order with its lines inside, one
/// row for the whole document.
#[derive(Serialize)]
pub struct SalesOrderCreated<'a> {
    /// The header.
    #[serde(flatten)]
    pub order: &'a NewSalesOrder,
    /// The lines.
    pub lines: &'a [NewSalesOrderLine],
}
