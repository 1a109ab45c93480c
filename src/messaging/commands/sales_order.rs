//! `sales_order.invoice`: staff invoice Blue Whale's sales order to a station. The dates are
//! fixed when the request is accepted, so a redelivered command writes the same invoice.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::messaging::command::CommandSpec;

/// Invoices one sales order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceSalesOrder {
    /// The sales order.
    pub sales_order_id: Uuid,
    /// The version the client saw (`If-Match`).
    pub expected_version: Option<i32>,
    /// Invoice date: the business date the request was accepted on.
    pub invoice_date: NaiveDate,
    /// Due date: the invoice date plus the payment term setting.
    pub due_date: NaiveDate,
}

impl CommandSpec for InvoiceSalesOrder {
    const TYPE: &'static str = "sales_order.invoice";
    const VERSION: u32 = 1;
    const AGGREGATE: &'static str = "sales_order";

    fn aggregate_id(&self) -> Uuid {
        self.sales_order_id
    }
}
