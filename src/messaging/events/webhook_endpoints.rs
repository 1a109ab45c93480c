//! Webhook-endpoint events, routed by supplier: the test event an owner asks for, and the
//! notice that the notifier disabled an endpoint.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::EventSpec;

/// Type of the test event.
pub const WEBHOOK_TEST: &str = "webhook.test";
/// Type of the disabled-endpoint notice.
pub const WEBHOOK_ENDPOINT_DISABLED: &str = "webhook_endpoint.disabled";

/// `webhook.test`: delivered to one endpoint only, on its owner's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookTest {
    /// The endpoint it is for.
    pub endpoint_id: Uuid,
    /// Its supplier.
    pub supplier_id: Uuid,
    /// A fixed explanation for whoever reads the receiver's log.
    pub message: String,
}

impl WebhookTest {
    /// The id of the test event a command asks for: derived, so the ingress can name it in
    /// its answer before the worker has run.
    pub fn event_id_for(command_id: Uuid) -> Uuid {
        Uuid::new_v5(&command_id, b"event:webhook.test")
    }
}

impl EventSpec for WebhookTest {
    const VERSION: u32 = 1;

    fn kind(&self) -> &'static str {
        WEBHOOK_TEST
    }

    fn routing(&self) -> String {
        self.supplier_id.to_string()
    }
}

/// `webhook_endpoint.disabled`: nothing more is delivered to the endpoint until re-enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpointDisabled {
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// Its supplier.
    pub supplier_id: Uuid,
    /// Its URL.
    pub url: String,
    /// Why it was disabled.
    pub reason: String,
}

impl EventSpec for WebhookEndpointDisabled {
    const VERSION: u32 = 1;

    fn kind(&self) -> &'static str {
        WEBHOOK_ENDPOINT_DISABLED
    }

    fn routing(&self) -> String {
        self.supplier_id.to_string()
    }
}
