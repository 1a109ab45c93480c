//! The loop of a job that runs once per interval across every worker (the claim itself is
//! [`bluewhale::db::scheduled_jobs::claim`]).

use std::future::Future;
use std::time::Duration;

use bluewhale::db::scheduled_jobs;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
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

/// Claims this interval's run of `job`: its transaction and instant, or `None` when another
/// worker ran it within the interval. The run counts once the transaction commits.
pub async fn claim(
    db: &PgPool,
    job: &str,
    interval: Duration,
) -> anyhow::Result<Option<(Transaction<'static, Postgres>, DateTime<Utc>)>> {
    let now = Utc::now();
    let mut tx = db.begin().await?;
    // A little less than the interval, so that timer drift never skips a run.
    let spacing = chrono::Duration::from_std(interval.mul_f64(0.9))?;
    if scheduled_jobs::claim(&mut tx, job, spacing, now).await? {
        Ok(Some((tx, now)))
    } else {
        Ok(None)
    }
}
