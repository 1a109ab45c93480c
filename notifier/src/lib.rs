//! Blue Whale notifier: tells suppliers about their purchase orders. A fan-out consumer of the
//! EVENTS stream turns each supplier event into durable messages (one per subscribed webhook
//! endpoint, one e-mail where due); a delivery loop sends them with Standard Webhooks
//! signatures or over SMTP, retrying along the schedule. Any number of notifiers may run: a
//! message is leased to one at a time, and a recorded success is final.

pub mod context;
pub mod delivery;
pub mod email_content;
pub mod email_transport;
pub mod fan_out;
pub mod supplier_payload;
pub mod webhook_transport;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{Notify, watch};

use bluewhale::config::Config;
use bluewhale::messaging::streams;
use bluewhale::{bootstrap, ops};

use crate::context::NotifierContext;
use crate::email_transport::EmailTransport;
use crate::webhook_transport::WebhookTransport;

/// Runs a notifier until `shutdown` resolves, then drains: the fan-out batch and the attempts
/// in flight finish and are recorded.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    let infra = bootstrap::connect(&config, "bluewhale-notifier").await?;
    let _ops = ops::start(ops::Role::Notifier, &config, &infra).await?;
    let bootstrap::Infrastructure { ns, db, nats, js } = infra;
    let consumer = streams::ensure_notifier(&js, &ns)
        .await
        .context("setting up the notifier consumer")?;
    let webhooks = WebhookTransport::new(config.webhook.url_policy(), config.webhook.timeout)?;
    let email = EmailTransport::new(
        config.notifier.smtp_url.expose(),
        &config.notifier.mail_from,
        config.webhook.timeout,
    )?;
    let ctx = NotifierContext {
        db,
        js,
        ns,
        config: Arc::new(config),
        webhooks,
        email,
        wake: Arc::new(Notify::new()),
    };
    let (stop, stopped) = watch::channel(false);
    let signal = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    tracing::info!(
        concurrency = ctx.config.notifier.concurrency,
        per_endpoint = ctx.config.notifier.per_endpoint,
        "notifier started"
    );
    // Both parts run inside this future (not spawned): a notifier aborted where it stands
    // stops everything it was doing, like a killed process, and records nothing more.
    let work = async {
        let (consumed, ()) = tokio::join!(
            async {
                let consumed = fan_out::run(ctx.clone(), consumer, signal(stopped.clone())).await;
                // A consumer that stops on its own stops the deliveries too.
                let _ = stop.send(true);
                consumed
            },
            delivery::run(ctx.clone(), signal(stopped.clone())),
        );
        consumed
    };
    tokio::pin!(work);
    let consumed = tokio::select! {
        consumed = &mut work => consumed,
        () = shutdown => {
            let _ = stop.send(true);
            work.await
        }
    };
    nats.flush().await.ok();
    ctx.db.close().await;
    tracing::info!("notifier stopped");
    consumed
}
