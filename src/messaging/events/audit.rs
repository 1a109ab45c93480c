//! `audit.recorded`: every audit row is also published, on `bw.evt.audit.<entity_type>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::EventSpec;
use crate::domain::audit::AuditAction;
use crate::messaging::envelope::Actor;

/// Type of audit events.
pub const AUDIT_RECORDED: &str = "audit.recorded";

/// One audit row (DESIGN.md §5.5), as written and as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Row id, also the id of the audit event published for it.
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
    /// Client address, for authentication events.
    pub client_address: Option<String>,
}

impl EventSpec for AuditRecord {
    const VERSION: u32 = 1;

    fn kind(&self) -> &'static str {
        AUDIT_RECORDED
    }

    fn topic(&self) -> &'static str {
        "audit"
    }

    fn routing(&self) -> String {
        self.entity_type.clone()
    }
}
