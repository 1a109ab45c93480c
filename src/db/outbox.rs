//! The transactional outbox: the events of a transaction, written with its change as one row
//! and published by the relay.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::messaging::correlation::Correlation;
use crate::messaging::events::{Event, OutboxEvent};

/// One message as written to an outbox row: an event, or a command published again.
#[derive(Debug, Serialize)]
struct StoredEvent<'a, T: Serialize + ?Sized> {
    subject: &'a str,
    id: Uuid,
    event: &'a T,
    #[serde(flatten)]
    correlation: &'a Correlation,
}

/// One event as read back for publication: the event stays raw JSON, published byte for byte.
#[derive(Debug, Deserialize)]
pub struct PendingEvent {
    /// Full subject (namespace included).
    pub subject: String,
    /// Event id, the message id.
    pub id: Uuid,
    /// The serialised event.
    pub event: Box<RawValue>,
    /// Its trace and request, published as headers.
    #[serde(flatten)]
    pub correlation: Correlation,
}

/// Writes the events of the current transaction as one outbox row (nothing if there are none).
pub async fn insert(conn: &mut PgConnection, events: &[OutboxEvent]) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let stored: Vec<StoredEvent<'_, Event>> = events
        .iter()
        .map(|e| StoredEvent {
            subject: &e.subject,
            id: e.event.id,
            event: &e.event,
            correlation: &e.correlation,
        })
        .collect();
    insert_row(conn, &stored).await
}

/// Writes a command to be published again (a dead letter's replay) as its own outbox row: the
/// relay publishes it byte for byte on `subject` with message id `message_id`, once the
/// transaction that decided the replay has committed, in the trace of `correlation`.
pub async fn insert_command(
    conn: &mut PgConnection,
    subject: &str,
    message_id: Uuid,
    payload: &RawValue,
    correlation: &Correlation,
) -> sqlx::Result<()> {
    let stored = [StoredEvent {
        subject,
        id: message_id,
        event: payload,
        correlation,
    }];
    insert_row(conn, &stored).await
}

async fn insert_row<T: Serialize + ?Sized>(
    conn: &mut PgConnection,
    stored: &[StoredEvent<'_, T>],
) -> sqlx::Result<()> {
    let json = serde_json::to_string(&stored).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("INSERT INTO outbox (id, events, event_count) VALUES ($1, $2::json, $3)")
        .bind(Uuid::now_v7())
        .bind(json)
        .bind(i32::try_from(stored.len()).unwrap_or(i32::MAX))
        .execute(conn)
        .await?;
    Ok(())
}

/// An outbox row claimed for publication, its events still as written.
#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedRow {
    /// Row id.
    pub id: Uuid,
    /// The JSON array of its events.
    pub events: String,
}

impl ClaimedRow {
    /// Its events, in the order they were written.
    pub fn parse(&self) -> Result<Vec<PendingEvent>, serde_json::Error> {
        serde_json::from_str(&self.events)
    }
}

/// Claims the least-tried, oldest rows; relays in other processes skip them.
pub async fn claim(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<ClaimedRow>> {
    sqlx::query_as(
        "SELECT id, events::text AS events FROM outbox ORDER BY attempts, created_at, id \
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

/// Outbox rows not yet published, and the age of the oldest in seconds.
pub async fn lag(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<(i64, Option<f64>)> {
    sqlx::query_as(
        "SELECT count(*), extract(epoch FROM now() - min(created_at))::float8 FROM outbox",
    )
    .fetch_one(db)
    .await
}
