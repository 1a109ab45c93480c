//! `purchase_order.transition`: move one purchase order along its lifecycle.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::purchase_order_lifecycle::Transition;
use crate::messaging::command::CommandSpec;

/// Applies one lifecycle step (confirm, ship, receive, close, cancel, invoice, archive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionPurchaseOrder {
    /// The purchase order.
    pub purchase_order_id: Uuid,
    /// The version the client saw (`If-Match`), checked by the worker under the row lock.
    pub expected_version: Option<i32>,
    /// The step and its details.
    pub transition: Transition,
}

impl CommandSpec for TransitionPurchaseOrder {
    const TYPE: &'static str = "purchase_order.transition";
    const VERSION: u32 = 1;
    const AGGREGATE: &'static str = "purchase_order";

    fn aggregate_id(&self) -> Uuid {
        self.purchase_order_id
    }
}
