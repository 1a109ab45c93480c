//! Carrying out a disposition on a JetStream message: ack, NAK with a delay, or dead-letter
//! (recorded first, acknowledged after).

use async_nats::jetstream::{AckKind, Message};
use metrics::counter;

use bluewhale::messaging::commands::aggregate_of;
use bluewhale::ops::metrics as m;
use uuid::Uuid;

use crate::context::WorkerContext;
use crate::dead_letter;
use crate::disposition::{Disposition, FailureKind};

/// Deliveries of this message so far (1 on the first).
pub fn delivered(message: &Message) -> u32 {
    message
        .info()
        .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

/// The disposition after a failure of this kind on this message.
pub fn after_failure(
    ctx: &WorkerContext,
    message: &Message,
    kind: FailureKind,
    error: String,
) -> Disposition {
    ctx.retry.after_failure(kind, delivered(message), error)
}

/// Counts a command that did not reach an outcome this time, by its subject's type (only types
/// this build knows: a hand-made subject must not create series).
fn count(ctx: &WorkerContext, message: &Message, outcome: &'static str) {
    let mut tokens = ctx.ns.strip(&message.subject).split('.').skip(2);
    let kind = match (tokens.next(), tokens.next()) {
        (Some(aggregate), Some(verb)) => format!("{aggregate}.{verb}"),
        _ => String::new(),
    };
    let kind = if aggregate_of(&kind).is_some() {
        kind
    } else {
        "unknown".to_owned()
    };
    counter!(m::COMMANDS, "type" => kind, "outcome" => outcome).increment(1);
}

/// Carries out a disposition. A dead letter is acknowledged only once it is recorded.
pub async fn settle(
    ctx: &WorkerContext,
    message: &Message,
    command_id: Option<Uuid>,
    disposition: Disposition,
) {
    let result = match disposition {
        Disposition::Ack => {
            crate::failpoint::hit(crate::failpoint::AFTER_COMMIT_BEFORE_ACK);
            message.ack().await
        }
        Disposition::RetryAfter(delay) => {
            tracing::info!(subject = %message.subject, ?delay, "transient failure: redelivery scheduled");
            count(ctx, message, "retried");
            message.ack_with(AckKind::Nak(Some(delay))).await
        }
        Disposition::DeadLetter { reason, error } => {
            match dead_letter::record(ctx, message, command_id, reason, &error).await {
                Ok(()) => {
                    count(ctx, message, "dead_lettered");
                    message.ack().await
                }
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
