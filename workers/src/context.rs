//! What every handler shares.

use std::sync::Arc;

use async_nats::jetstream;
use sqlx::PgPool;
use tokio::sync::Notify;

use bluewhale::messaging::Namespace;

use crate::disposition::RetryPolicy;

/// Shared worker state.
#[derive(Clone)]
pub struct WorkerContext {
    /// PostgreSQL pool.
    pub db: PgPool,
    /// JetStream (dead-letter publishing, outbox relay).
    pub js: jetstream::Context,
    /// Subject and stream namespace.
    pub ns: Namespace,
    /// Retry decisions.
    pub retry: RetryPolicy,
    /// Wakes the outbox relay when a transaction committed events.
    pub outbox_ready: Arc<Notify>,
}
