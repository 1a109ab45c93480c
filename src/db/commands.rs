//! The processed-command record: what makes redelivered commands harmless.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// Its effects committed.
    Applied,
    /// The business rules refused it (the refusal itself is recorded, e.g. a REJECTED order).
    Rejected,
    /// It could not be processed and went to the dead-letter queue.
    DeadLettered,
}

/// One processed command.
#[derive(Debug, Clone, Serialize)]
pub struct CommandRecord {
    /// Command id.
    pub id: Uuid,
    /// Command type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Subject it arrived on.
    pub subject: String,
    /// Issuer as in the envelope.
    pub actor: Value,
    /// Request id.
    pub request_id: Option<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// Error details, when not applied.
    pub error: Option<Value>,
    /// When the ingress accepted it.
    pub issued_at: DateTime<Utc>,
}

/// Which of `ids` were processed already.
pub async fn already_processed(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT id FROM commands WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Records processed commands in one statement.
pub async fn insert_many(conn: &mut PgConnection, records: &[CommandRecord]) -> sqlx::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO commands (id, type, subject, actor, request_id, outcome, error, issued_at) \
         SELECT id, type, subject, actor, request_id, outcome, error, issued_at \
         FROM jsonb_to_recordset($1) AS x(id uuid, type text, subject text, actor jsonb, \
              request_id text, outcome text, error jsonb, issued_at timestamptz)",
    )
    .bind(Json(records))
    .execute(conn)
    .await?;
    Ok(())
}
