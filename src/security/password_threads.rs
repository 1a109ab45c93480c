//! The few threads that hash and verify passwords. Argon2id takes 19 MiB and tens of
//! milliseconds per attempt by design; run on tokio's blocking pool, a login flood would start
//! up to 512 threads hashing at once (gigabytes), and every thread's allocator arena would keep
//! its 19 MiB after the flood: the fuzzing run left the ingress at 206 MiB, 125 of them freed
//! argon2 memory. Here a fixed number of threads does all password work, queued: memory stays
//! bounded by the thread count, and a flood waits its turn rather than starving the rest.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// Jobs waiting for a password thread at most; more wait for room (asynchronously).
const QUEUE: usize = 64;

/// Why password work gave no result: the threads stopped, or the work panicked.
#[derive(Debug, thiserror::Error)]
#[error("password work did not complete")]
pub struct PasswordWorkFailed;

/// A handle on the password threads; clones share them. They stop when every handle is gone.
#[derive(Clone)]
pub struct PasswordThreads {
    jobs: mpsc::Sender<Job>,
}

impl PasswordThreads {
    /// Starts `count` (at least one) threads named `password-<n>`.
    pub fn spawn(count: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..count.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    loop {
                        // One thread waits on the queue at a time; the others wait for it.
                        let job = match queue.lock() {
                            Ok(mut queue) => queue.blocking_recv(),
                            Err(_) => None,
                        };
                        let Some(job) = job else { return };
                        // A panic fails its own caller only (its reply is dropped unsent).
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on a password thread and returns its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordWorkFailed> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have given up (request timeout): nobody to tell, nothing to do.
            let _ = done.send(work());
        });
        self.jobs.send(job).await.map_err(|_| PasswordWorkFailed)?;
        result.await.map_err(|_| PasswordWorkFailed)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_flood_runs_on_the_fixed_threads_never_more_at_once() {
        let threads = PasswordThreads::spawn(2).unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..40).map(|_| {
            let (threads, running, most) = (threads.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                threads
                    .run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        running.fetch_sub(1, Ordering::SeqCst);
                        std::thread::current().name().unwrap_or_default().to_owned()
                    })
                    .await
                    .unwrap()
            })
        });
        let mut names = HashSet::new();
        for job in jobs.collect::<Vec<_>>() {
            names.insert(job.await.unwrap());
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "two at once, never more");
        assert!(names.len() <= 2, "{names:?}");
        assert!(
            names.iter().all(|n| n.starts_with("password-")),
            "{names:?}"
        );
    }

    #[tokio::test]
    async fn a_job_that_panics_is_an_error_and_the_threads_go_on() {
        let threads = PasswordThreads::spawn(1).unwrap();
        assert!(threads.run(|| panic!("corrupt input")).await.is_err());
        assert_eq!(threads.run(|| 7).await.unwrap(), 7);
    }
}
