//! Purchase-order events, routed by supplier: `purchase_order.created` and one type per
//! status reached (`purchase_order.confirmed`, `purchase_order.shipped`, …).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::EventSpec;
use crate::db::purchase_orders::PurchaseOrderView;
use crate::domain::purchase_order_status::PurchaseOrderStatus;

/// Type of the event of a new purchase order.
pub const PURCHASE_ORDER_CREATED: &str = "purchase_order.created";

/// A purchase order was created by the split of a master order; everything the supplier
/// needs to fulfil it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PurchaseOrderCreated {
    /// The purchase order with its lines, as `GET /purchase-orders/{id}` shows it.
    pub purchase_order: PurchaseOrderView,
    /// The master order's reference.
    pub master_order_reference: String,
    /// Delivery date the station asked for.
    pub requested_delivery_date: Option<NaiveDate>,
    /// The station's notes.
    pub notes: Option<String>,
}

impl EventSpec for PurchaseOrderCreated {
    const VERSION: u32 = 1;

    fn kind(&self) -> &'static str {
        PURCHASE_ORDER_CREATED
    }

    fn routing(&self) -> String {
        self.purchase_order.supplier_id.to_string()
    }
}

/// A purchase order moved along its lifecycle; the type names the status reached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PurchaseOrderChanged {
    /// Status before.
    pub from_status: PurchaseOrderStatus,
    /// The purchase order after the change.
    pub purchase_order: PurchaseOrderView,
}

/// The event type announcing that a purchase order reached `status`.
pub fn status_event_type(status: PurchaseOrderStatus) -> &'static str {
    match status {
        PurchaseOrderStatus::Registered => "purchase_order.registered",
        PurchaseOrderStatus::Confirmed => "purchase_order.confirmed",
        PurchaseOrderStatus::Shipped => "purchase_order.shipped",
        PurchaseOrderStatus::Received => "purchase_order.received",
        PurchaseOrderStatus::Closed => "purchase_order.closed",
        PurchaseOrderStatus::Invoiced => "purchase_order.invoiced",
        PurchaseOrderStatus::Archived => "purchase_order.archived",
        PurchaseOrderStatus::Cancelled => "purchase_order.cancelled",
    }
}

/// Whether `kind` is one of the status types.
pub fn is_status_event(kind: &str) -> bool {
    PurchaseOrderStatus::ALL
        .into_iter()
        .any(|s| status_event_type(s) == kind)
}

impl EventSpec for PurchaseOrderChanged {
    const VERSION: u32 = 1;

    fn kind(&self) -> &'static str {
        // An unparsable status cannot occur: the view is read from a checked column.
        self.purchase_order
            .status
            .parse()
            .map_or("purchase_order.changed", status_event_type)
    }

    fn routing(&self) -> String {
        self.purchase_order.supplier_id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_types_are_lower_case_statuses() {
        for status in PurchaseOrderStatus::ALL {
            let kind = status_event_type(status);
            assert_eq!(
                kind,
                format!("purchase_order.{}", status.as_str().to_lowercase())
            );
            assert!(is_status_event(kind));
        }
        assert!(!is_status_event(PURCHASE_ORDER_CREATED));
    }
}
