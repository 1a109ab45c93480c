//! The outbox relay: publishes committed events to JetStream (message id = event id, so a
//! republish after a crash is de-duplicated) and deletes them once acknowledged.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use tracing::Instrument as _;

use bluewhale::db::outbox::{self, PendingEvent};

use crate::context::WorkerContext;

/// Outbox rows claimed per round. Each holds the events of one transaction (about a thousand
/// for a full batch), and a claimed row is held parsed in memory until published.
const CLAIM_LIMIT: i64 = 4;
/// Publishes sent before their acks are awaited (well under the client's in-flight limit).
const PUBLISH_WINDOW: usize = 1_000;
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
    // Pipelined in windows: send a window of publishes, then await its acks. The client holds
    // an in-flight permit per unawaited ack (5 000 by default) and blocks new publishes when
    // they run out, so sending a whole round before awaiting any ack could deadlock.
    // A row that does not parse fails like an unpublishable one: counted, retried last.
    let mut failed_rows = vec![false; batches.len()];
    let mut last_error = None;
    let mut parsed = Vec::with_capacity(batches.len());
    for (row, batch) in batches.iter().enumerate() {
        match batch.parse() {
            Ok(events) => parsed.push((row, events)),
            Err(error) => {
                failed_rows[row] = true;
                last_error = Some(format!("outbox row {}: {error}", batch.id));
            }
        }
    }
    let events: Vec<(usize, &PendingEvent)> = parsed
        .iter()
        .flat_map(|(row, events)| events.iter().map(move |e| (*row, e)))
        .collect();
    let mut acked = Vec::with_capacity(events.len());
    for window in events.chunks(PUBLISH_WINDOW) {
        let mut sent = Vec::with_capacity(window.len());
        for (row, stored) in window {
            let mut headers = stored.correlation.headers();
            headers.insert("Nats-Msg-Id", stored.id.to_string().as_str());
            let payload = Bytes::copy_from_slice(stored.event.get().as_bytes());
            let ack = ctx
                .js
                .publish_with_headers(stored.subject.clone(), headers, payload)
                .await;
            sent.push((*row, stored.subject.as_str(), ack));
        }
        // Awaited together: each ack wait runs from its first poll, so awaiting them one
        // after the other would cost a timeout per event when the connection dropped (a
        // window of 16 events: 80 s), not one per window.
        let results =
            futures::future::join_all(sent.into_iter().map(|(row, subject, ack)| async move {
                let result = match ack {
                    Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                (row, result.map_err(|e| format!("{subject}: {e}")))
            }))
            .await;
        acked.extend(results);
    }
    for (row, result) in acked {
        if let Err(error) = result {
            failed_rows[row] = true;
            last_error = Some(error);
        }
    }
    let (failed, published): (Vec<_>, Vec<_>) = batches
        .iter()
        .zip(&failed_rows)
        .partition(|(_, failed)| **failed);
    let published: Vec<_> = published.iter().map(|(b, _)| b.id).collect();
    let failed: Vec<_> = failed.iter().map(|(b, _)| b.id).collect();
    outbox::delete(&mut tx, &published).await?;
    if let Some(error) = &last_error {
        outbox::record_failure(&mut tx, &failed, error).await?;
    }
    tx.commit().await?;
    match last_error {
        Some(error) => Err(anyhow::anyhow!(
            "{} outbox row(s) not published, last: {error}",
            failed.len()
        )),
        None => Ok(batches.len()),
    }
}
