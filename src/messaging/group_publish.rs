//! Acked publishes gathered by group commit: the messages of concurrent requests go to the
//! stream as one atomic batch, so a durable server pays one fsync for the whole group
//! instead of one per request, and each request is answered once its group is stored.

use std::collections::HashSet;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use bytes::Bytes;
use uuid::Uuid;

use super::atomic_batch::{self, BatchError, BatchMessage};
use super::publish::{PublishError, Published, publish_acked};
use crate::group_commit::{Group, GroupSettings};

/// How long a group's commit waits for the stream's acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// One message to store, with its `Nats-Msg-Id`.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Full subject.
    pub subject: String,
    /// De-duplication id.
    pub message_id: Uuid,
    /// Headers (trace, request id).
    pub headers: HeaderMap,
    /// Payload.
    pub payload: Bytes,
}

/// Publishes messages to one stream by group commit.
#[derive(Clone)]
pub struct GroupPublisher {
    group: Group<Outgoing, Result<Published, PublishError>>,
}

impl GroupPublisher {
    /// Starts the publisher's task on `js`'s connection.
    pub fn spawn(js: jetstream::Context, settings: GroupSettings) -> Self {
        let group = Group::spawn(settings, move |messages| store(js.clone(), messages));
        Self { group }
    }

    /// Publishes `message` and waits until the stream stored it (or found it a duplicate).
    pub async fn publish(&self, message: Outgoing) -> Result<Published, PublishError> {
        self.group
            .call(message)
            .await
            .map_err(|e| PublishError::NotAcknowledged(e.to_string()))?
    }
}

/// Stores a group: its first message of each id as one atomic batch, then any repeat (one
/// client request sent twice at once) on its own, which the stream answers as a duplicate.
/// Message by message when the batch is refused as a whole (an id already stored — a client's
/// retry — or a stream without atomic publish), so that each gets its own answer.
async fn store(
    js: jetstream::Context,
    messages: Vec<Outgoing>,
) -> Vec<Result<Published, PublishError>> {
    let mut seen = HashSet::new();
    let (first, repeats): (Vec<usize>, Vec<usize>) =
        (0..messages.len()).partition(|&i| seen.insert(messages[i].message_id));
    if first.len() < 2 {
        return publish_each(&js, messages).await;
    }
    let batch = first.iter().map(|&i| batch_message(&messages[i])).collect();
    match atomic_batch::publish(&js.client(), batch, ACK_TIMEOUT).await {
        Ok(ack) => {
            let mut results: Vec<Option<Result<Published, PublishError>>> =
                messages.iter().map(|_| None).collect();
            // An atomic batch is stored in one piece: its messages have consecutive
            // sequences ending at the acknowledged one.
            let first_sequence = ack.seq + 1 - ack.count;
            for (n, &i) in (0u64..).zip(&first) {
                results[i] = Some(Ok(Published {
                    duplicate: false,
                    sequence: first_sequence + n,
                }));
            }
            let repeated: Vec<Outgoing> = repeats.iter().map(|&i| messages[i].clone()).collect();
            for (&i, result) in repeats.iter().zip(publish_each(&js, repeated).await) {
                results[i] = Some(result);
            }
            results.into_iter().flatten().collect()
        }
        Err(BatchError::Duplicate | BatchError::Refused { .. }) => {
            publish_each(&js, messages).await
        }
        Err(error) => {
            let error = error.to_string();
            messages
                .iter()
                .map(|_| Err(PublishError::NotAcknowledged(error.clone())))
                .collect()
        }
    }
}

/// The batch message of `m`: its headers and its id.
fn batch_message(m: &Outgoing) -> BatchMessage {
    let mut headers = m.headers.clone();
    headers.insert("Nats-Msg-Id", m.message_id.to_string().as_str());
    BatchMessage {
        subject: m.subject.clone(),
        headers,
        payload: m.payload.clone(),
    }
}

/// Publishes each message alone, acks awaited together.
async fn publish_each(
    js: &jetstream::Context,
    messages: Vec<Outgoing>,
) -> Vec<Result<Published, PublishError>> {
    futures::future::join_all(
        messages
            .into_iter()
            .map(|m| publish_acked(js, m.subject, m.message_id, Some(m.headers), m.payload)),
    )
    .await
}
