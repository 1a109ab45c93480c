//! The one command runner: for a batch of commands of one type, the transaction, skipping
//! commands already processed, the handler, the `commands` rows with their outcomes, the audit
//! rows and the outbox, then the dispositions — with a one-by-one fallback when a batch fails.

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_nats::jetstream::Message;
use chrono::Utc;
use uuid::Uuid;

use bluewhale::db::commands::{self, CommandRecord, Outcome as RecordedOutcome};
use bluewhale::db::{audit, outbox};
use bluewhale::messaging::command::CommandSpec;
use bluewhale::messaging::events::OutboxEvent;
use bluewhale::ops::metrics as m;
use metrics::{counter, histogram};
use tracing::Instrument as _;

use crate::context::WorkerContext;
use crate::disposition::{Disposition, FailureKind, classify};
use crate::handler::{BatchContext, Decision, Handler, HandlerError, Incoming, Outcome};
use crate::settle::{after_failure, settle};

/// Applies and settles a batch of commands of one type.
pub async fn run<H: Handler>(
    ctx: &WorkerContext,
    handler: &H,
    batch: Vec<Incoming<H::Command>>,
    messages: Vec<Message>,
) {
    let batch_span = tracing::info_span!("batch", kind = H::Command::TYPE, size = batch.len());
    match apply(ctx, handler, &batch).instrument(batch_span).await {
        Ok(()) => {
            for (incoming, message) in batch.iter().zip(&messages) {
                settle(ctx, message, Some(incoming.envelope.id), Disposition::Ack).await;
            }
        }
        Err(error) if batch.len() > 1 && !is_outage(&error) => {
            // One command spoiled the batch: process each alone so only it is retried or
            // dead-lettered.
            tracing::info!(%error, size = batch.len(), kind = H::Command::TYPE,
                "batch failed: retrying commands one by one");
            for (incoming, message) in batch.iter().zip(&messages) {
                async {
                    let outcome = apply(ctx, handler, std::slice::from_ref(incoming)).await;
                    let disposition = match outcome {
                        Ok(()) => Disposition::Ack,
                        Err(error) => failure(ctx, message, &error),
                    };
                    settle(ctx, message, Some(incoming.envelope.id), disposition).await;
                }
                .instrument(incoming.trace.span.clone())
                .await;
            }
        }
        Err(error) => {
            for (incoming, message) in batch.iter().zip(&messages) {
                let disposition = failure(ctx, message, &error);
                settle(ctx, message, Some(incoming.envelope.id), disposition)
                    .instrument(incoming.trace.span.clone())
                    .await;
            }
        }
    }
}

fn failure(ctx: &WorkerContext, message: &Message, error: &HandlerError) -> Disposition {
    after_failure(ctx, message, failure_kind(error), error.to_string())
}

fn failure_kind(error: &HandlerError) -> FailureKind {
    match error {
        HandlerError::Database(error) => classify(error),
        HandlerError::Permanent(_) => FailureKind::Permanent,
    }
}

/// The database itself is unreachable or overloaded: retrying one by one would not help.
fn is_outage(error: &HandlerError) -> bool {
    match error {
        HandlerError::Database(db) => {
            classify(db) == FailureKind::Transient
                && !matches!(db, sqlx::Error::Database(e) if e.code().as_deref() == Some("23505"))
        }
        HandlerError::Permanent(_) => false,
    }
}

