//! Sales-order events, routed by station: `sales_order.invoiced`. Only the station and staff
//! see them (a supplier must not see Blue Whale's prices to the station).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::EventSpec;
use crate::domain::money::two_decimals;

/// Type of the event of an invoiced sales order.
pub const SALES_ORDER_INVOICED: &str = "sales_order.invoiced";

/// A sales order was invoiced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesOrderInvoiced {
    /// Sales order id.
    pub sales_order_id: Uuid,
    /// `SO-YYYY-NNNNNN`.
    pub number: String,
    /// The master order it bills.
    pub master_order_id: Uuid,
    /// Billed station.
    pub station_id: Uuid,
    /// `INV-YYYY-NNNNNN`.
    pub invoice_number: String,
    /// Invoice date.
    pub invoice_date: NaiveDate,
    /// Payment due date.
    pub due_date: NaiveDate,
    /// Billed, excluding VAT.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: Decimal,
    /// VAT.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_amount: Decimal,
    /// Both.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_including_tax: Decimal,
}

impl EventSpec for SalesOrderInvoiced {
    const VERSION: u32 = 1;

    fn kind(&self) -> &'static str {
        SALES_ORDER_INVOICED
    }

    fn routing(&self) -> String {
        self.station_id.to_string()
    }
}
