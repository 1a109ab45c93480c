//! `GET /api/v1/ops/overview`: everything the ops page shows, in one call — queues with their
//! rates, throughput and latency of the last minutes, outbox lag, open dead letters, webhook
//! endpoints in trouble, and the processes seen recently.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::state::AppState;
use crate::db::command_throughput::{self, ThroughputBucket};
use crate::db::process_heartbeats::{self, Heartbeat};
use crate::db::webhook_endpoints::{self, WebhookEndpointView};
use crate::db::{dead_letters, outbox};
use crate::domain::dead_letter_resolution::authorise;
use crate::ops::queues::{self, ConsumerReading};

/// Charts cover this many seconds, in buckets of [`BUCKET_SECONDS`].
const WINDOW_SECONDS: f64 = 300.0;
const BUCKET_SECONDS: f64 = 15.0;
/// A process not seen for this long is gone (it reports every 5 s).
const SEEN_SECONDS: f64 = 30.0;
const TROUBLED_ENDPOINTS: i64 = 50;

/// The pipeline at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    /// When it was read.
    pub generated_at: DateTime<Utc>,
    /// Streams and their consumers.
    pub streams: Vec<StreamView>,
    /// Processed commands of the last five minutes, in 15-second buckets.
    pub throughput: Vec<ThroughputBucket>,
    /// Events committed, not yet published.
    pub outbox: OutboxLag,
    /// Open dead letters.
    pub dead_letters: DeadLetterCounts,
    /// Webhook endpoints disabled or failing.
    pub webhook_endpoints: EndpointHealth,
    /// Processes that reported within the last 30 s.
    pub processes: Vec<Heartbeat>,
}

/// A stream and its consumers.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamView {
    /// COMMANDS, EVENTS or DLQ.
    pub name: String,
    /// Messages stored.
    pub messages: u64,
    /// Bytes stored.
    pub bytes: u64,
    /// Its consumers.
    pub consumers: Vec<ConsumerView>,
}

/// A consumer's backlog and pace.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumerView {
    /// The reading.
    #[serde(flatten)]
    pub reading: ConsumerReading,
    /// Messages acknowledged per second over the last minute (null until two readings).
    pub acked_per_second: Option<f64>,
}

/// The outbox's backlog.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxLag {
    /// Rows (one per committed transaction with events) not yet published.
    pub rows: i64,
    /// Age of the oldest, in seconds.
    pub oldest_age_seconds: Option<f64>,
}

/// Open dead letters.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterCounts {
    /// All open ones.
    pub open: i64,
    /// By reason.
    pub by_reason: Vec<ReasonCount>,
}

/// Open dead letters of one reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonCount {
    /// The reason.
    pub reason: String,
    /// How many.
    pub count: i64,
}

/// Webhook endpoints by state, and those in trouble.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointHealth {
    /// Enabled.
    pub enabled: i64,
    /// Disabled (by a 410, by failing for days, or by their owner).
    pub disabled: i64,
    /// Enabled but failing.
    pub failing: i64,
    /// The disabled and failing ones, longest in trouble first (at most 50).
    pub in_trouble: Vec<TroubledEndpoint>,
}

/// An endpoint in trouble.
#[derive(Debug, Serialize, ToSchema)]
pub struct TroubledEndpoint {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookEndpointView,
    /// Since when its deliveries fail.
    pub failing_since: Option<DateTime<Utc>>,
}

/// Everything the ops page needs, in one call.
#[utoipa::path(get, path = "/api/v1/ops/overview", tag = "ops", security(("bearer" = [])),
    responses((status = 200, body = Overview), (status = 403, body = super::error::Problem),
        (status = 503, body = super::error::Problem)))]
pub async fn overview(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Overview>> {
    authorise(user.role).map_err(ApiError::Refused)?;
    let readings = queues::read(&state.js, &state.ns)
        .await
        .map_err(|e| ApiError::Unavailable(format!("nats: {e}")))?;
    let streams = with_rates(&state, readings);
    let throughput = command_throughput::recent(&state.db, BUCKET_SECONDS, WINDOW_SECONDS).await?;
    let (rows, oldest_age_seconds) = outbox::lag(&state.db).await?;
    let by_reason: Vec<ReasonCount> = dead_letters::count_by_reason(&state.db)
        .await?
        .into_iter()
        .map(|(reason, count)| ReasonCount { reason, count })
        .collect();
    let (enabled, disabled, failing) = webhook_endpoints::count_by_state(&state.db).await?;
    let in_trouble = webhook_endpoints::in_trouble(&state.db, TROUBLED_ENDPOINTS)
        .await?
        .into_iter()
        .map(|row| TroubledEndpoint {
            failing_since: row.failing_since,
            endpoint: row.view(),
        })
        .collect();
    Ok(Json(Overview {
        generated_at: Utc::now(),
        streams,
        throughput,
        outbox: OutboxLag {
            rows,
            oldest_age_seconds,
        },
        dead_letters: DeadLetterCounts {
            open: by_reason.iter().map(|r| r.count).sum(),
            by_reason,
        },
        webhook_endpoints: EndpointHealth {
            enabled,
            disabled,
            failing,
            in_trouble,
        },
        processes: process_heartbeats::seen_within(&state.db, SEEN_SECONDS).await?,
    }))
}

fn with_rates(state: &AppState, readings: Vec<queues::StreamReading>) -> Vec<StreamView> {
    let now = Instant::now();
    let mut rates = state
        .consumer_rates
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    readings
        .into_iter()
        .map(|stream| StreamView {
            consumers: stream
                .consumers
                .into_iter()
                .map(|reading| {
                    let key = format!("{}/{}", stream.name, reading.name);
                    ConsumerView {
                        acked_per_second: rates.record(now, &key, reading.ack_floor),
                        reading,
                    }
                })
                .collect(),
            name: stream.name,
            messages: stream.messages,
            bytes: stream.bytes,
        })
        .collect()
}
