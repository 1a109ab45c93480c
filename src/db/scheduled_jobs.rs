//! Jobs that run once per interval across any number of workers: a worker claims a run by
//! locking the job's row (the others skip it) when the last run is at least an interval old.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Claims a run of `job` inside the caller's transaction: true when this transaction holds the
/// job's row and its last run is at least `interval` before `now`, in which case the run is
/// recorded (it counts once the transaction commits; a rollback gives the run back).
pub async fn claim(
    conn: &mut PgConnection,
    job: &str,
    interval: chrono::Duration,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO scheduled_jobs (name, last_run_at) VALUES ($1, 'epoch') \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(job)
    .execute(&mut *conn)
    .await?;
    let last: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT last_run_at FROM scheduled_jobs WHERE name = $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(job)
    .fetch_optional(&mut *conn)
    .await?;
    let due = last.is_some_and(|last| last <= now - interval);
    if due {
        sqlx::query("UPDATE scheduled_jobs SET last_run_at = $2 WHERE name = $1")
            .bind(job)
            .bind(now)
            .execute(conn)
            .await?;
    }
    Ok(due)
}
