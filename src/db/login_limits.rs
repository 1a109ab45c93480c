//! Fixed-window counters behind the login limits, shared by every ingress (`login_limits`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A counter's state after a read or a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Hits in the current window.
    pub hits: u32,
    /// When the current window ends.
    pub ends_at: DateTime<Utc>,
}

fn interval(window: Duration) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(window.as_micros()).unwrap_or(i64::MAX),
    }
}

fn to_window((hits, start): (i32, DateTime<Utc>), window: Duration) -> Window {
    Window {
        hits: u32::try_from(hits).unwrap_or(0),
        ends_at: start + chrono::Duration::from_std(window).unwrap_or(chrono::Duration::zero()),
    }
}

/// Counts one hit on `key`; a window that has passed starts again at `now`.
pub async fn hit(
    conn: &mut PgConnection,
    key: &str,
    window: Duration,
    now: DateTime<Utc>,
) -> sqlx::Result<Window> {
    let row: (i32, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO login_limits AS l (key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN l.window_start > $2 - $3 THEN l.hits + 1 ELSE 1 END, \
           window_start = CASE WHEN l.window_start > $2 - $3 THEN l.window_start ELSE $2 END \
         RETURNING hits, window_start",
    )
    .bind(key)
    .bind(now)
    .bind(interval(window))
    .fetch_one(conn)
    .await?;
    Ok(to_window(row, window))
}

/// The hits of `key` in its current window (0 when none or passed).
pub async fn read(
    conn: &mut PgConnection,
    key: &str,
    window: Duration,
    now: DateTime<Utc>,
) -> sqlx::Result<Window> {
    let row: Option<(i32, DateTime<Utc>)> = sqlx::query_as(
        "SELECT hits, window_start FROM login_limits WHERE key = $1 AND window_start > $2 - $3",
    )
    .bind(key)
    .bind(now)
    .bind(interval(window))
    .fetch_optional(conn)
    .await?;
    Ok(to_window(row.unwrap_or((0, now)), window))
}

/// Forgets `key` (a successful login clears its (account, address) failures).
pub async fn clear(conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_limits WHERE key = $1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes counters whose window started before `before` (the retention job).
pub async fn purge(conn: &mut PgConnection, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM login_limits WHERE window_start < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
