//! The transactional outbox: events written with the change, published by the relay.

use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::messaging::events::OutboxEvent;

#[derive(Serialize)]
struct Row<'a> {
    id: Uuid,
    subject: &'a str,
    payload: &'a crate::messaging::events::Event,
}

/// Writes events in one statement, inside the business transaction.
pub async fn insert_many(conn: &mut PgConnection, events: &[OutboxEvent]) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<Row<'_>> = events
        .iter()
        .map(|e| Row {
            id: e.event.id,
            subject: &e.subject,
            payload: &e.event,
        })
        .collect();
    sqlx::query(
        "INSERT INTO outbox (id, subject, payload) \
         SELECT id, subject, payload FROM jsonb_to_recordset($1) \
         AS x(id uuid, subject text, payload jsonb)",
    )
    .bind(Json(rows))
    .execute(conn)
    .await?;
    Ok(())
}

/// An outbox row claimed for publication.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingEvent {
    /// Event id (= message id).
    pub id: Uuid,
    /// Subject.
    pub subject: String,
    /// Serialized event.
    pub payload: Value,
}

/// Claims the least-tried, oldest unpublished events; relays in other processes skip them.
pub async fn claim(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<PendingEvent>> {
    sqlx::query_as(
        "SELECT id, subject, payload FROM outbox ORDER BY attempts, created_at, id \
         LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Removes published events.
pub async fn delete(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed publication attempt; the event is retried after fresher ones.
pub async fn record_failure(conn: &mut PgConnection, ids: &[Uuid], error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)")
        .bind(ids)
        .bind(error)
        .execute(conn)
        .await?;
    Ok(())
}
