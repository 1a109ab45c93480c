//! Command payloads (the `data` of an envelope).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::order::OrderLine;

/// Schema version of [`SubmitOrder`].
pub const SUBMIT_ORDER_VERSION: u32 = 1;

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
    /// The client's idempotency key.
    pub idempotency_key: String,
    /// Hex SHA-256 of the canonical request body.
    pub request_hash: String,
    /// When the ingress accepted the order.
    pub accepted_at: DateTime<Utc>,
    /// Calendar date of acceptance in the business time zone: pricing uses it, so a backlog
    /// never changes prices.
    pub order_date: NaiveDate,
}
