//! Dead letters: commands that could not be processed, kept for operators to replay or discard.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::keyset::Position;

use crate::domain::dead_letter_resolution::{DeadLetterFacts, DeadLetterStatus};

/// A dead letter about to be recorded.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Derived from the stream sequence, so a redelivery records it once.
    pub id: Uuid,
    /// The command id, when the message could be decoded that far.
    pub command_id: Option<Uuid>,
    /// Original subject.
    pub subject: String,
    /// Original headers, `{name: [values]}`.
    pub headers: Value,
    /// Original payload.
    pub payload: Vec<u8>,
    /// Short machine reason: `undecodable`, `unknown_type`, `permanent_failure`, `out_of_retries`.
    pub reason: String,
    /// Human detail.
    pub error: String,
    /// Deliveries so far.
    pub delivery_count: i32,
    /// Sequence of the message in the COMMANDS stream.
    pub stream_sequence: i64,
}

/// Records a dead letter; returns false when it was recorded already.
pub async fn insert(conn: &mut PgConnection, letter: &DeadLetter) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO dead_letters (id, command_id, subject, headers, payload, reason, error, \
         delivery_count, stream_sequence) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(letter.id)
    .bind(letter.command_id)
    .bind(&letter.subject)
    .bind(&letter.headers)
    .bind(&letter.payload)
    .bind(&letter.reason)
    .bind(&letter.error)
    .bind(letter.delivery_count)
    .bind(letter.stream_sequence)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A stored dead letter, as operators see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadLetterRow {
    /// Id.
    pub id: Uuid,
    /// The command id, when known.
    pub command_id: Option<Uuid>,
    /// Original subject.
    pub subject: String,
    /// Original headers.
    pub headers: Value,
    /// Original payload.
    pub payload: Vec<u8>,
    /// Machine reason.
    pub reason: String,
    /// Detail.
    pub error: String,
    /// Deliveries before it was dead-lettered.
    pub delivery_count: i32,
    /// Sequence in the COMMANDS stream.
    pub stream_sequence: Option<i64>,
    /// OPEN, REPLAYED or DISCARDED.
    pub status: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When an operator resolved it.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who resolved it.
    pub resolved_by: Option<Uuid>,
    /// Why it was discarded.
    pub resolution_reason: Option<String>,
    /// The message id of its replay.
    pub replay_message_id: Option<Uuid>,
    /// Incremented by each resolution.
    pub version: i32,
}

impl DeadLetterRow {
    /// Its status (an unknown spelling cannot pass the table's check).
    pub fn status(&self) -> DeadLetterStatus {
        DeadLetterStatus::parse(&self.status).unwrap_or(DeadLetterStatus::Open)
    }

    /// What the resolution rules need to know.
    pub fn facts(&self, is_command_subject: bool) -> DeadLetterFacts {
        DeadLetterFacts {
            status: self.status(),
            replayable: is_command_subject
                && serde_json::from_slice::<&serde_json::value::RawValue>(&self.payload).is_ok(),
        }
    }
}

/// The columns of [`DeadLetterRow`], as a literal so queries stay static strings.
macro_rules! columns {
    () => {
        "id, command_id, subject, headers, payload, reason, error, delivery_count, \
         stream_sequence, status, created_at, resolved_at, resolved_by, resolution_reason, \
         replay_message_id, version"
    };
}

/// One dead letter.
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<DeadLetterRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM dead_letters WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// One dead letter, locked until the transaction ends (resolutions are serialised).
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<DeadLetterRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM dead_letters WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The latest dead letter of a command, if any.
pub async fn find_for_command(
    db: impl PgExecutor<'_>,
    command_id: Uuid,
) -> sqlx::Result<Option<DeadLetterRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM dead_letters WHERE command_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(command_id)
    .fetch_optional(db)
    .await
}

/// Which dead letters a list or a bulk resolution takes.
#[derive(Debug, Clone, Default)]
pub struct DeadLetterFilter {
    /// Only this status.
    pub status: Option<DeadLetterStatus>,
    /// Only this reason.
    pub reason: Option<String>,
}

/// Up to `limit` dead letters after `after`, newest first (keyset paging: stable while new
/// ones arrive).
pub async fn list(
    db: impl PgExecutor<'_>,
    filter: &DeadLetterFilter,
    after: Option<Position>,
    limit: i64,
) -> sqlx::Result<Vec<DeadLetterRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM dead_letters \
         WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR reason = $2) \
           AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(filter.status.map(DeadLetterStatus::as_str))
    .bind(filter.reason.as_deref())
    .bind(after.map(|p| p.at))
    .bind(after.map(|p| p.id))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The resolution of a dead letter, written under its lock.
#[derive(Debug, Clone)]
pub struct ResolutionRecord {
    /// The dead letter.
    pub id: Uuid,
    /// REPLAYED or DISCARDED.
    pub status: DeadLetterStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// The operator (none: the system).
    pub by: Option<Uuid>,
    /// Why it was discarded.
    pub reason: Option<String>,
    /// The message id the replay is published with.
    pub replay_message_id: Option<Uuid>,
}

/// Records a resolution; the row must be locked and OPEN.
pub async fn resolve(conn: &mut PgConnection, record: &ResolutionRecord) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE dead_letters SET status = $2, resolved_at = $3, resolved_by = $4, \
         resolution_reason = $5, replay_message_id = $6, version = version + 1 WHERE id = $1",
    )
    .bind(record.id)
    .bind(record.status.as_str())
    .bind(record.at)
    .bind(record.by)
    .bind(record.reason.as_deref())
    .bind(record.replay_message_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Open dead letters by reason.
pub async fn count_by_reason(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT reason, count(*) FROM dead_letters WHERE status = 'OPEN' \
         GROUP BY reason ORDER BY reason",
    )
    .fetch_all(db)
    .await
}