/// One transaction: every command of `batch` not processed before is decided and recorded, or
/// nothing is.
async fn apply<H: Handler>(
    ctx: &WorkerContext,
    handler: &H,
    batch: &[Incoming<H::Command>],
) -> Result<(), HandlerError> {
    let started = Instant::now();
    let mut tx = ctx.db.begin().await?;
    let ids: Vec<Uuid> = batch.iter().map(|c| c.envelope.id).collect();
    let done: HashSet<Uuid> = commands::already_processed(&mut tx, &ids)
        .await?
        .into_iter()
        .collect();
    // Redeliveries already processed are skipped, and a command delivered twice in one
    // batch is applied once; the common case borrows the batch as it is.
    let mut seen = HashSet::new();
    let fresh: Vec<bool> = ids
        .iter()
        .map(|id| !done.contains(id) && seen.insert(*id))
        .collect();
    let todo: Cow<'_, [Incoming<H::Command>]> = if fresh.iter().all(|f| *f) {
        Cow::Borrowed(batch)
    } else {
        Cow::Owned(
            batch
                .iter()
                .zip(&fresh)
                .filter(|(_, fresh)| **fresh)
                .map(|(c, _)| c.clone())
                .collect(),
        )
    };
    if todo.is_empty() {
        tx.rollback().await?;
        return Ok(());
    }
    let batch_ctx = BatchContext {
        ns: ctx.ns.clone(),
        now: Utc::now(),
    };
    let decisions = handler
        .handle(&batch_ctx, &mut tx, &todo)
        .instrument(tracing::info_span!("handle"))
        .await?;
    if decisions.len() != todo.len() {
        return Err(HandlerError::Permanent(format!(
            "{} handler returned {} decisions for {} commands",
            H::Command::TYPE,
            decisions.len(),
            todo.len()
        )));
    }
    let decided = started.elapsed();
    let records = todo
        .iter()
        .zip(&decisions)
        .map(|(incoming, decision)| record(incoming, decision))
        .collect::<Result<Vec<_>, _>>()?;
    commands::insert_many(&mut tx, &records).await?;
    let commands_written = started.elapsed();
    let mut audit_rows = Vec::new();
    let mut events: Vec<OutboxEvent> = Vec::new();
    for (incoming, decision) in todo.iter().zip(decisions) {
        // Every event of a command, its audit events too, carries on the command's trace.
        let first = events.len();
        events.extend(decision.events);
        events.extend(audit::audit_event(&ctx.ns, &decision.audit)?);
        let correlation = incoming.correlation();
        for event in &mut events[first..] {
            event.correlation = correlation.clone();
        }
        audit_rows.extend(decision.audit);
    }
    audit::insert_many(&mut tx, &audit_rows).await?;
    let audit_written = started.elapsed();
    outbox::insert(&mut tx, &events).await?;
    let written = started.elapsed();
    tx.commit()
        .instrument(tracing::info_span!("commit"))
        .await?;
    for (incoming, record) in todo.iter().zip(&records) {
        incoming.trace.span.in_scope(|| match &record.error {
            None => tracing::info!("command applied"),
            Some(refusal) => tracing::info!(refusal = %refusal["code"], "command rejected"),
        });
    }
    if !events.is_empty() {
        ctx.outbox_ready.notify_one();
    }
    observe::<H::Command>(&records, decided, started.elapsed());
    tracing::debug!(
        kind = H::Command::TYPE,
        commands = todo.len(),
        decide_ms = decided.as_millis(),
        record_ms = (written - decided).as_millis(),
        commands_ms = (commands_written - decided).as_millis(),
        audit_ms = (audit_written - commands_written).as_millis(),
        outbox_ms = (written - audit_written).as_millis(),
        commit_ms = (started.elapsed() - written).as_millis(),
        "batch committed"
    );
    Ok(())
}

/// The metrics of a committed batch: its size and times, and per command its outcome and its
/// latency from acceptance by the ingress to this commit.
fn observe<C: CommandSpec>(records: &[CommandRecord], decided: Duration, total: Duration) {
    let kind = C::TYPE;
    histogram!(m::HANDLER_DURATION, "type" => kind).record(decided.as_secs_f64());
    histogram!(m::BATCH_DURATION, "type" => kind).record(total.as_secs_f64());
    histogram!(m::BATCH_SIZE, "type" => kind).record(records.len() as f64);
    let committed = Utc::now();
    for record in records {
        let outcome = match record.outcome {
            RecordedOutcome::Applied => "applied",
            RecordedOutcome::Rejected => "rejected",
        };
        counter!(m::COMMANDS, "type" => kind, "outcome" => outcome).increment(1);
        let latency = (committed - record.issued_at).to_std().unwrap_or_default();
        histogram!(m::COMMAND_LATENCY, "type" => kind).record(latency.as_secs_f64());
    }
}

/// The `commands` row of a decided command.
fn record<C: CommandSpec>(
    incoming: &Incoming<C>,
    decision: &Decision,
) -> Result<CommandRecord, serde_json::Error> {
    let envelope = &incoming.envelope;
    let (outcome, error) = match &decision.outcome {
        Outcome::Applied => (RecordedOutcome::Applied, None),
        Outcome::Rejected(refusal) => (
            RecordedOutcome::Rejected,
            Some(serde_json::to_value(refusal)?),
        ),
    };
    Ok(CommandRecord {
        id: envelope.id,
        kind: envelope.kind.clone(),
        subject: incoming.subject.clone(),
        actor: serde_json::to_value(envelope.actor)?,
        request_id: envelope.request_id.clone(),
        outcome,
        error,
        issued_at: envelope.issued_at,
        aggregate_type: C::AGGREGATE.to_owned(),
        aggregate_id: envelope.data.aggregate_id(),
        request_hash: envelope
            .idempotency
            .as_ref()
            .map(|i| i.request_hash.clone()),
    })
}
