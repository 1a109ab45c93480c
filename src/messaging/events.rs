//! Event payloads written to the outbox and published on the EVENTS stream.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// An event as published: `{id, type, version, occurred_at, data}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Event id, also the `Nats-Msg-Id`.
    pub id: Uuid,
    /// Event type, e.g. `order.priced`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Schema version of `data`.
    pub version: u32,
    /// When the change committed.
    pub occurred_at: DateTime<Utc>,
    /// The command that caused it.
    pub command_id: Option<Uuid>,
    /// Event-specific payload.
    pub data: Value,
}

/// An outbox row about to be written: the subject and the event.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    /// Full subject (namespace included).
    pub subject: String,
    /// The event.
    pub event: Event,
}
