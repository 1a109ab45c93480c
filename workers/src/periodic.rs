//! The loop of a job that runs once per interval across every worker (the claim itself is
//! [`bluewhale::db::scheduled_jobs::claim`]).

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Calls `run_once` every `interval` until `stop` turns true. A run answers how many things
/// it did (`None`: another worker had the run); `what` names them in the log.
pub async fn every<F, Fut>(
    interval: Duration,
    mut stop: watch::Receiver<bool>,
    what: &'static str,
    mut run_once: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<usize>>>,
{
    loop {
        match run_once().await {
            Ok(Some(done)) if done > 0 => tracing::info!(done, "{what}"),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %error, job = what, "scheduled run failed; retried next interval")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The least time between two claimed runs: a little less than the interval, so that timer
/// drift never skips a run.
pub fn spacing(interval: Duration) -> Result<chrono::Duration, chrono::OutOfRangeError> {
    chrono::Duration::from_std(interval.mul_f64(0.9))
}
