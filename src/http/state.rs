//! What every handler shares.

use std::sync::Arc;

use async_nats::jetstream;
use sqlx::PgPool;
use tokio::sync::watch;

use super::login_throttle::LoginLimits;
use super::revoked_sessions::RevokedSessions;
use crate::config::Config;
use crate::db::command_lookup::CommandLookup;
use crate::messaging::Namespace;
use crate::messaging::group_publish::GroupPublisher;
use crate::security::jwt::TokenKeys;
use crate::security::password_threads::PasswordThreads;

/// Shared, cheaply clonable application state.
#[derive(Clone)]
pub struct AppState {
    /// PostgreSQL pool (reads and auth bookkeeping only).
    pub db: PgPool,
    /// NATS connection (readiness).
    pub nats: async_nats::Client,
    /// JetStream context (publishing commands, reading pending ones).
    pub js: jetstream::Context,
    /// Subject and stream namespace.
    pub ns: Namespace,
    /// Access-token keys.
    pub tokens: Arc<TokenKeys>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Login and refresh limits (shared through PostgreSQL).
    pub login_limits: Arc<LoginLimits>,
    /// The threads that hash and verify passwords (bounded memory and CPU under a flood).
    pub password_threads: PasswordThreads,
    /// Sessions whose access tokens are refused.
    pub revoked_sessions: Arc<RevokedSessions>,
    /// Set when the ingress is shutting down: long-lived responses (event streams) end, so
    /// the graceful drain does not wait for them forever.
    pub closing: Arc<watch::Sender<bool>>,
    /// The write path's "processed already?" lookup, one query per group of requests.
    pub command_lookup: CommandLookup,
    /// Publishes commands by group commit: one atomic batch per group of requests.
    pub command_publisher: GroupPublisher,
    /// Ack floors of the consumers read by the ops overview, for its rates.
    pub consumer_rates: Arc<std::sync::Mutex<crate::ops::consumer_rates::ConsumerRates>>,
}
