//! `webhook_endpoint.change`: every change of a supplier's webhook endpoint, and the delivery
//! repairs its owners ask for (resend, recover).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::domain::webhook_endpoint_changes::EndpointAction;
use crate::messaging::command::CommandSpec;

/// A signing secret sealed by the ingress (base64 of nonce || ciphertext): the plaintext never
/// travels on JetStream nor reaches the worker.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SealedSecret(pub String);

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSecret(***)")
    }
}

/// One change of an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum EndpointChange {
    /// Registers the endpoint (its id is the command id).
    Create {
        /// Checked URL.
        url: String,
        /// Free text.
        description: Option<String>,
        /// Subscribed types; none: every supplier event.
        event_types: Option<Vec<String>>,
        /// Its first signing secret.
        secret: SealedSecret,
    },
    /// Changes the fields present; a present `null` clears (description, event types).
    Update {
        /// New URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// New description, or `null` to clear.
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        description: Option<Option<String>>,
        /// New subscription, or `null` for every type.
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        event_types: Option<Option<Vec<String>>>,
        /// Enable or disable.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enabled: Option<bool>,
    },
    /// Deletes the endpoint: nothing more is delivered to it.
    Delete,
    /// A new signing secret; the current one keeps signing during the overlap.
    RotateSecret {
        /// The new secret.
        secret: SealedSecret,
        /// Until when the current one still signs.
        previous_expires_at: DateTime<Utc>,
    },
    /// Delivers a `webhook.test` event to this endpoint only.
    Test,
    /// Disabled by the notifier (410 Gone, or failing for too long).
    Disable {
        /// Why.
        reason: String,
    },
    /// Delivers one event to this endpoint again, whatever its delivery status.
    Resend {
        /// The event.
        event_id: Uuid,
    },
    /// Queues every FAILED message of this endpoint created since then again.
    Recover {
        /// Start of the window.
        since: DateTime<Utc>,
    },
}

impl EndpointChange {
    /// The kind of change, as the rules see it.
    pub fn rule(&self) -> EndpointAction {
        match self {
            EndpointChange::Create { .. } => EndpointAction::Create,
            EndpointChange::Update { .. }
            | EndpointChange::Delete
            | EndpointChange::RotateSecret { .. } => EndpointAction::Modify,
            EndpointChange::Disable { .. } => EndpointAction::Disable,
            EndpointChange::Test => EndpointAction::Test,
            EndpointChange::Resend { .. } | EndpointChange::Recover { .. } => {
                EndpointAction::Repair
            }
        }
    }

    /// Action name, for request hashes and logs.
    pub fn action(&self) -> &'static str {
        match self {
            EndpointChange::Create { .. } => "create",
            EndpointChange::Update { .. } => "update",
            EndpointChange::Delete => "delete",
            EndpointChange::RotateSecret { .. } => "rotate_secret",
            EndpointChange::Test => "test",
            EndpointChange::Disable { .. } => "disable",
            EndpointChange::Resend { .. } => "resend",
            EndpointChange::Recover { .. } => "recover",
        }
    }
}

/// A field that is present (even as `null`) deserialises as `Some`, so `Option<Option<T>>`
/// tells an absent field from an explicit `null`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Changes one webhook endpoint of one supplier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeWebhookEndpoint {
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// Its supplier (the path's), checked against the stored endpoint.
    pub supplier_id: Uuid,
    /// The version the client saw (`If-Match`).
    pub expected_version: Option<i32>,
    /// What to do.
    pub change: EndpointChange,
}

impl CommandSpec for ChangeWebhookEndpoint {
    const TYPE: &'static str = "webhook_endpoint.change";
    const VERSION: u32 = 1;
    const AGGREGATE: &'static str = "webhook_endpoint";

    fn aggregate_id(&self) -> Uuid {
        self.endpoint_id
    }

    /// A created endpoint's id is its command's id.
    fn belongs_to(&self, command_id: Uuid) -> bool {
        !matches!(self.change, EndpointChange::Create { .. }) || command_id == self.endpoint_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_tells_absent_from_null() {
        let update: EndpointChange =
            serde_json::from_str(r#"{"action":"update","description":null}"#).expect("valid");
        assert_eq!(
            update,
            EndpointChange::Update {
                url: None,
                description: Some(None),
                event_types: None,
                enabled: None
            }
        );
        let round: EndpointChange =
            serde_json::from_value(serde_json::to_value(&update).expect("serialise"))
                .expect("round trip");
        assert_eq!(round, update);
    }

    #[test]
    fn sealed_secrets_never_print() {
        let change = EndpointChange::RotateSecret {
            secret: SealedSecret("c2VjcmV0".into()),
            previous_expires_at: Utc::now(),
        };
        assert!(!format!("{change:?}").contains("c2VjcmV0"));
    }
}
