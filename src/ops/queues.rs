//! The state of the streams and their consumers, read through the JetStream API: one reader
//! for the gauges and for the ops overview.

use async_nats::jetstream;
use futures::TryStreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use crate::messaging::Namespace;

/// The streams of the system, by their bare names.
pub const STREAMS: [&str; 3] = ["COMMANDS", "EVENTS", "DLQ"];

/// One stream and its consumers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StreamReading {
    /// Bare name (COMMANDS, EVENTS, DLQ).
    pub name: String,
    /// Messages stored.
    pub messages: u64,
    /// Bytes stored.
    pub bytes: u64,
    /// Its durable and ephemeral consumers.
    pub consumers: Vec<ConsumerReading>,
}

/// One consumer's backlog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsumerReading {
    /// Consumer name.
    pub name: String,
    /// Messages not delivered yet.
    pub pending: u64,
    /// Delivered, not acknowledged yet.
    pub ack_pending: usize,
    /// Delivered more than once and not acknowledged yet.
    pub redelivered: usize,
    /// Pull requests waiting.
    pub waiting: usize,
    /// Stream sequence up to which everything is acknowledged (for rates).
    pub ack_floor: u64,
}

/// Reads every stream and consumer of the namespace.
pub async fn read(js: &jetstream::Context, ns: &Namespace) -> anyhow::Result<Vec<StreamReading>> {
    let mut readings = Vec::with_capacity(STREAMS.len());
    for bare in STREAMS {
        let mut stream = js.get_stream(ns.stream(bare)).await?;
        let state = stream.info().await?.state.clone();
        let consumers: Vec<_> = stream.consumers().try_collect().await?;
        readings.push(StreamReading {
            name: bare.to_owned(),
            messages: state.messages,
            bytes: state.bytes,
            consumers: consumers
                .into_iter()
                .map(|c| ConsumerReading {
                    name: c.name,
                    pending: c.num_pending,
                    ack_pending: c.num_ack_pending,
                    redelivered: c.num_redelivered,
                    waiting: c.num_waiting,
                    ack_floor: c.ack_floor.stream_sequence,
                })
                .collect(),
        });
    }
    Ok(readings)
}
