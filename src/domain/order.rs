//! The order as the pricing step sees it: who orders, on which date, which lines.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One requested line: a product bought from a chosen supplier, in conditioning units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Product ordered.
    pub product_id: Uuid,
    /// Supplier the station chose for this product.
    pub supplier_id: Uuid,
    /// Quantity in conditioning units.
    pub quantity: u32,
}

/// Everything pricing needs about the order itself; the catalogue comes separately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderToPrice {
    /// Whether the ordering station is active; an inactive station cannot order.
    pub station_active: bool,
    /// Business-time-zone date the ingress accepted the order; prices are taken on this date.
    pub order_date: NaiveDate,
    /// Lines in request order; indexes in rejections refer to positions in this vector.
    pub lines: Vec<OrderLine>,
}
