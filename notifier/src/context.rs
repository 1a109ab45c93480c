//! What every part of the notifier shares.

use std::sync::Arc;

use async_nats::jetstream;
use sqlx::PgPool;
use tokio::sync::Notify;

use bluewhale::config::Config;
use bluewhale::messaging::Namespace;

use crate::email_transport::EmailTransport;
use crate::webhook_transport::WebhookTransport;

/// Connections, settings and transports of one notifier process.
#[derive(Clone)]
pub struct NotifierContext {
    /// PostgreSQL: the delivery state.
    pub db: PgPool,
    /// JetStream: events in, disable commands out.
    pub js: jetstream::Context,
    /// Subject namespace.
    pub ns: Namespace,
    /// Settings.
    pub config: Arc<Config>,
    /// Webhook requests.
    pub webhooks: WebhookTransport,
    /// E-mails.
    pub email: EmailTransport,
    /// Rung when the fan-out created messages, so delivery starts without waiting to poll.
    pub wake: Arc<Notify>,
}
