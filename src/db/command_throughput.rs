//! Throughput and end-to-end latency of processed commands over the last minutes, in buckets,
//! for the ops overview's charts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use utoipa::ToSchema;

/// One bucket of processed commands.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct ThroughputBucket {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Commands applied in it.
    pub applied: i64,
    /// Commands rejected in it.
    pub rejected: i64,
    /// Median seconds from acceptance to commit.
    pub latency_p50_seconds: Option<f64>,
    /// 99th percentile of the same.
    pub latency_p99_seconds: Option<f64>,
}

/// Buckets of `bucket_seconds` over the last `window_seconds`, oldest first (empty buckets
/// are absent).
pub async fn recent(
    db: impl PgExecutor<'_>,
    bucket_seconds: f64,
    window_seconds: f64,
) -> sqlx::Result<Vec<ThroughputBucket>> {
    sqlx::query_as(
        "SELECT date_bin(make_interval(secs => $1), processed_at, timestamptz 'epoch') AS start, \
           count(*) FILTER (WHERE outcome = 'APPLIED') AS applied, \
           count(*) FILTER (WHERE outcome = 'REJECTED') AS rejected, \
           percentile_cont(0.5) WITHIN GROUP \
             (ORDER BY extract(epoch FROM processed_at - issued_at)::float8) AS latency_p50_seconds, \
           percentile_cont(0.99) WITHIN GROUP \
             (ORDER BY extract(epoch FROM processed_at - issued_at)::float8) AS latency_p99_seconds \
         FROM commands WHERE processed_at > now() - make_interval(secs => $2) \
         GROUP BY 1 ORDER BY 1",
    )
    .bind(bucket_seconds)
    .bind(window_seconds)
    .fetch_all(db)
    .await
}
