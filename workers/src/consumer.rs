//! The command consumer: pulls from the durable consumer, groups whatever is ready into
//! batches, and hands a bounded number of batches at once to the registry, which dispatches
//! each message to its handler and settles it explicitly.

use std::future::Future;
use std::sync::Arc;

use async_nats::jetstream::consumer::PullConsumer;
use futures::StreamExt;

use crate::context::WorkerContext;
use crate::registry::Registry;

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
    registry: Arc<Registry>,
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
            let registry = registry.clone();
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
                registry.dispatch(&ctx, messages).await;
            }
        })
        .await;
    tracing::info!("consumer drained");
    Ok(())
}
