//! The drain deadline: from the shutdown signal, everything the worker still does (batches in
//! flight, the relay's round, the final flush) gets at most this long, then is abandoned.
//! Abandoned commands were not acknowledged and are redelivered; abandoned outbox rows stay
//! for the next relay.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

/// Part of the drain kept after the batches' share for the relay's last round and closing
/// connections (a quarter of the drain when that is shorter).
const CLEANUP_RESERVE: Duration = Duration::from_secs(1);

/// The shutdown signal of a worker and the deadline it starts.
#[derive(Clone, Debug)]
pub struct Drain {
    timeout: Duration,
    deadline: Arc<OnceLock<Instant>>,
}

impl Drain {
    /// A drain of at most `timeout` after the signal.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            deadline: Arc::default(),
        }
    }

    /// Resolves with `shutdown`, and starts the deadline then.
    pub fn signal(
        &self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> impl Future<Output = ()> + Send {
        let drain = self.clone();
        async move {
            shutdown.await;
            drain.deadline();
        }
    }

    /// The deadline: `timeout` after the signal, or from now if the worker stops for another
    /// reason (its consumer lost for good).
    pub fn deadline(&self) -> Instant {
        *self.deadline.get_or_init(|| Instant::now() + self.timeout)
    }

    /// Runs `work` until the deadline less the cleanup reserve: batches in flight stop there so
    /// that the relay and the connections still get their turn before the deadline.
    pub async fn bounded_batches<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let reserve = CLEANUP_RESERVE.min(self.timeout / 4);
        tokio::time::timeout_at(self.deadline() - reserve, work)
            .await
            .ok()
    }

    /// Runs `work` until the deadline; `None` if the deadline came first (`work` is dropped).
    pub async fn bounded<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        tokio::time::timeout_at(self.deadline(), work).await.ok()
    }
}
