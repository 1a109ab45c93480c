//! The command envelope (DESIGN.md §3): `{id, type, version, issued_at, actor, request_id, data}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::roles::{OrgType, Role};

/// Who issued a command, as authenticated by the ingress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user.
    pub user_id: Uuid,
    /// Their role at issue time.
    pub role: Role,
    /// Their organisation kind.
    pub org_type: OrgType,
    /// Their organisation (none for Blue Whale staff).
    pub org_id: Option<Uuid>,
}

/// A command as it travels on JetStream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope<T> {
    /// Command id, also the `Nats-Msg-Id` (JetStream de-duplication).
    pub id: Uuid,
    /// Command type, e.g. `order.submit`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Version of the `data` schema for this type.
    pub version: u32,
    /// When the ingress accepted the command.
    pub issued_at: DateTime<Utc>,
    /// Who issued it.
    pub actor: Actor,
    /// The HTTP request that carried it.
    pub request_id: Option<String>,
    /// The command's payload.
    pub data: T,
}
