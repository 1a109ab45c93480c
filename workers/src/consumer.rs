//! The command consumer: pulls from the durable consumer, groups whatever is ready into
//! batches, and hands a bounded number of batches at once to the registry, which dispatches
//! each message to its handler and settles it explicitly. A lost or stalled pull is recovered
//! (see [`crate::consumer_lifecycle`]); batches in flight go on meanwhile.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;

use anyhow::Context as _;
use async_nats::jetstream::consumer::PullConsumer;
use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::consumer_lifecycle::{ConsumerSource, Interruption, RECOVERY_BUDGET};
use crate::context::WorkerContext;
use crate::drain::Drain;
use crate::registry::Registry;

/// Batching and concurrency of one worker process.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerSettings {
    /// Commands per transaction at most.
    pub batch_size: usize,
    /// Batches in flight at once.
    pub concurrency: usize,
}

/// How one pull stream ended.
enum End {
    /// The shutdown signal came.
    Shutdown,
    /// The pull must be re-established.
    Interrupted(Interruption),
    /// A batch task failed (a handler panicked): the worker stops with this error.
    Failed(anyhow::Error),
}

/// Batches in flight, each a task of its own so that they go on while the pull is recovered.
struct Batches {
    tasks: JoinSet<()>,
    slots: Arc<Semaphore>,
}

impl Batches {
    /// Collects finished tasks; an error if one panicked.
    fn reap(&mut self) -> anyhow::Result<()> {
        while let Some(joined) = self.tasks.try_join_next() {
            joined.context("command batch task")?;
        }
        Ok(())
    }
}

/// Consumes until `shutdown` resolves, then finishes the batches in flight until the drain
/// deadline and abandons the rest (they are not acknowledged: JetStream redelivers them), as
/// it does with messages pulled but not started. An error if the consumer cannot be recovered
/// within [`RECOVERY_BUDGET`], or if a batch task panicked.
pub async fn run(
    ctx: WorkerContext,
    registry: Arc<Registry>,
    source: ConsumerSource,
    mut consumer: PullConsumer,
    shutdown: impl Future<Output = ()> + Send,
    drain: Drain,
) -> anyhow::Result<()> {
    let mut shutdown = pin!(shutdown);
    let mut batches = Batches {
        tasks: JoinSet::new(),
        slots: Arc::new(Semaphore::new(source.settings.concurrency)),
    };
    let outcome = loop {
        let end = consume(
            &ctx,
            &registry,
            &source,
            &consumer,
            &mut shutdown,
            &mut batches,
        )
        .await;
        let interruption = match end {
            End::Shutdown => break Ok(()),
            End::Failed(error) => break Err(error),
            End::Interrupted(interruption) => interruption,
        };
        interruption.log();
        tokio::select! {
            biased;
            () = &mut shutdown => break Ok(()),
            recovered = source.recover(RECOVERY_BUDGET) => match recovered {
                Ok(recovered) => consumer = recovered,
                Err(error) => break Err(error),
            },
        }
    };
    if let Err(error) = batches.reap() {
        tracing::error!(error = format!("{error:#}"), "command batch task failed");
    }
    let in_flight = batches.tasks.len();
    let drained = drain
        .bounded_batches(async {
            while let Some(joined) = batches.tasks.join_next().await {
                if let Err(error) = joined {
                    tracing::error!(%error, "command batch task failed while draining");
                }
            }
        })
        .await;
    match drained {
        Some(()) => tracing::info!(in_flight, "consumer drained"),
        None => {
            let abandoned = batches.tasks.len();
            // Dropping a batch rolls its transaction back; its messages are redelivered.
            batches.tasks.shutdown().await;
            tracing::warn!(
                abandoned,
                "drain deadline reached: batches in flight abandoned, their commands will be redelivered"
            );
        }
    }
    outcome
}

/// Pulls from one stream of `consumer` and starts batches until the stream ends or fails, or
/// `shutdown` resolves.
async fn consume(
    ctx: &WorkerContext,
    registry: &Arc<Registry>,
    source: &ConsumerSource,
    consumer: &PullConsumer,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    batches: &mut Batches,
) -> End {
    let messages = tokio::select! {
        biased;
        () = shutdown.as_mut() => return End::Shutdown,
        opened = source.pull(consumer) => match opened {
            Ok(messages) => messages,
            Err(interruption) => return End::Interrupted(interruption),
        },
    };
    let mut chunks = messages.ready_chunks(source.settings.batch_size);
    loop {
        if let Err(error) = batches.reap() {
            return End::Failed(error);
        }
        // A free slot first: what is taken from the stream starts at once.
        let permit = tokio::select! {
            biased;
            () = shutdown.as_mut() => return End::Shutdown,
            permit = batches.slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let chunk = tokio::select! {
            biased;
            () = shutdown.as_mut() => return End::Shutdown,
            chunk = chunks.next() => chunk,
        };
        let Some(chunk) = chunk else {
            return End::Interrupted(Interruption::Lost("the pull stream ended".to_owned()));
        };
        let mut messages = Vec::with_capacity(chunk.len());
        let mut interruption = None;
        for item in chunk {
            match item {
                Ok(message) => messages.push(message),
                Err(error) => interruption = Some(Interruption::from_error(&error)),
            }
        }
        if !messages.is_empty() {
            let ctx = ctx.clone();
            let registry = registry.clone();
            batches.tasks.spawn(async move {
                registry.dispatch(&ctx, messages).await;
                drop(permit);
            });
        }
        if let Some(interruption) = interruption {
            return End::Interrupted(interruption);
        }
    }
}
