//! Publishing to JetStream and waiting for the stream's acknowledgement.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, context::PublishErrorKind};
use bytes::Bytes;
use uuid::Uuid;

use super::Namespace;
use super::command::CommandSpec;
use super::correlation::Correlation;
use super::envelope::Envelope;
use super::group_publish::Outgoing;
use crate::telemetry::TraceParent;

/// Why a publish failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The payload could not be serialised.
    #[error("cannot serialise message: {0}")]
    Encode(#[from] serde_json::Error),
    /// JetStream did not acknowledge (no stream, timeout, connection loss).
    #[error("JetStream did not acknowledge: {0}")]
    NotAcknowledged(String),
}

/// What the stream said about a published message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// The stream already held a message with this id (within the duplicate window).
    pub duplicate: bool,
    /// Stream sequence of the stored message.
    pub sequence: u64,
}

/// Publishes `payload` with `Nats-Msg-Id = message_id` and waits for the ack.
pub async fn publish_acked(
    js: &jetstream::Context,
    subject: String,
    message_id: Uuid,
    headers: Option<HeaderMap>,
    payload: Bytes,
) -> Result<Published, PublishError> {
    let mut headers = headers.unwrap_or_default();
    headers.insert("Nats-Msg-Id", message_id.to_string().as_str());
    let ack_future = js
        .publish_with_headers(subject, headers, payload)
        .await
        .map_err(|e| PublishError::NotAcknowledged(describe(e.kind())))?;
    let ack = ack_future
        .await
        .map_err(|e| PublishError::NotAcknowledged(describe(e.kind())))?;
    Ok(Published {
        duplicate: ack.duplicate,
        sequence: ack.sequence,
    })
}

/// Publishes a command envelope on its subject (message id = command id), with the trace it
/// belongs to, and waits for the ack.
pub async fn publish_command<T: CommandSpec>(
    js: &jetstream::Context,
    ns: &Namespace,
    envelope: &Envelope<T>,
    trace: Option<&TraceParent>,
) -> Result<Published, PublishError> {
    let message = command_message(ns, envelope, trace)?;
    publish_acked(
        js,
        message.subject,
        message.message_id,
        Some(message.headers),
        message.payload,
    )
    .await
}

/// The message of a command envelope: its subject, message id = command id, the trace it
/// belongs to.
pub fn command_message<T: CommandSpec>(
    ns: &Namespace,
    envelope: &Envelope<T>,
    trace: Option<&TraceParent>,
) -> Result<Outgoing, serde_json::Error> {
    let correlation = Correlation {
        traceparent: trace.copied(),
        request_id: envelope.request_id.clone(),
    };
    Ok(Outgoing {
        subject: ns.command_subject(T::TYPE, envelope.data.subject_id(), envelope.id),
        message_id: envelope.id,
        headers: correlation.headers(),
        payload: Bytes::from(serde_json::to_vec(envelope)?),
    })
}

fn describe(kind: PublishErrorKind) -> String {
    format!("{kind:?}")
}
