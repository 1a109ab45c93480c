//! Reading a command that is still waiting in the COMMANDS stream (a work queue: a message is
//! there until a worker acknowledged it), by a direct get on its subject.

use async_nats::jetstream::{self, stream::DirectGetErrorKind};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::Namespace;
use super::command::CommandSpec;
use super::commands::SubmitOrder;
use super::envelope::Envelope;

/// Why the stream could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PendingError {
    /// JetStream did not answer.
    #[error("JetStream: {0}")]
    Stream(String),
    /// The stored message is not a `T` envelope.
    #[error("undecodable pending command: {0}")]
    Decode(#[from] serde_json::Error),
}

/// A command waiting in the stream.
#[derive(Debug, Clone)]
pub struct Pending<T> {
    /// Its subject (type, aggregate and command id).
    pub subject: String,
    /// The command.
    pub envelope: Envelope<T>,
}

/// The pending command `command_id` of type `C`, if the stream still holds it.
pub async fn pending_of<C: CommandSpec>(
    js: &jetstream::Context,
    ns: &Namespace,
    command_id: Uuid,
) -> Result<Option<Pending<C>>, PendingError> {
    direct_get(js, ns, ns.pending_command_filter(C::TYPE, command_id)).await
}

/// The newest pending order that checks out cart `cart_id`, if any.
pub async fn pending_checkout(
    js: &jetstream::Context,
    ns: &Namespace,
    cart_id: Uuid,
) -> Result<Option<Pending<SubmitOrder>>, PendingError> {
    let filter = ns.subject(&format!("bw.cmd.{}.{cart_id}.*", SubmitOrder::TYPE));
    direct_get(js, ns, filter).await
}

/// The pending command `command_id`, whatever its type, if the stream still holds it.
pub async fn pending_any(
    js: &jetstream::Context,
    ns: &Namespace,
    command_id: Uuid,
) -> Result<Option<Pending<Value>>, PendingError> {
    direct_get(js, ns, ns.pending_command_filter("*.*", command_id)).await
}

async fn direct_get<T: DeserializeOwned>(
    js: &jetstream::Context,
    ns: &Namespace,
    filter: String,
) -> Result<Option<Pending<T>>, PendingError> {
    let stream = js
        .get_stream_no_info(ns.commands_stream())
        .await
        .map_err(|e| PendingError::Stream(e.to_string()))?;
    match stream.direct_get_last_for_subject(filter).await {
        Ok(message) => Ok(Some(Pending {
            envelope: serde_json::from_slice(&message.payload)?,
            subject: message.subject.to_string(),
        })),
        Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
        Err(e) => Err(PendingError::Stream(e.to_string())),
    }
}
