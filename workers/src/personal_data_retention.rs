//! The personal-data retention job (issue 9 §5): once per interval across all workers, the
//! client addresses and user agents of security events older than the retention period are
//! deleted (they live in `audit_clients`, apart from the append-only audit rows, which stay),
//! and so are login-limit counters and revoked sessions nothing can need any more.

use std::time::Duration;

use tokio::sync::watch;

use bluewhale::db::{audit, login_limits, revoked_sessions};

use crate::context::WorkerContext;
use crate::periodic;

/// Name of the job's row in `scheduled_jobs`.
pub const JOB: &str = "personal_data_retention";

/// Counters and revocations older than this are dead (every window and every access token
/// is far shorter).
const BOOKKEEPING_KEPT: Duration = Duration::from_secs(2 * 86_400);

/// Runs the job every `interval` until `stop` turns true.
pub async fn run(
    ctx: WorkerContext,
    retention: Duration,
    interval: Duration,
    stop: watch::Receiver<bool>,
) {
    periodic::every(interval, stop, "retention: personal data deleted", || {
        run_once(&ctx, retention, interval)
    })
    .await;
}

/// One run, if this worker claims it: rows deleted, or `None` when another worker ran the job
/// within the interval.
pub async fn run_once(
    ctx: &WorkerContext,
    retention: Duration,
    interval: Duration,
) -> anyhow::Result<Option<usize>> {
    let Some((mut tx, now)) = periodic::claim(&ctx.db, JOB, interval).await? else {
        return Ok(None);
    };
    let clients =
        audit::purge_clients(&mut tx, now - chrono::Duration::from_std(retention)?).await?;
    let dead = now - chrono::Duration::from_std(BOOKKEEPING_KEPT)?;
    let counters = login_limits::purge(&mut tx, dead).await?;
    let sessions = revoked_sessions::purge(&mut tx, dead).await?;
    tx.commit().await?;
    Ok(Some(usize::try_from(clients + counters + sessions)?))
}
