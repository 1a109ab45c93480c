//! The command envelope (DESIGN.md §3): `{id, type, version, issued_at, actor, request_id, data}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::command::CommandSpec;
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

impl Actor {
    /// The system itself (the notifier disabling a failing endpoint): no user, Blue Whale.
    pub const SYSTEM: Actor = Actor {
        user_id: Uuid::nil(),
        role: Role::Admin,
        org_type: OrgType::Bluewhale,
        org_id: None,
    };

    /// Whether this is [`Actor::SYSTEM`] (users always have a real id).
    pub fn is_system(&self) -> bool {
        self.user_id.is_nil()
    }
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
    /// The client's idempotency key and the hash of its request, when a client sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<Idempotency>,
    /// The command's payload.
    pub data: T,
}

/// What tells a replay (same key, same request) from a reused key (same key, other request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Idempotency {
    /// The `Idempotency-Key` header.
    pub key: String,
    /// Hex SHA-256 of the command type, aggregate and canonical request.
    pub request_hash: String,
}

impl<T: CommandSpec> Envelope<T> {
    /// The envelope of a command issued now by `actor`.
    pub fn new(
        id: Uuid,
        issued_at: DateTime<Utc>,
        actor: Actor,
        request_id: Option<String>,
        idempotency: Option<Idempotency>,
        data: T,
    ) -> Self {
        Self {
            id,
            kind: T::TYPE.to_owned(),
            version: T::VERSION,
            issued_at,
            actor,
            request_id,
            idempotency,
            data,
        }
    }
}

impl<T> Envelope<T> {
    /// The same envelope with its payload converted (decoding a raw payload, say).
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Envelope<U>, E> {
        Ok(Envelope {
            id: self.id,
            kind: self.kind,
            version: self.version,
            issued_at: self.issued_at,
            actor: self.actor,
            request_id: self.request_id,
            idempotency: self.idempotency,
            data: f(self.data)?,
        })
    }
}
