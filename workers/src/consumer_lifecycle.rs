//! Getting the order-workers consumer, and getting it back. A pull stream ends when its
//! consumer (or the consumer's stream) is deleted, and goes quiet when the server restarts or
//! loses the pull request; either way the worker recreates what is missing from the
//! definitions in `nats/` and pulls again, with a bounded backoff. If that does not succeed
//! within a bounded time the worker gives up with an error, so that its supervisor restarts it.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer, consumer::pull};
use tokio::time::Instant;

use bluewhale::messaging::{Namespace, streams};

use crate::consumer::ConsumerSettings;

/// How long the worker tries to get its consumer back before it exits with an error.
pub const RECOVERY_BUDGET: Duration = Duration::from_secs(60);
/// First pause between recovery attempts; doubled up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
/// Longest pause between recovery attempts: resumption comes at most this late after the
/// server is back.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Idle heartbeat asked of the server: two missed ones (4 s) mean the pull is lost.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// Life of one pull request on the server. Short, so that a request the server forgot (a
/// restart) is replaced soon even if no heartbeat check catches it.
const PULL_EXPIRES: Duration = Duration::from_secs(10);

/// Why a pull stream was given up.
#[derive(Debug)]
pub enum Interruption {
    /// The consumer or its stream is gone (deleted, re-created): recreate it.
    Lost(String),
    /// The stream stopped hearing from the server (heartbeats missed, pull failing), as after
    /// a server restart: make sure the consumer exists and pull again.
    Stalled(String),
}

impl Interruption {
    /// Classifies an error of the pull stream.
    pub fn from_error(error: &pull::MessagesError) -> Self {
        use pull::MessagesErrorKind as Kind;
        match error.kind() {
            Kind::ConsumerDeleted
            | Kind::NoResponders
            | Kind::PushBasedConsumer
            | Kind::RequestLimitExceeded => Self::Lost(error.to_string()),
            Kind::MissingHeartbeat | Kind::Pull | Kind::Other => Self::Stalled(error.to_string()),
        }
    }

    /// Logs what happened and what the worker does about it.
    pub fn log(&self) {
        match self {
            Self::Lost(reason) => tracing::warn!(%reason, "consumer lost; recreating"),
            Self::Stalled(reason) => {
                tracing::warn!(%reason, "pull stream stalled; checking the consumer and pulling again")
            }
        }
    }
}

/// Where the order-workers consumer comes from: its definition and the server.
#[derive(Clone)]
pub struct ConsumerSource {
    /// JetStream, with the worker's short request timeout.
    pub js: jetstream::Context,
    /// Namespace of streams and subjects.
    pub ns: Namespace,
    /// Limits from the worker configuration.
    pub limits: streams::ConsumerLimits,
    /// Batching, which sizes the pull requests.
    pub settings: ConsumerSettings,
}

impl ConsumerSource {
    /// Creates the streams and the consumer if missing (both idempotent when they exist).
    pub async fn ensure(&self) -> Result<PullConsumer, streams::SetupError> {
        streams::ensure_streams(&self.js, &self.ns).await?;
        streams::ensure_order_workers(&self.js, &self.ns, self.limits).await
    }

    /// [`ConsumerSource::ensure`] until it succeeds, pausing between attempts; an error once
    /// `budget` has passed, with the last failure as its source.
    pub async fn recover(&self, budget: Duration) -> anyhow::Result<PullConsumer> {
        let give_up = Instant::now() + budget;
        let mut delay = FIRST_RETRY_DELAY;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            match self.ensure().await {
                Ok(consumer) => {
                    tracing::info!(attempts, "consumer ready; pulling again");
                    return Ok(consumer);
                }
                Err(error) if Instant::now() + delay < give_up => {
                    tracing::warn!(%error, attempts, "cannot recreate the consumer yet; retrying");
                }
                Err(error) => {
                    return Err(anyhow::Error::new(error).context(format!(
                        "order-workers consumer not recreated within {budget:?} ({attempts} attempts)"
                    )));
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX_RETRY_DELAY);
        }
    }

    /// Opens a pull stream on `consumer`: heartbeats and short-lived pull requests, so a lost
    /// pull is noticed within seconds.
    pub async fn pull(&self, consumer: &PullConsumer) -> Result<pull::Stream, Interruption> {
        consumer
            .stream()
            .max_messages_per_batch(self.settings.batch_size * self.settings.concurrency)
            .heartbeat(HEARTBEAT)
            .expires(PULL_EXPIRES)
            .messages()
            .await
            .map_err(|error| Interruption::Stalled(format!("opening the pull stream: {error}")))
    }
}
