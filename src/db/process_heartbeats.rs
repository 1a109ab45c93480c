//! Heartbeats of the running processes (ingress, workers, notifiers).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use utoipa::ToSchema;
use uuid::Uuid;

/// One process, as it last reported.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Heartbeat {
    /// Fresh for every start of a process.
    pub instance_id: Uuid,
    /// ingress, worker or notifier.
    pub role: String,
    /// Host name.
    pub host: String,
    /// Process id on that host.
    pub pid: i32,
    /// Where its /metrics, /health and /ready are served.
    pub ops_addr: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it last reported.
    pub seen_at: DateTime<Utc>,
}

/// Records that the process is alive now.
pub async fn beat(db: impl PgExecutor<'_>, heartbeat: &Heartbeat) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO process_heartbeats (instance_id, role, host, pid, ops_addr, started_at, seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, now()) \
         ON CONFLICT (instance_id) DO UPDATE SET seen_at = now()",
    )
    .bind(heartbeat.instance_id)
    .bind(&heartbeat.role)
    .bind(&heartbeat.host)
    .bind(heartbeat.pid)
    .bind(&heartbeat.ops_addr)
    .bind(heartbeat.started_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the rows of processes gone for a day: history, not operations. Each process does it
/// when it starts reporting, so the table holds about a day of restarts.
pub async fn prune(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM process_heartbeats WHERE seen_at < now() - interval '1 day'")
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}

/// Processes seen within the last `seconds`, by role and start.
pub async fn seen_within(db: impl PgExecutor<'_>, seconds: f64) -> sqlx::Result<Vec<Heartbeat>> {
    sqlx::query_as(
        "SELECT instance_id, role, host, pid, ops_addr, started_at, seen_at \
         FROM process_heartbeats WHERE seen_at > now() - make_interval(secs => $1) \
         ORDER BY role, started_at",
    )
    .bind(seconds)
    .fetch_all(db)
    .await
}
