//! Gauges read on a timer: the JetStream streams and consumers (through the JetStream API,
//! not the NATS monitoring port), the database pool, the NATS connection, and what each role
//! owns in PostgreSQL (the worker: outbox and dead letters; the notifier: its backlog and the
//! webhook endpoints).

use std::time::{Duration, Instant};

use async_nats::jetstream;
use metrics::{gauge, histogram};
use sqlx::PgPool;
use tokio::task::JoinHandle;

use super::metrics as m;
use super::queues;
use crate::db::process_heartbeats::{self, Heartbeat};
use crate::db::{dead_letters, notification_messages, outbox, webhook_endpoints};
use crate::domain::dead_letter_reason::DeadLetterReason;
use crate::messaging::Namespace;

/// How often gauges are read.
pub const PERIOD: Duration = Duration::from_secs(5);

/// Which process samples: each reads what it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The HTTP ingress.
    Ingress,
    /// A command worker.
    Worker,
    /// A notifier.
    Notifier,
}

impl Role {
    /// Its name, as in logs and the ops registry.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingress => "ingress",
            Role::Worker => "worker",
            Role::Notifier => "notifier",
        }
    }
}

/// What the samplers read.
#[derive(Clone)]
pub struct Sources {
    /// The process's pool.
    pub db: PgPool,
    /// Its NATS connection.
    pub nats: async_nats::Client,
    /// JetStream on it.
    pub js: jetstream::Context,
    /// The namespace of the streams.
    pub ns: Namespace,
    /// The pool's limit.
    pub max_connections: u32,
    /// What this process reports of itself.
    pub heartbeat: Heartbeat,
}

/// A running sampler; dropping it stops it.
pub struct Sampler(JoinHandle<()>);

impl Drop for Sampler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Samples every [`PERIOD`] (the first time at once) until dropped.
pub fn start(role: Role, sources: Sources) -> Sampler {
    Sampler(tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        if let Err(error) = process_heartbeats::prune(&sources.db).await {
            tracing::debug!(%error, "old heartbeats not pruned");
        }
        loop {
            tick.tick().await;
            sample(role, &sources).await;
        }
    }))
}

/// One round of readings; a source that fails keeps its last value and is logged at debug.
pub async fn sample(role: Role, s: &Sources) {
    if let Err(error) = process_heartbeats::beat(&s.db, &s.heartbeat).await {
        tracing::debug!(%error, "heartbeat not written");
    }
    pool(s).await;
    nats(s);
    if role != Role::Ingress
        && let Err(error) = streams(s).await
    {
        tracing::debug!(%error, "stream gauges not read");
    }
    let owned = match role {
        Role::Ingress => Ok(()),
        Role::Worker => worker_tables(&s.db).await,
        Role::Notifier => notifier_tables(&s.db).await,
    };
    if let Err(error) = owned {
        tracing::debug!(%error, "table gauges not read");
    }
}

async fn pool(s: &Sources) {
    let idle = s.db.num_idle() as f64;
    gauge!(m::POOL_CONNECTIONS, "state" => "idle").set(idle);
    gauge!(m::POOL_CONNECTIONS, "state" => "in_use").set(f64::from(s.db.size()) - idle);
    gauge!(m::POOL_MAX).set(f64::from(s.max_connections));
    // How long a request would wait for a connection now.
    let started = Instant::now();
    if s.db.acquire().await.is_ok() {
        histogram!(m::POOL_ACQUIRE).record(started.elapsed().as_secs_f64());
    }
}

fn nats(s: &Sources) {
    let connected = s.nats.connection_state() == async_nats::connection::State::Connected;
    gauge!(m::NATS_CONNECTED).set(if connected { 1.0 } else { 0.0 });
    let connects = s
        .nats
        .statistics()
        .connects
        .load(std::sync::atomic::Ordering::Relaxed);
    gauge!(m::NATS_RECONNECTS).set(connects.saturating_sub(1) as f64);
}

async fn streams(s: &Sources) -> anyhow::Result<()> {
    for stream in queues::read(&s.js, &s.ns).await? {
        let label = stream.name;
        gauge!(m::STREAM_MESSAGES, "stream" => label.clone()).set(stream.messages as f64);
        gauge!(m::STREAM_BYTES, "stream" => label.clone()).set(stream.bytes as f64);
        for consumer in stream.consumers {
            let labels = [("stream", label.clone()), ("consumer", consumer.name)];
            gauge!(m::CONSUMER_PENDING, &labels).set(consumer.pending as f64);
            gauge!(m::CONSUMER_ACK_PENDING, &labels).set(consumer.ack_pending as f64);
            gauge!(m::CONSUMER_REDELIVERED, &labels).set(consumer.redelivered as f64);
            gauge!(m::CONSUMER_WAITING, &labels).set(consumer.waiting as f64);
        }
    }
    Ok(())
}

async fn worker_tables(db: &PgPool) -> sqlx::Result<()> {
    let (rows, oldest) = outbox::lag(db).await?;
    gauge!(m::OUTBOX_ROWS).set(rows as f64);
    gauge!(m::OUTBOX_AGE).set(oldest.unwrap_or(0.0));
    // Every known reason is set, so a series falls back to 0 once its letters are resolved.
    let open = dead_letters::count_by_reason(db).await?;
    for reason in DeadLetterReason::ALL.map(DeadLetterReason::as_str) {
        let count = open
            .iter()
            .find(|(r, _)| r == reason)
            .map_or(0, |(_, n)| *n);
        gauge!(m::DEAD_LETTERS, "reason" => reason).set(count as f64);
    }
    Ok(())
}

async fn notifier_tables(db: &PgPool) -> sqlx::Result<()> {
    let (enabled, disabled, failing) = webhook_endpoints::count_by_state(db).await?;
    gauge!(m::WEBHOOK_ENDPOINTS, "state" => "enabled").set(enabled as f64);
    gauge!(m::WEBHOOK_ENDPOINTS, "state" => "disabled").set(disabled as f64);
    gauge!(m::WEBHOOK_ENDPOINTS, "state" => "failing").set(failing as f64);
    let pending = notification_messages::oldest_pending(db).await?;
    for channel in ["WEBHOOK", "EMAIL"] {
        let age = pending
            .iter()
            .find(|(c, _)| c == channel)
            .map_or(0.0, |(_, age)| *age);
        gauge!(m::NOTIFICATION_AGE, "channel" => channel.to_lowercase()).set(age);
    }
    Ok(())
}
