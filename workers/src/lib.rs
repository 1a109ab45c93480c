//! Blue Whale workers: apply commands from JetStream to PostgreSQL, relay events back.

pub mod consumer;
pub mod context;
pub mod dead_letter;
pub mod decode;
pub mod disposition;
pub mod handler;
pub mod handlers;
pub mod registry;
pub mod relay;
pub mod runner;
pub mod settle;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{Notify, watch};

use bluewhale::config::Config;
use bluewhale::messaging::streams;
use bluewhale::{bootstrap, ops};

use crate::consumer::ConsumerSettings;
use crate::context::WorkerContext;
use crate::disposition::RetryPolicy;
use crate::registry::Registry;

/// Runs a worker (consumer and outbox relay) until `shutdown` resolves, then drains: batches
/// in flight finish and are acknowledged, and the relay publishes what they committed.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    let infra = bootstrap::connect(&config, "bluewhale-worker").await?;
    let _ops = ops::start(ops::Role::Worker, &config, &infra).await?;
    let bootstrap::Infrastructure {
        ns,
        db: pool,
        nats,
        js,
    } = infra;
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
    let (stop_relay, relay_stop) = watch::channel(false);
    let relay = tokio::spawn(relay::run(ctx.clone(), relay_stop));
    tracing::info!(
        batch_size = settings.batch_size,
        concurrency = settings.concurrency,
        "worker started"
    );
    let registry = Arc::new(Registry::standard());
    let consumed = consumer::run(ctx.clone(), registry, consumer, settings, shutdown).await;
    let _ = stop_relay.send(true);
    relay.await.context("outbox relay task")?;
    nats.flush().await.ok();
    ctx.db.close().await;
    tracing::info!("worker stopped");
    consumed
}
