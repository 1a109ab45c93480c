//! The outbox relay: publishes committed events to JetStream (message id = event id, so a
//! republish after a crash is de-duplicated) and deletes them once acknowledged.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use tracing::Instrument as _;

use bluewhale::db::outbox::{self, PendingEvent};
use bluewhale::messaging::atomic_batch::{self, BatchError, BatchMessage};

use crate::context::WorkerContext;

/// Outbox rows claimed per round, published concurrently. Each holds the events of one
/// transaction (a few hundred for a full batch of orders), held parsed in memory until
/// published.
const CLAIM_LIMIT: i64 = 8;
/// Publishes sent before their acks are awaited (well under the client's in-flight limit).
const PUBLISH_WINDOW: usize = 1_000;
/// How long an atomic batch's commit waits for its acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// Poll interval when no local commit woke the relay (events written by other processes).
const IDLE_POLL: Duration = Duration::from_millis(100);
/// Longest pause after failed rounds: once NATS is back, the relay resumes within this.
const MAX_FAILURE_PAUSE: Duration = Duration::from_secs(2);

/// Relays until `stop` turns true, then finishes its round and returns. What is left stays in
/// the outbox for the next relay: a shutdown must not wait for a whole backlog.
pub async fn run(ctx: WorkerContext, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        match relay_once(&ctx).await {
            // A full round means more is waiting: go on at once, unless stopping.
            Ok(n) if n as i64 == CLAIM_LIMIT && !*stop.borrow() => {
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
            ctx.retry.delay(failures).min(MAX_FAILURE_PAUSE)
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

/// Publishes one round of outbox rows: deletes those whose every event JetStream acknowledged
/// and counts an attempt on the others (their published events are de-duplicated by message
/// id when retried). Returns how many rows were claimed; an error if any could not be published.
pub async fn relay_once(ctx: &WorkerContext) -> anyhow::Result<usize> {
    let mut tx = ctx.db.begin().await?;
    let batches = outbox::claim(&mut tx, CLAIM_LIMIT).await?;
    if batches.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    // A round publishes the events of many commands (each keeps its own trace in its
    // headers): its span stands alone.
    let span = tracing::info_span!("relay", rows = batches.len());
    publish_claimed(ctx, tx, batches).instrument(span).await
}

/// Publishes the claimed rows, then deletes the published ones and counts an attempt on the
/// others, in the claim's transaction.
async fn publish_claimed(
    ctx: &WorkerContext,
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    batches: Vec<outbox::ClaimedRow>,
) -> anyhow::Result<usize> {
    // Rows are published concurrently, each as atomic batches: one fsync per batch on a
    // durable server rather than one per event. A row that does not parse fails like an
    // unpublishable one: counted, retried last.
    let results = futures::future::join_all(batches.iter().map(|row| async move {
        let events = row
            .parse()
            .map_err(|e| format!("outbox row {}: {e}", row.id))?;
        publish_row(ctx, &events).await
    }))
    .await;
    let mut published = Vec::new();
    let mut failed = Vec::new();
    for (row, result) in batches.iter().zip(results) {
        match result {
            Ok(()) => published.push(row.id),
            Err(error) => failed.push((row.id, error)),
        }
    }
    outbox::delete(&mut tx, &published).await?;
    // Each row keeps its own error: rare, so one statement per failed row.
    for (id, error) in &failed {
        outbox::record_failure(&mut tx, &[*id], error).await?;
    }
    tx.commit().await?;
    let last_error = failed.last().map(|(_, error)| error.clone());
    match last_error {
        Some(error) => Err(anyhow::anyhow!(
            "{} outbox row(s) not published, last: {error}",
            failed.len()
        )),
        None => Ok(batches.len()),
    }
}

/// Publishes the events of one outbox row: atomic batches of up to
/// [`atomic_batch::MAX_BATCH_MESSAGES`] events. A batch the stream refuses as a whole (one
/// of its ids already stored by an earlier attempt, or a stream without atomic publish) is
/// published event by event instead, where duplicates are simply acknowledged as such.
async fn publish_row(ctx: &WorkerContext, events: &[PendingEvent]) -> Result<(), String> {
    if events.len() == 1 {
        return publish_each(ctx, events).await;
    }
    let client = ctx.js.client();
    for chunk in events.chunks(atomic_batch::MAX_BATCH_MESSAGES) {
        let messages = chunk.iter().map(batch_message).collect();
        match atomic_batch::publish(&client, messages, ACK_TIMEOUT).await {
            Ok(_) => {}
            Err(error @ (BatchError::Duplicate | BatchError::Refused { .. })) => {
                tracing::debug!(%error, events = chunk.len(), "publishing the batch's events one by one");
                publish_each(ctx, chunk).await?;
            }
            Err(error) => return Err(error.to_string()),
        }
    }
    Ok(())
}

/// The message of a stored event: its payload byte for byte, its trace, its id.
fn batch_message(stored: &PendingEvent) -> BatchMessage {
    let mut headers = stored.correlation.headers();
    headers.insert("Nats-Msg-Id", stored.id.to_string().as_str());
    BatchMessage {
        subject: stored.subject.clone(),
        headers,
        payload: Bytes::copy_from_slice(stored.event.get().as_bytes()),
    }
}

/// Publishes events one by one with their acks awaited together, in windows: the client holds
/// an in-flight permit per unawaited ack (5 000 by default) and blocks new publishes when they
/// run out, so sending everything before awaiting any ack could deadlock.
async fn publish_each(ctx: &WorkerContext, events: &[PendingEvent]) -> Result<(), String> {
    for window in events.chunks(PUBLISH_WINDOW) {
        let mut sent = Vec::with_capacity(window.len());
        for stored in window {
            let message = batch_message(stored);
            let ack = ctx
                .js
                .publish_with_headers(message.subject, message.headers, message.payload)
                .await;
            sent.push((stored.subject.as_str(), ack));
        }
        // Awaited together: each ack wait runs from its first poll, so awaiting them one
        // after the other would cost a timeout per event when the connection dropped.
        let results =
            futures::future::join_all(sent.into_iter().map(|(subject, ack)| async move {
                let result = match ack {
                    Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                result.map_err(|e| format!("{subject}: {e}"))
            }))
            .await;
        if let Some(error) = results.into_iter().find_map(Result::err) {
            return Err(error);
        }
    }
    Ok(())
}
