//! JetStream atomic batch publish (ADR-50; nats-server ≥ 2.12, and from 2.15 a batch costs one
//! fsync however many messages it holds): the messages of a batch, all on one stream, are
//! stored together or not at all, and only the last one is acknowledged.
//!
//! The protocol is headers on ordinary messages: every message carries `Nats-Batch-Id` and
//! its `Nats-Batch-Sequence` (from 1); the last also `Nats-Batch-Commit: 1` and is sent as a
//! request, whose reply is the batch's publish acknowledgement. The others are sent without a
//! reply subject: the server reports a problem with any of them in the commit's reply.

use std::time::Duration;

use async_nats::HeaderMap;
use bytes::Bytes;
use serde::Deserialize;

/// Most messages the server accepts in one atomic batch (its default `max_batch_size`).
pub const MAX_BATCH_MESSAGES: usize = 1_000;

/// JetStream's error code for a batch holding a message id already stored in the stream's
/// duplicate window: nothing of the batch was stored.
const DUPLICATE_MESSAGE_ID: u64 = 10201;

/// One message of a batch.
#[derive(Debug, Clone)]
pub struct BatchMessage {
    /// Full subject; every subject of a batch must belong to the same stream.
    pub subject: String,
    /// Its headers (`Nats-Msg-Id` and the trace); the batch headers are added.
    pub headers: HeaderMap,
    /// The payload.
    pub payload: Bytes,
}

/// The acknowledgement of a committed batch.
#[derive(Debug, Clone, Deserialize)]
pub struct BatchAck {
    /// The stream that stored it.
    pub stream: String,
    /// Stream sequence of its last message.
    pub seq: u64,
    /// Messages stored.
    pub count: u64,
}

/// Why a batch was not stored.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A message id of the batch is already in the stream: nothing was stored. The messages
    /// are stored (or found duplicate) one by one instead.
    #[error("atomic batch holds a message id already stored")]
    Duplicate,
    /// The stream refused the batch (atomic publish not allowed, batch too large, …).
    #[error("atomic batch refused: {code}/{err_code} {description}")]
    Refused {
        /// HTTP-like status.
        code: u64,
        /// JetStream error code.
        err_code: u64,
        /// The server's text.
        description: String,
    },
    /// A message could not be sent.
    #[error("atomic batch: publish failed: {0}")]
    Publish(#[from] async_nats::PublishError),
    /// The commit was not answered (connection lost, timeout): the batch may or may not be
    /// stored; publishing it again is safe (its message ids are de-duplicated).
    #[error("atomic batch: commit not acknowledged: {0}")]
    Commit(#[from] async_nats::RequestError),
    /// The answer was not a publish acknowledgement of this batch.
    #[error("atomic batch: unexpected acknowledgement: {0}")]
    Ack(String),
}

#[derive(Deserialize)]
struct ApiError {
    code: u64,
    #[serde(default)]
    err_code: u64,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct Reply {
    error: Option<ApiError>,
    #[serde(default)]
    stream: String,
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    batch: String,
    #[serde(default)]
    count: u64,
}

/// Publishes `messages` (1 ..= [`MAX_BATCH_MESSAGES`], one stream) as one atomic batch and
/// waits up to `timeout` for its acknowledgement.
pub async fn publish(
    client: &async_nats::Client,
    messages: Vec<BatchMessage>,
    timeout: Duration,
) -> Result<BatchAck, BatchError> {
    let count = messages.len();
    if count == 0 || count > MAX_BATCH_MESSAGES {
        return Err(BatchError::Ack(format!(
            "a batch holds 1 to {MAX_BATCH_MESSAGES} messages, not {count}"
        )));
    }
    let batch_id = uuid::Uuid::new_v4().simple().to_string();
    let mut commit = None;
    for (i, mut message) in messages.into_iter().enumerate() {
        let sequence = i + 1;
        message.headers.insert("Nats-Batch-Id", batch_id.as_str());
        message
            .headers
            .insert("Nats-Batch-Sequence", sequence.to_string().as_str());
        if sequence == count {
            message.headers.insert("Nats-Batch-Commit", "1");
            commit = Some(message);
        } else {
            client
                .publish_with_headers(message.subject, message.headers, message.payload)
                .await?;
        }
    }
    let Some(last) = commit else {
        unreachable!("a non-empty batch has a last message");
    };
    let request = async_nats::Request::new()
        .headers(last.headers)
        .payload(last.payload)
        .timeout(Some(timeout));
    let reply = client.send_request(last.subject, request).await?;
    let reply: Reply = serde_json::from_slice(&reply.payload).map_err(|e| {
        BatchError::Ack(format!("{e}: {}", String::from_utf8_lossy(&reply.payload)))
    })?;
    if let Some(error) = reply.error {
        return Err(if error.err_code == DUPLICATE_MESSAGE_ID {
            BatchError::Duplicate
        } else {
            BatchError::Refused {
                code: error.code,
                err_code: error.err_code,
                description: error.description,
            }
        });
    }
    if reply.batch != batch_id || reply.count != count as u64 || reply.stream.is_empty() {
        return Err(BatchError::Ack(format!(
            "batch {} of {} in {:?}, expected {batch_id} of {count}",
            reply.batch, reply.count, reply.stream
        )));
    }
    Ok(BatchAck {
        stream: reply.stream,
        seq: reply.seq,
        count: reply.count,
    })
}
