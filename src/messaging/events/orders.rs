//! Master-order events, routed by station: `order.priced`, `order.rejected`,
//! `order.status_changed`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::EventSpec;
use crate::domain::money::two_decimals;
use crate::domain::rejection::Rejection;

/// Type of the event of a priced order.
pub const ORDER_PRICED: &str = "order.priced";
/// Type of the event of a rejected order.
pub const ORDER_REJECTED: &str = "order.rejected";
/// Type of the event of a master order whose derived status changed.
pub const ORDER_STATUS_CHANGED: &str = "order.status_changed";

/// One purchase order of a processed order, in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseOrderSummary {
    /// Id.
    pub id: Uuid,
    /// `PO-YYYY-NNNNNN`.
    pub number: String,
    /// Supplier.
    pub supplier_id: Uuid,
    /// Σ line totals.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: Decimal,
    /// VAT.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_amount: Decimal,
    /// Both.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_including_tax: Decimal,
}

/// The sales order of a priced order, in brief (stations and staff only see this event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalesOrderSummary {
    /// Id.
    pub id: Uuid,
    /// `SO-YYYY-NNNNNN`.
    pub number: String,
    /// Σ line totals at the station's prices.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: Decimal,
    /// VAT.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_amount: Decimal,
    /// Both.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_including_tax: Decimal,
}

/// A submitted order was priced (split into purchase orders) or rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderProcessed {
    /// Master order id.
    pub order_id: Uuid,
    /// `MO-YYYY-NNNNNN`.
    pub reference: String,
    /// Ordering station.
    pub station_id: Uuid,
    /// REGISTERED or REJECTED.
    pub status: String,
    /// Pricing date.
    pub order_date: NaiveDate,
    /// Σ excluding VAT.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: Decimal,
    /// Σ VAT.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_amount: Decimal,
    /// Σ including VAT.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_including_tax: Decimal,
    /// Why it was rejected.
    pub rejection: Option<Rejection>,
    /// Its purchase orders (none when rejected).
    pub purchase_orders: Vec<PurchaseOrderSummary>,
    /// Blue Whale's sales order to the station (none when rejected); absent from events
    /// written before sales orders existed.
    #[serde(default)]
    pub sales_order: Option<SalesOrderSummary>,
}

impl EventSpec for OrderProcessed {
    const VERSION: u32 = 1;

    fn kind(&self) -> &'static str {
        if self.rejection.is_some() {
            ORDER_REJECTED
        } else {
            ORDER_PRICED
        }
    }

    fn routing(&self) -> String {
        self.station_id.to_string()
    }
}

/// A master order's status, derived from its purchase orders, changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderStatusChanged {
    /// Master order id.
    pub order_id: Uuid,
    /// `MO-YYYY-NNNNNN`.
    pub reference: String,
    /// Ordering station.
    pub station_id: Uuid,
    /// Status before.
    pub from_status: String,
    /// Status after, e.g. `PARTIALLY_CONFIRMED`.
    pub to_status: String,
    /// The master order's version after the change.
    pub version: i32,
}

impl EventSpec for OrderStatusChanged {
    const VERSION: u32 = 1;

    fn kind(&self) -> &'static str {
        ORDER_STATUS_CHANGED
    }

    fn routing(&self) -> String {
        self.station_id.to_string()
    }
}
