//! Group commit: requests that arrive together share one round trip. A task takes the first
//! waiting request, then whatever else is already queued or arrives within the linger (at
//! most `max`), and serves the group; up to `in_flight` groups are served at once and new
//! requests queue meanwhile, so groups grow with the load and stay single when it is light.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};

/// How requests are gathered.
#[derive(Debug, Clone, Copy)]
pub struct GroupSettings {
    /// Longest wait for more requests once the first is taken (zero: only those queued).
    pub linger: Duration,
    /// Most requests in one group.
    pub max: usize,
    /// Groups served at once.
    pub in_flight: usize,
}

type Waiting<T, R> = (T, oneshot::Sender<R>);

/// A handle to a group-commit task: [`Group::call`] waits for the request's own result.
pub struct Group<T, R> {
    queue: mpsc::Sender<Waiting<T, R>>,
}

impl<T, R> Clone for Group<T, R> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

/// The group task is gone (the process is shutting down).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the group-commit task has stopped")]
pub struct GroupClosed;

impl<T: Send + 'static, R: Send + 'static> Group<T, R> {
    /// Starts the task; `serve` answers a group with one result per request, in order.
    pub fn spawn<F, Fut>(settings: GroupSettings, serve: F) -> Self
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let (queue, requests) = mpsc::channel(settings.max.max(1) * settings.in_flight.max(1));
        tokio::spawn(run(settings, requests, Arc::new(serve)));
        Self { queue }
    }

    /// Queues `item` and waits for its result.
    pub async fn call(&self, item: T) -> Result<R, GroupClosed> {
        let (reply, result) = oneshot::channel();
        self.queue
            .send((item, reply))
            .await
            .map_err(|_| GroupClosed)?;
        result.await.map_err(|_| GroupClosed)
    }
}

async fn run<T, R, F, Fut>(
    settings: GroupSettings,
    mut requests: mpsc::Receiver<Waiting<T, R>>,
    serve: Arc<F>,
) where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<R>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(settings.in_flight.max(1)));
    loop {
        // A free slot first: while every slot is busy, requests gather in the queue.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = requests.recv().await else {
            return;
        };
        let group = gather(&mut requests, first, settings).await;
        let serve = serve.clone();
        tokio::spawn(async move {
            let (items, replies): (Vec<T>, Vec<oneshot::Sender<R>>) = group.into_iter().unzip();
            // A reply left unsent (fewer results than requests) reaches its caller as
            // GroupClosed rather than as someone else's result.
            for (result, reply) in serve(items).await.into_iter().zip(replies) {
                let _ = reply.send(result);
            }
            drop(slot);
        });
    }
}

/// `first` and what else is queued or arrives within the linger, up to `max`.
async fn gather<T, R>(
    requests: &mut mpsc::Receiver<Waiting<T, R>>,
    first: Waiting<T, R>,
    settings: GroupSettings,
) -> Vec<Waiting<T, R>> {
    let mut group = vec![first];
    let deadline = tokio::time::Instant::now() + settings.linger;
    while group.len() < settings.max {
        match requests.try_recv() {
            Ok(next) => group.push(next),
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) => {
                if settings.linger.is_zero() {
                    break;
                }
                tokio::select! {
                    next = requests.recv() => match next {
                        Some(next) => group.push(next),
                        None => break,
                    },
                    () = tokio::time::sleep_until(deadline) => break,
                }
            }
        }
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(in_flight: usize) -> GroupSettings {
        GroupSettings {
            linger: Duration::ZERO,
            max: 100,
            in_flight,
        }
    }

    #[tokio::test]
    async fn each_caller_gets_its_own_result() {
        let group = Group::spawn(settings(2), |items: Vec<u32>| async move {
            items.into_iter().map(|i| i * 10).collect::<Vec<_>>()
        });
        let calls = (0..50).map(|i| {
            let group = group.clone();
            async move { (i, group.call(i).await.unwrap()) }
        });
        for (i, result) in futures::future::join_all(calls).await {
            assert_eq!(result, i * 10);
        }
    }

    #[tokio::test]
    async fn requests_queued_while_a_group_is_served_form_the_next_group() {
        let (release, released) = tokio::sync::watch::channel(false);
        let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let group = Group::spawn(settings(1), move |items: Vec<u32>| {
            let mut released = released.clone();
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(items.len());
                // The first group holds the only slot until released.
                let _ = released.wait_for(|r| *r).await;
                items
            }
        });
        let first = tokio::spawn({
            let group = group.clone();
            async move { group.call(0).await }
        });
        // Wait until the first group is being served, then queue ten more.
        while sizes.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        let rest: Vec<_> = (1..=10)
            .map(|i| {
                let group = group.clone();
                tokio::spawn(async move { group.call(i).await })
            })
            .collect();
        while group.queue.capacity() > group.queue.max_capacity() - 10 {
            tokio::task::yield_now().await;
        }
        release.send(true).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 0);
        for (i, call) in (1..=10).zip(rest) {
            assert_eq!(call.await.unwrap().unwrap(), i);
        }
        assert_eq!(*sizes.lock().unwrap(), [1, 10]);
    }

    #[tokio::test]
    async fn a_short_answer_fails_the_unanswered_calls_only() {
        let group = Group::spawn(
            GroupSettings {
                linger: Duration::from_millis(50),
                max: 2,
                in_flight: 1,
            },
            |items: Vec<u32>| async move { items.into_iter().take(1).collect::<Vec<_>>() },
        );
        let (a, b) = tokio::join!(group.call(1), group.call(2));
        assert_eq!(a.unwrap(), 1);
        assert!(b.is_err());
    }
}
