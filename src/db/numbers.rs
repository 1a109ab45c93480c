//! Gapless document numbers: a counter row per (kind, year), bumped inside the business
//! transaction, so a rolled-back transaction gives its numbers back.

use sqlx::PgConnection;

use crate::domain::numbering::DocumentKind;

/// Reserves `count` consecutive numbers and returns the first. The row stays locked until
/// the transaction ends, which is what keeps the sequence gapless; callers take numbers late
/// in their transaction and always in the same kind order to keep that lock short and
/// deadlock-free.
pub async fn allocate(
    conn: &mut PgConnection,
    kind: DocumentKind,
    year: i32,
    count: i64,
) -> sqlx::Result<i64> {
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO number_sequences (kind, year, last_value) VALUES ($1, $2, $3) \
         ON CONFLICT (kind, year) DO UPDATE \
         SET last_value = number_sequences.last_value + EXCLUDED.last_value \
         RETURNING last_value",
    )
    .bind(kind.as_str())
    .bind(year)
    .bind(count)
    .fetch_one(conn)
    .await?;
    Ok(last - count + 1)
}
