//! The outbox relay: publishes committed events to JetStream (message id = event id, so a
//! republish after a crash is de-duplicated) and deletes them once acknowledged.

use std::time::Duration;

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::future::join_all;
use tokio::sync::watch;

use bluewhale::db::outbox;

use crate::context::WorkerContext;

/// Events claimed per round.
const CLAIM_LIMIT: i64 = 512;
/// Poll interval when no local commit woke the relay (events written by other processes).
const IDLE_POLL: Duration = Duration::from_millis(100);

/// Relays until `stop` turns true, then publishes what is left and returns.
pub async fn run(ctx: WorkerContext, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        match relay_once(&ctx).await {
            Ok(n) if n as i64 == CLAIM_LIMIT => {
                failures = 0;
                continue;
            }
            Ok(_) => failures = 0,
            Err(error) => {
                failures += 1;
                tracing::warn!(%error, failures, "outbox relay failed; retrying");
            }
        }
        if *stop.borrow() {
            break;
        }
        let pause = if failures > 0 {
            ctx.retry.delay(failures)
        } else {
            IDLE_POLL
        };
        tokio::select! {
            () = ctx.outbox_ready.notified() => {}
            () = tokio::time::sleep(pause) => {}
            _ = stop.changed() => {}
        }
    }
    tracing::info!("outbox relay stopped");
}

/// Publishes one round of events: deletes those JetStream acknowledged and counts an attempt
/// on the others. Returns how many were claimed; an error if any could not be published.
pub async fn relay_once(ctx: &WorkerContext) -> anyhow::Result<usize> {
    let mut tx = ctx.db.begin().await?;
    let events = outbox::claim(&mut tx, CLAIM_LIMIT).await?;
    if events.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    // Send every publish first, then await the acks: pipelined, one round trip in all.
    let mut acks = Vec::with_capacity(events.len());
    for event in &events {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.id.to_string().as_str());
        let payload = Bytes::from(serde_json::to_vec(&event.payload)?);
        let sent = ctx
            .js
            .publish_with_headers(event.subject.clone(), headers, payload)
            .await;
        acks.push(async move { sent?.await });
    }
    let results = join_all(acks).await;
    let mut published = Vec::with_capacity(events.len());
    let mut failed = Vec::new();
    let mut last_error = None;
    for (event, result) in events.iter().zip(results) {
        match result {
            Ok(_) => published.push(event.id),
            Err(error) => {
                failed.push(event.id);
                last_error = Some(format!("{}: {error}", event.subject));
            }
        }
    }
    outbox::delete(&mut tx, &published).await?;
    if let Some(error) = &last_error {
        outbox::record_failure(&mut tx, &failed, error).await?;
    }
    tx.commit().await?;
    match last_error {
        Some(error) => Err(anyhow::anyhow!("{} event(s) not published, last: {error}", failed.len())),
        None => Ok(events.len()),
    }
}
