//! The processed-command record: what makes redelivered commands harmless, and what
//! `GET /commands/{id}` and `Prefer: wait` read.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// Its effects committed.
    Applied,
    /// The business rules refused it (the refusal itself is recorded, e.g. a REJECTED order).
    Rejected,
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
    /// The refusal (`{code, detail, errors}`), when rejected.
    pub error: Option<Value>,
    /// When the ingress accepted it.
    pub issued_at: DateTime<Utc>,
    /// Type of the aggregate it changed.
    pub aggregate_type: String,
    /// The aggregate it changed.
    pub aggregate_id: Uuid,
    /// Hash of the request that carried it (tells a replay from a reused key).
    pub request_hash: Option<String>,
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
        "INSERT INTO commands (id, type, subject, actor, request_id, outcome, error, issued_at, \
           aggregate_type, aggregate_id, request_hash) \
         SELECT id, type, subject, actor, request_id, outcome, error, issued_at, aggregate_type, \
           aggregate_id, request_hash \
         FROM jsonb_to_recordset($1) AS x(id uuid, type text, subject text, actor jsonb, \
              request_id text, outcome text, error jsonb, issued_at timestamptz, \
              aggregate_type text, aggregate_id uuid, request_hash text)",
    )
    .bind(Json(records))
    .execute(conn)
    .await?;
    Ok(())
}

/// A processed command as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredCommand {
    /// Id.
    pub id: Uuid,
    /// Type.
    #[sqlx(rename = "type")]
    pub kind: String,
    /// Issuer's user id.
    pub user_id: Option<Uuid>,
    /// APPLIED or REJECTED.
    pub outcome: String,
    /// The refusal, when rejected.
    pub error: Option<Value>,
    /// Aggregate type (null for commands recorded before it was kept).
    pub aggregate_type: Option<String>,
    /// Aggregate id.
    pub aggregate_id: Option<Uuid>,
    /// Hash of the carrying request.
    pub request_hash: Option<String>,
    /// Acceptance instant.
    pub issued_at: DateTime<Utc>,
    /// Processing instant.
    pub processed_at: DateTime<Utc>,
}

/// The processed commands among `ids` (one query for a group of requests).
pub async fn find_many(pool: &PgPool, ids: &[Uuid]) -> sqlx::Result<Vec<StoredCommand>> {
    sqlx::query_as(
        "SELECT id, type, (actor ->> 'user_id')::uuid AS user_id, outcome, error, \
           aggregate_type, aggregate_id, request_hash, issued_at, processed_at \
         FROM commands WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// A processed command by id.
pub async fn find(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<StoredCommand>> {
    sqlx::query_as(
        "SELECT id, type, (actor ->> 'user_id')::uuid AS user_id, outcome, error, \
           aggregate_type, aggregate_id, request_hash, issued_at, processed_at \
         FROM commands WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}
