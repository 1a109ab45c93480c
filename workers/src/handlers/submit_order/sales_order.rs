//! The sales order of a priced master order: Blue Whale resells every purchase-order line to
//! the station at the line's contract fee (DESIGN §5, issue 8 §4). The resale terms are
//! written on the purchase-order lines themselves; the sales order is one header row.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use bluewhale::db::order_writes::{NewPurchaseOrderLine, NewSalesOrder};
use bluewhale::domain::sales_order_pricing::{BoughtLine, price_sales_order};
use bluewhale::messaging::commands::SubmitOrder;
use bluewhale::messaging::envelope::Envelope;

/// Prices the resale of one master order's purchase-order lines (setting their resale
/// fields) and returns its sales order; `fees` is the platform fee by contract (a contract
/// without one charges 0).
pub fn resell(
    cmd: &Envelope<SubmitOrder>,
    lines: &mut [NewPurchaseOrderLine],
    fees: &HashMap<Uuid, Decimal>,
    number: String,
    now: DateTime<Utc>,
) -> NewSalesOrder {
    let bought: Vec<BoughtLine> = lines
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
        .collect();
    let (sold, totals) = price_sales_order(&bought);
    for (line, sold) in lines.iter_mut().zip(sold) {
        line.platform_fee_percent = sold.bought.platform_fee_percent;
        line.sales_unit_price = sold.unit_price;
        line.sales_line_total = sold.line_total;
    }
    NewSalesOrder {
        id: Uuid::now_v7(),
        number,
        master_order_id: cmd.data.order_id,
        station_id: cmd.data.station_id,
        order_date: cmd.data.order_date,
        total_excluding_tax: totals.excluding_tax,
        tax_amount: totals.tax_amount,
        total_including_tax: totals.including_tax,
        created_at: now,
    }
}

/// A line as the sales order's CREATE audit row records it.
#[derive(Serialize)]
pub struct ResoldLine {
    /// The purchase-order line resold.
    pub purchase_order_line_id: Uuid,
    /// The contract's fee, in percent.
    pub platform_fee_percent: Decimal,
    /// What the station pays per unit.
    pub unit_price: Decimal,
    /// unit_price × quantity.
    pub line_total: Decimal,
}

/// What the sales order's CREATE audit row records: the order with its lines inside, one
/// row for the whole document.
#[derive(Serialize)]
pub struct SalesOrderCreated<'a> {
    /// The header.
    #[serde(flatten)]
    pub order: &'a NewSalesOrder,
    /// The lines.
    pub lines: Vec<ResoldLine>,
}

impl<'a> SalesOrderCreated<'a> {
    /// The audit record of `order`, whose lines are `lines` (the master order's).
    pub fn new(order: &'a NewSalesOrder, lines: &[NewPurchaseOrderLine]) -> Self {
        Self {
            order,
            lines: lines
                .iter()
                .map(|l| ResoldLine {
                    purchase_order_line_id: l.id,
                    platform_fee_percent: l.platform_fee_percent,
                    unit_price: l.sales_unit_price,
                    line_total: l.sales_line_total,
                })
                .collect(),
        }
    }
}
