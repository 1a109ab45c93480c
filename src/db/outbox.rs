//! The transactional outbox: the events of a transaction, written with its change as one row
//! and published by the relay.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::messaging::events::{Event, OutboxEvent};

/// One event as stored in an outbox row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Full subject (namespace included).
    pub subject: String,
    /// The event.
    pub event: Event,
}

/// Writes the events of the current transaction as one outbox row (nothing if there are none).
pub async fn insert(conn: &mut PgConnection, events: &[OutboxEvent]) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let stored: Vec<StoredEvent> = events
        .iter()
        .map(|e| StoredEvent {
            subject: e.subject.clone(),
            event: e.event.clone(),
        })
        .collect();
    sqlx::query("INSERT INTO outbox (id, events, event_count) VALUES ($1, $2, $3)")
        .bind(Uuid::now_v7())
        .bind(Json(&stored))
        .bind(i32::try_from(stored.len()).unwrap_or(i32::MAX))
        .execute(conn)
        .await?;
    Ok(())
}

/// An outbox row claimed for publication.
#[derive(Debug, sqlx::FromRow)]
pub struct PendingBatch {
    /// Row id.
    pub id: Uuid,
    /// Its events, in the order they were written.
    pub events: Json<Vec<StoredEvent>>,
}

/// Claims the least-tried, oldest rows; relays in other processes skip them.
pub async fn claim(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<PendingBatch>> {
    sqlx::query_as(
        "SELECT id, events FROM outbox ORDER BY attempts, created_at, id \
         LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Removes published rows.
pub async fn delete(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed publication attempt; the rows are retried after fresher ones.
pub async fn record_failure(
    conn: &mut PgConnection,
    ids: &[Uuid],
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)")
        .bind(ids)
        .bind(error)
        .execute(conn)
        .await?;
    Ok(())
}
