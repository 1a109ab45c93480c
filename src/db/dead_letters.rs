//! Dead letters: commands that could not be processed, kept for operators.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A dead letter about to be recorded.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Derived from the stream sequence, so a redelivery records it once.
    pub id: Uuid,
    /// The command id, when the message could be decoded that far.
    pub command_id: Option<Uuid>,
    /// Original subject.
    pub subject: String,
    /// Original payload.
    pub payload: Vec<u8>,
    /// Short machine reason: `undecodable`, `unknown_type`, `permanent_failure`, `out_of_retries`.
    pub reason: String,
    /// Human detail.
    pub error: String,
    /// Deliveries so far.
    pub delivery_count: i32,
}

/// Records a dead letter; returns false when it was recorded already.
pub async fn insert(conn: &mut PgConnection, letter: &DeadLetter) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO dead_letters (id, command_id, subject, payload, reason, error, delivery_count) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(letter.id)
    .bind(letter.command_id)
    .bind(&letter.subject)
    .bind(&letter.payload)
    .bind(&letter.reason)
    .bind(&letter.error)
    .bind(letter.delivery_count)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The latest dead letter of a command, as an operator needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredDeadLetter {
    /// Original subject.
    pub subject: String,
    /// Original payload.
    pub payload: Vec<u8>,
    /// Machine reason.
    pub reason: String,
    /// Detail.
    pub error: String,
}

/// The latest dead letter of a command, if any.
pub async fn find_for_command(
    pool: &PgPool,
    command_id: Uuid,
) -> sqlx::Result<Option<StoredDeadLetter>> {
    sqlx::query_as(
        "SELECT subject, payload, reason, error FROM dead_letters WHERE command_id = $1 \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(command_id)
    .fetch_optional(pool)
    .await
}

/// Dead letters by reason.
pub async fn count_by_reason(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT reason, count(*) FROM dead_letters GROUP BY reason ORDER BY reason")
        .fetch_all(db)
        .await
}
