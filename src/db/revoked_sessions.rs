//! Ended sessions (`revoked_sessions`): what every ingress refuses access tokens of.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The channel an insert notifies (see the migration's trigger).
pub const CHANNEL: &str = "bw_revoked_sessions";

/// Records sessions of `user_id` as ended (already ended ones stay as they were).
pub async fn revoke(
    conn: &mut PgConnection,
    user_id: Uuid,
    sessions: &[Uuid],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if sessions.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO revoked_sessions (session_id, user_id, revoked_at) \
         SELECT s, $2, $3 FROM UNNEST($1::uuid[]) AS s ON CONFLICT (session_id) DO NOTHING",
    )
    .bind(sessions)
    .bind(user_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sessions ended since `since` (older ones have no live access token left).
pub async fn since(pool: &PgPool, since: DateTime<Utc>) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT session_id FROM revoked_sessions WHERE revoked_at > $1")
        .bind(since)
        .fetch_all(pool)
        .await
}

/// Deletes revocations older than `before` (no access token of theirs can be live).
pub async fn purge(conn: &mut PgConnection, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM revoked_sessions WHERE revoked_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
