//! Reading whole JetStream streams for the checks.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull};
use futures::StreamExt;

/// One stored message: stream sequence, subject, headers, payload.
pub struct Stored {
    /// Subject, namespace included.
    pub subject: String,
    /// Headers, if any.
    pub headers: Option<async_nats::HeaderMap>,
    /// Payload.
    pub payload: bytes::Bytes,
}

/// Connects with unlimited reconnects (a restarted server is waited for).
pub async fn connect(url: &str) -> Result<async_nats::Client> {
    async_nats::ConnectOptions::new()
        .name("faultcheck")
        .max_reconnects(None)
        .retry_on_initial_connect()
        .connect(url)
        .await
        .with_context(|| format!("connecting to NATS at {url}"))
}

/// Every message of `stream` up to its last sequence at the time of the call, read through an
/// ordered consumer (the consumer a subscriber would use, not direct gets per sequence).
pub async fn read_all(js: &jetstream::Context, stream: &str) -> Result<Vec<Stored>> {
    let mut handle = js
        .get_stream(stream)
        .await
        .with_context(|| format!("opening stream {stream}"))?;
    let state = handle.info().await.context("stream info")?.state.clone();
    let mut out = Vec::with_capacity(usize::try_from(state.messages).unwrap_or(0));
    if state.messages == 0 {
        return Ok(out);
    }
    let consumer = handle
        .create_consumer(pull::OrderedConfig {
            description: Some("faultcheck: invariant check".into()),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .context("creating an ordered consumer")?;
    let mut messages = consumer.messages().await.context("ordered consumer")?;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), messages.next()).await;
        let message = match next {
            Err(_) => bail!(
                "stream {stream}: stalled after {} of {} messages",
                out.len(),
                state.messages
            ),
            Ok(None) => bail!("stream {stream}: consumer ended early"),
            Ok(Some(message)) => message.context("reading the ordered consumer")?,
        };
        let sequence = message.info().map(|i| i.stream_sequence).unwrap_or(0);
        let message = message.message;
        out.push(Stored {
            subject: message.subject.to_string(),
            headers: message.headers,
            payload: message.payload,
        });
        if sequence >= state.last_sequence {
            return Ok(out);
        }
    }
}
