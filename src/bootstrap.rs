//! Start-up shared by the ingress and the workers: connect, migrate, ensure the streams.

use anyhow::Context;
use async_nats::jetstream;
use sqlx::PgPool;

use crate::config::Config;
use crate::db;
use crate::messaging::{self, Namespace, streams};

/// Connections every process needs.
pub struct Infrastructure {
    /// Subject and stream namespace.
    pub ns: Namespace,
    /// PostgreSQL pool.
    pub db: PgPool,
    /// NATS connection.
    pub nats: async_nats::Client,
    /// JetStream context on it.
    pub js: jetstream::Context,
}

/// Connects to PostgreSQL (migrating if configured) and NATS, and ensures the streams exist.
/// `client_name` shows in the NATS server's connection list.
pub async fn connect(config: &Config, client_name: &str) -> anyhow::Result<Infrastructure> {
    let ns = Namespace::new(config.nats.namespace.clone())
        .map_err(anyhow::Error::msg)
        .context("BW_NAMESPACE")?;
    let db = db::connect(&config.database.url, config.database.max_connections)
        .await
        .context("connecting to PostgreSQL (DATABASE_URL)")?;
    if config.database.migrate_on_start {
        db::migrate(&db).await.context("applying migrations")?;
    }
    let nats = messaging::connect(&config.nats.url, client_name)
        .await
        .context("connecting to NATS (NATS_URL)")?;
    let js = jetstream::new(nats.clone());
    streams::ensure_streams(&js, &ns)
        .await
        .context("setting up JetStream streams")?;
    Ok(Infrastructure { ns, db, nats, js })
}
