//! `audit.recorded`: the audit rows of one command (or one audited action without a command)
//! are published together as one event, on `bw.evt.audit.<entity_type>` of the first row (the
//! aggregate the command changed). One event per command rather than per row keeps the
//! EVENTS stream, and the relay's publishes, proportional to commands, not to rows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::EventSpec;
use crate::domain::audit::AuditAction;
use crate::messaging::envelope::Actor;

/// Type of audit events.
pub const AUDIT_RECORDED: &str = "audit.recorded";

/// One audit row (DESIGN.md §5.5), as written, and as published inside [`AuditRecorded`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Row id; the first row's is also the id of the [`AuditRecorded`] event carrying it.
    pub id: Uuid,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// Who made it; `None` for the system (migrations, seed).
    pub actor: Option<Actor>,
    /// CREATE, UPDATE, TRANSITION, …
    pub action: AuditAction,
    /// `master_order`, `purchase_order`, …
    pub entity_type: String,
    /// The changed row.
    pub entity_id: Option<Uuid>,
    /// `{field: {old, new}}`, only fields that changed.
    pub changes: Value,
    /// Command that caused the change.
    pub command_id: Option<Uuid>,
    /// Request that carried the command.
    pub request_id: Option<String>,
    /// Free-text reason, where the action takes one.
    pub reason: Option<String>,
    /// Where a security event came from. Personal data with a retention limit: stored apart
    /// from the append-only row (`audit_clients`) and never published with the event, since
    /// a stream cannot forget it.
    #[serde(skip)]
    pub client: Option<ClientInfo>,
}

/// The client behind a security event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// Peer address.
    pub address: Option<String>,
    /// `User-Agent` header, bounded.
    pub user_agent: Option<String>,
}

/// `audit.recorded` v2: the audit rows one command wrote, in the order it wrote them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecorded {
    /// The rows (never empty).
    pub records: Vec<AuditRecord>,
}

impl EventSpec for AuditRecorded {
    const VERSION: u32 = 2;

    fn kind(&self) -> &'static str {
        AUDIT_RECORDED
    }

    fn topic(&self) -> &'static str {
        "audit"
    }

    fn routing(&self) -> String {
        self.records
            .first()
            .map_or_else(String::new, |r| r.entity_type.clone())
    }
}
