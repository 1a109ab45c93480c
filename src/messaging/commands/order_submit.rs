//! `order.submit`: create, split and price a master order.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::order::OrderLine;
use crate::messaging::command::CommandSpec;

/// `order.submit`: create, split and price a master order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitOrder {
    /// The master order's id (derived from the user and idempotency key).
    pub order_id: Uuid,
    /// The ordering station.
    pub station_id: Uuid,
    /// Delivery date the station asks for.
    pub requested_delivery_date: Option<NaiveDate>,
    /// Free text for the suppliers.
    pub notes: Option<String>,
    /// Lines as requested.
    pub lines: Vec<OrderLine>,
    /// When the ingress accepted the order.
    pub accepted_at: DateTime<Utc>,
    /// Calendar date of acceptance in the business time zone: pricing uses it, so a backlog
    /// never changes prices.
    pub order_date: NaiveDate,
    /// The cart this order checks out, archived with it once it is priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart: Option<CartCheckout>,
}

/// The cart an order checks out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartCheckout {
    /// The open cart.
    pub cart_id: Uuid,
}

impl CommandSpec for SubmitOrder {
    const TYPE: &'static str = "order.submit";
    // 2: the idempotency key and request hash moved to the envelope.
    const VERSION: u32 = 2;
    const AGGREGATE: &'static str = "order";

    fn aggregate_id(&self) -> Uuid {
        self.order_id
    }

    /// A checkout waits on its cart's subject, so a second checkout of the cart finds it.
    fn subject_id(&self) -> Uuid {
        self.cart.map_or(self.order_id, |c| c.cart_id)
    }

    /// The order's id is its command's, whatever the subject names.
    fn pending_aggregate_id(_subject_id: Uuid, command_id: Uuid) -> Uuid {
        command_id
    }

    /// One command per order, ever: the command id is the order id.
    fn belongs_to(&self, command_id: Uuid) -> bool {
        command_id == self.order_id
    }
}
