//! Blue Whale workers: apply commands from JetStream to PostgreSQL, relay events back.

pub mod consumer;
pub mod consumer_lifecycle;
pub mod context;
pub mod contract_expiry;
pub mod dead_letter;
pub mod decode;
pub mod disposition;
pub mod drain;
pub mod failpoint;
pub mod handler;
pub mod handlers;
pub mod periodic;
pub mod personal_data_retention;
pub mod registry;
pub mod relay;
pub mod runner;
pub mod settle;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream;
use tokio::sync::{Notify, watch};

use bluewhale::config::Config;
use bluewhale::messaging::streams;
use bluewhale::{bootstrap, ops};

use crate::consumer::ConsumerSettings;
use crate::consumer_lifecycle::ConsumerSource;
use crate::context::WorkerContext;
use crate::disposition::RetryPolicy;
use crate::drain::Drain;
use crate::registry::Registry;

/// Timeout of the worker's JetStream requests and publish acks.
const NATS_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs a worker (consumer and outbox relay) until `shutdown` resolves, then drains: batches
/// in flight finish and are acknowledged, and the relay publishes what they committed, all
/// within the drain deadline (BW_DRAIN_TIMEOUT_SECS) after which the rest is abandoned.
/// An error if the consumer is lost and cannot be recreated, so a supervisor restarts the
/// process.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    let infra = bootstrap::connect(&config, "bluewhale-worker").await?;
    let _ops = ops::start(ops::Role::Worker, &config, &infra).await?;
    let bootstrap::Infrastructure {
        ns,
        db: pool,
        nats,
        js: _,
    } = infra;
    // Explicit and short: an API request or publish ack lost with a dead connection fails
    // after this long instead of holding a batch, a recovery or the relay.
    let js = jetstream::ContextBuilder::new()
        .timeout(NATS_TIMEOUT)
        .build(nats.clone());
    let settings = ConsumerSettings {
        batch_size: config.worker.batch_size,
        concurrency: config.worker.concurrency,
    };
    let limits = streams::ConsumerLimits {
        ack_wait: config.worker.ack_wait,
        max_deliver: config.worker.max_deliver,
        // Room for several worker processes, each with all its batches in flight.
        max_ack_pending: i64::try_from(settings.batch_size * settings.concurrency * 8)
            .unwrap_or(i64::MAX),
    };
    let source = ConsumerSource {
        js: js.clone(),
        ns: ns.clone(),
        limits,
        settings,
    };
    let consumer = streams::ensure_order_workers(&js, &ns, limits)
        .await
        .context("setting up the order-workers consumer")?;
    let ctx = WorkerContext {
        db: pool,
        js,
        ns,
        retry: RetryPolicy {
            max_deliver: config.worker.max_deliver,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        },
        outbox_ready: Arc::new(Notify::new()),
    };
    let (stop_background, background_stop) = watch::channel(false);
    let mut relay = tokio::spawn(relay::run(ctx.clone(), background_stop.clone()));
    let expiry = tokio::spawn(contract_expiry::run(
        ctx.clone(),
        config.business_timezone,
        config.worker.contract_expiry_interval,
        background_stop.clone(),
    ));
    let retention = tokio::spawn(personal_data_retention::run(
        ctx.clone(),
        config.worker.client_data_retention,
        config.worker.retention_interval,
        background_stop,
    ));
    tracing::info!(
        batch_size = settings.batch_size,
        concurrency = settings.concurrency,
        drain_timeout_secs = config.worker.drain_timeout.as_secs(),
        "worker started"
    );
    let registry = Arc::new(Registry::standard());
    let drain = Drain::new(config.worker.drain_timeout);
    let consumed = consumer::run(
        ctx.clone(),
        registry,
        source,
        consumer,
        drain.signal(shutdown),
        drain.clone(),
    )
    .await;
    let _ = stop_background.send(true);
    // A run in progress holds only its own transaction: abandoning it gives the run back.
    expiry.abort();
    retention.abort();
    match drain.bounded(&mut relay).await {
        Some(joined) => joined.context("outbox relay task")?,
        None => {
            // Its transaction rolls back: the rows stay in the outbox for the next relay.
            relay.abort();
            tracing::warn!("drain deadline reached: outbox relay stopped mid-round");
        }
    }
    if drain.bounded(nats.flush()).await.is_none() {
        tracing::warn!("drain deadline reached: NATS flush abandoned");
    }
    if drain.bounded(ctx.db.close()).await.is_none() {
        tracing::warn!("drain deadline reached: database pool not closed cleanly");
    }
    if consumed.is_ok() {
        tracing::info!("worker stopped");
    }
    consumed
}
