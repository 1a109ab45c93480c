//! The command consumer: pulls from the durable consumer, groups whatever is ready into
//! batches, processes a bounded number of batches at once, and settles every message
//! explicitly (ack after commit, NAK with a delay, or dead-letter).

use std::future::Future;

use async_nats::jetstream::{AckKind, Message, consumer::PullConsumer};
use futures::StreamExt;

use crate::context::WorkerContext;
use crate::dead_letter;
use crate::decode::{Command, decode};
use crate::disposition::{Disposition, FailureKind, classify};
use crate::handlers::submit_order::{self, Submission};

/// Batching and concurrency of one worker process.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerSettings {
    /// Commands per transaction at most.
    pub batch_size: usize,
    /// Batches in flight at once.
    pub concurrency: usize,
}

/// Consumes until `shutdown` resolves, then finishes the batches in flight (drain).
/// Messages pulled but not started are not acknowledged: JetStream redelivers them.
pub async fn run(
    ctx: WorkerContext,
    consumer: PullConsumer,
    settings: ConsumerSettings,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let messages = consumer
        .stream()
        .max_messages_per_batch(settings.batch_size * settings.concurrency)
        .heartbeat(std::time::Duration::from_secs(5))
        .expires(std::time::Duration::from_secs(30))
        .messages()
        .await?;
    messages
        .take_until(shutdown)
        .ready_chunks(settings.batch_size)
        .for_each_concurrent(settings.concurrency, |chunk| {
            let ctx = ctx.clone();
            async move {
                let messages = chunk
                    .into_iter()
                    .filter_map(|item| match item {
                        Ok(message) => Some(message),
                        Err(error) => {
                            tracing::warn!(%error, "pull consumer error");
                            None
                        }
                    })
                    .collect();
                handle_batch(&ctx, messages).await;
            }
        })
        .await;
    tracing::info!("consumer drained");
    Ok(())
}

/// Decodes, processes and settles one batch of messages.
pub async fn handle_batch(ctx: &WorkerContext, messages: Vec<Message>) {
    let mut submissions: Vec<(Submission, Message)> = Vec::with_capacity(messages.len());
    for message in messages {
        match decode(&ctx.ns, &message.subject, &message.payload) {
            Ok(Command::SubmitOrder(submission)) => submissions.push((submission, message)),
            Err(undecodable) => {
                let disposition = Disposition::DeadLetter {
                    reason: undecodable.reason,
                    error: undecodable.error,
                };
                settle(ctx, &message, undecodable.command_id, disposition).await;
            }
        }
    }
    if submissions.is_empty() {
        return;
    }
    let batch: Vec<Submission> = submissions.iter().map(|(s, _)| s.clone()).collect();
    match submit_order::process(ctx, &batch).await {
        Ok(written) => {
            if written > 0 {
                ctx.outbox_ready.notify_one();
            }
            for (submission, message) in &submissions {
                settle(ctx, message, Some(submission.envelope.id), Disposition::Ack).await;
            }
        }
        Err(error) if submissions.len() > 1 && !is_outage(&error) => {
            // One command spoiled the batch: process each alone so only it is retried or
            // dead-lettered.
            tracing::info!(%error, size = submissions.len(), "batch failed: retrying commands one by one");
            for (submission, message) in &submissions {
                let outcome = submit_order::process(ctx, std::slice::from_ref(submission)).await;
                if matches!(outcome, Ok(n) if n > 0) {
                    ctx.outbox_ready.notify_one();
                }
                settle_outcome(ctx, submission, message, outcome.map(|_| ())).await;
            }
        }
        Err(error) => {
            let error = std::sync::Arc::new(error);
            for (submission, message) in &submissions {
                settle_outcome(ctx, submission, message, Err(SharedError(error.clone()))).await;
            }
        }
    }
}

/// A database error shared by every message of a failed batch.
struct SharedError(std::sync::Arc<sqlx::Error>);

impl From<sqlx::Error> for SharedError {
    fn from(error: sqlx::Error) -> Self {
        Self(std::sync::Arc::new(error))
    }
}

/// The database itself is unreachable or overloaded: retrying one by one would not help.
fn is_outage(error: &sqlx::Error) -> bool {
    classify(error) == FailureKind::Transient
        && !matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

async fn settle_outcome<E: Into<SharedError>>(
    ctx: &WorkerContext,
    submission: &Submission,
    message: &Message,
    outcome: Result<(), E>,
) {
    let disposition = match outcome {
        Ok(()) => Disposition::Ack,
        Err(error) => {
            let SharedError(error) = error.into();
            let delivered = message
                .info()
                .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX))
                .unwrap_or(1);
            ctx.retry
                .after_failure(classify(&error), delivered, error.to_string())
        }
    };
    settle(ctx, message, Some(submission.envelope.id), disposition).await;
}

/// Carries out a disposition. A dead letter is acknowledged only once it is recorded.
async fn settle(
    ctx: &WorkerContext,
    message: &Message,
    command_id: Option<uuid::Uuid>,
    disposition: Disposition,
) {
    let result = match disposition {
        Disposition::Ack => message.ack().await,
        Disposition::RetryAfter(delay) => {
            tracing::info!(subject = %message.subject, ?delay, "transient failure: redelivery scheduled");
            message.ack_with(AckKind::Nak(Some(delay))).await
        }
        Disposition::DeadLetter { reason, error } => {
            match dead_letter::record(ctx, message, command_id, reason, &error).await {
                Ok(()) => message.ack().await,
                Err(record_error) => {
                    tracing::error!(%record_error, "cannot record dead letter: redelivery scheduled");
                    message
                        .ack_with(AckKind::Nak(Some(ctx.retry.delay(1))))
                        .await
                }
            }
        }
    };
    if let Err(error) = result {
        // The message will be redelivered after ack_wait; processing is idempotent.
        tracing::warn!(%error, subject = %message.subject, "could not settle message");
    }
}
