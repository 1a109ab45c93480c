//! The notifier's durable delivery state: one message per (event, endpoint) or (event,
//! mailbox), claimed under a lease, and the log of its attempts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

use super::page::{PageRequest, Paged};
use crate::messaging::correlation::Correlation;
use crate::telemetry::TraceParent;

/// How a message reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    /// An HTTP POST to a webhook endpoint.
    Webhook,
    /// An e-mail to the supplier's order contact.
    Email,
}

impl Channel {
    /// Database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "WEBHOOK",
            Channel::Email => "EMAIL",
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageStatus {
    /// Not delivered yet; an attempt is scheduled.
    Pending,
    /// Delivered (a 2xx, or accepted by the SMTP server): final.
    Delivered,
    /// Every attempt of the schedule failed.
    Failed,
}

impl MessageStatus {
    /// Database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "PENDING",
            MessageStatus::Delivered => "DELIVERED",
            MessageStatus::Failed => "FAILED",
        }
    }
}

/// A message to create at fan-out.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Derived from the event and the target, so a redelivered event creates nothing new.
    pub id: Uuid,
    /// Webhook or e-mail.
    pub channel: Channel,
    /// The supplier it is for.
    pub supplier_id: Uuid,
    /// The endpoint (webhooks).
    pub endpoint_id: Option<Uuid>,
    /// The mailbox (e-mails).
    pub recipient: Option<String>,
    /// The event delivered.
    pub event_id: Uuid,
    /// Its type.
    pub event_type: String,
    /// What is sent, rendered once.
    pub body: String,
    /// The trace and request of the event it delivers.
    pub correlation: Correlation,
}

/// Creates the messages not created before; returns how many are new.
pub async fn insert_new(
    conn: &mut PgConnection,
    messages: &[NewMessage],
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    if messages.is_empty() {
        return Ok(0);
    }
    let column = |f: fn(&NewMessage) -> String| messages.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<Uuid> = messages.iter().map(|m| m.id).collect();
    let suppliers: Vec<Uuid> = messages.iter().map(|m| m.supplier_id).collect();
    let endpoints: Vec<Option<Uuid>> = messages.iter().map(|m| m.endpoint_id).collect();
    let recipients: Vec<Option<String>> = messages.iter().map(|m| m.recipient.clone()).collect();
    let events: Vec<Uuid> = messages.iter().map(|m| m.event_id).collect();
    let traces: Vec<Option<String>> = messages
        .iter()
        .map(|m| m.correlation.traceparent.map(|t| t.to_string()))
        .collect();
    let request_ids: Vec<Option<String>> = messages
        .iter()
        .map(|m| m.correlation.request_id.clone())
        .collect();
    sqlx::query(
        "INSERT INTO notification_messages (id, channel, supplier_id, endpoint_id, recipient,
             event_id, event_type, body, traceparent, request_id, next_attempt_at, created_at,
             updated_at)
         SELECT u.id, u.channel, u.supplier_id, u.endpoint_id, u.recipient, u.event_id,
             u.event_type, u.body, u.traceparent, u.request_id, $9, $9, $9
         FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[],
             $7::text[], $8::text[], $10::text[], $11::text[])
             AS u (id, channel, supplier_id, endpoint_id, recipient, event_id, event_type, body,
                   traceparent, request_id)
         ON CONFLICT DO NOTHING",
    )
    .bind(&ids)
    .bind(column(|m| m.channel.as_str().to_owned()))
    .bind(&suppliers)
    .bind(&endpoints)
    .bind(&recipients)
    .bind(&events)
    .bind(column(|m| m.event_type.clone()))
    .bind(column(|m| m.body.clone()))
    .bind(now)
    .bind(&traces)
    .bind(&request_ids)
    .execute(conn)
    .await
    .map(|done| done.rows_affected())
}

/// A message claimed for one attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedMessage {
    /// Message id.
    pub id: Uuid,
    /// `WEBHOOK` or `EMAIL`.
    pub channel: String,
    /// The supplier.
    pub supplier_id: Uuid,
    /// The endpoint (webhooks).
    pub endpoint_id: Option<Uuid>,
    /// The mailbox (e-mails).
    pub recipient: Option<String>,
    /// The event (the `webhook-id`).
    pub event_id: Uuid,
    /// Its type.
    pub event_type: String,
    /// What to send.
    pub body: String,
    /// This attempt's number (1-based, counting every round).
    pub attempts: i32,
    /// This attempt's number within the current round of the schedule.
    pub round_attempt: i32,
    /// The `traceparent` of the event it delivers.
    pub traceparent: Option<String>,
    /// The request at the origin.
    pub request_id: Option<String>,
}

impl ClaimedMessage {
    /// The trace and request it belongs to (a stored value that no longer parses is dropped).
    pub fn correlation(&self) -> Correlation {
        Correlation {
            traceparent: self
                .traceparent
                .as_deref()
                .and_then(|t| TraceParent::parse(t.as_bytes()).ok()),
            request_id: self.request_id.clone(),
        }
    }
}

/// Claims up to `limit` due messages for `lease`, at most `per_endpoint` in flight per webhook
/// endpoint (across every notifier), skipping disabled or deleted endpoints. Each claim counts
/// as an attempt, so a message whose delivery kills its notifier still moves along its
/// schedule.
pub async fn claim_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
    per_endpoint: i64,
    lease: Duration,
    token: Uuid,
) -> sqlx::Result<Vec<ClaimedMessage>> {
    let leased_until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    sqlx::query_as(
        "WITH busy AS (
             SELECT endpoint_id, count(*) AS n FROM notification_messages
             WHERE status = 'PENDING' AND leased_until > $1 AND endpoint_id IS NOT NULL
             GROUP BY endpoint_id
         ), ranked AS (
             SELECT m.id, m.next_attempt_at,
                 row_number() OVER (PARTITION BY coalesce(m.endpoint_id, m.id)
                                    ORDER BY m.next_attempt_at, m.id)
                 + coalesce(b.n, 0) AS slot
             FROM notification_messages m
             LEFT JOIN webhook_endpoints e ON e.id = m.endpoint_id
             LEFT JOIN busy b ON b.endpoint_id = m.endpoint_id
             WHERE m.status = 'PENDING' AND m.next_attempt_at <= $1
               AND (m.leased_until IS NULL OR m.leased_until <= $1)
               AND (m.channel = 'EMAIL' OR (e.enabled AND e.deleted_at IS NULL))
         ), due AS (
             SELECT m.id FROM notification_messages m JOIN ranked r ON r.id = m.id
             WHERE r.slot <= $3 AND m.status = 'PENDING'
               AND (m.leased_until IS NULL OR m.leased_until <= $1)
             ORDER BY r.next_attempt_at, m.id
             LIMIT $2
             FOR UPDATE OF m SKIP LOCKED
         )
         UPDATE notification_messages m
         SET lease_token = $4, leased_until = $5, attempts = m.attempts + 1, updated_at = $1
         FROM due WHERE m.id = due.id
         RETURNING m.id, m.channel, m.supplier_id, m.endpoint_id, m.recipient, m.event_id,
             m.event_type, m.body, m.attempts, m.attempts - m.round_start AS round_attempt,
             m.traceparent, m.request_id",
    )
    .bind(now)
    .bind(limit)
    .bind(per_endpoint)
    .bind(token)
    .bind(leased_until)
    .fetch_all(conn)
    .await
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// The message.
    pub message_id: Uuid,
    /// The claim it was made under.
    pub lease_token: Uuid,
    /// Its number.
    pub attempt: i32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: i32,
    /// A 2xx (or an accepted e-mail).
    pub succeeded: bool,
    /// The receiver's status, if it answered.
    pub http_status: Option<i32>,
    /// The first kilobyte of its answer.
    pub response_excerpt: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The next attempt (a failure with retries left), or none: delivered, or FAILED.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Records an attempt and moves the message on, in one transaction, if this notifier still
/// holds its lease (a notifier that stalled past its lease records nothing: the message is
/// someone else's now). Returns whether it was recorded.
pub async fn record_attempt(conn: &mut PgConnection, record: &AttemptRecord) -> sqlx::Result<bool> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let status = match (record.succeeded, record.next_attempt_at) {
        (true, _) => MessageStatus::Delivered,
        (false, Some(_)) => MessageStatus::Pending,
        (false, None) => MessageStatus::Failed,
    };
    let finished =
        record.started_at + chrono::Duration::milliseconds(i64::from(record.duration_ms));
    let moved = sqlx::query(
        "UPDATE notification_messages
         SET status = $3, next_attempt_at = $4, lease_token = NULL, leased_until = NULL,
             last_error = $5, delivered_at = CASE WHEN $6 THEN $7 ELSE delivered_at END,
             updated_at = $7
         WHERE id = $1 AND lease_token = $2 AND status = 'PENDING'",
    )
    .bind(record.message_id)
    .bind(record.lease_token)
    .bind(status.as_str())
    .bind(record.next_attempt_at)
    .bind(&record.error)
    .bind(record.succeeded)
    .bind(finished)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO notification_attempts (id, message_id, attempt, started_at, duration_ms,
             succeeded, http_status, response_excerpt, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::new_v5(
        &record.message_id,
        format!("attempt:{}", record.attempt).as_bytes(),
    ))
    .bind(record.message_id)
    .bind(record.attempt)
    .bind(record.started_at)
    .bind(record.duration_ms)
    .bind(record.succeeded)
    .bind(record.http_status)
    .bind(&record.response_excerpt)
    .bind(&record.error)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A message in an endpoint's delivery log.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct MessageView {
    /// The event (the `webhook-id` of its deliveries).
    pub event_id: Uuid,
    /// Its type.
    pub event_type: String,
    /// The mailbox, for e-mails.
    pub recipient: Option<String>,
    /// When the notifier took it up.
    pub created_at: DateTime<Utc>,
    /// PENDING, DELIVERED or FAILED.
    #[schema(value_type = MessageStatus)]
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The next attempt, while PENDING.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// Whose delivery log: one webhook endpoint's, or the e-mails to one supplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryLog {
    /// The messages of this webhook endpoint.
    Endpoint(Uuid),
    /// The e-mails to this supplier's order contact.
    SupplierEmails(Uuid),
}

impl DeliveryLog {
    /// `(endpoint_id, supplier_id)` as SQL parameters: exactly one is set.
    fn params(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            DeliveryLog::Endpoint(id) => (Some(id), None),
            DeliveryLog::SupplierEmails(id) => (None, Some(id)),
        }
    }
}

/// Selects the messages of a [`DeliveryLog`] (parameters $1 endpoint, $2 supplier).
const IN_LOG: &str = "(endpoint_id = $1 OR (channel = 'EMAIL' AND supplier_id = $2))";

/// A delivery log, newest first, optionally of one status.
pub async fn list(
    db: impl PgExecutor<'_> + Copy,
    log: DeliveryLog,
    status: Option<MessageStatus>,
    page: PageRequest,
) -> sqlx::Result<Paged<MessageView>> {
    let status = status.map(MessageStatus::as_str);
    let (endpoint, supplier) = log.params();
    let items = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT event_id, event_type, recipient, created_at, status, attempts, next_attempt_at,
             delivered_at, last_error
         FROM notification_messages
         WHERE {IN_LOG} AND ($3::text IS NULL OR status = $3)
         ORDER BY created_at DESC, id LIMIT $4 OFFSET $5"
    )))
    .bind(endpoint)
    .bind(supplier)
    .bind(status)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM notification_messages
         WHERE {IN_LOG} AND ($3::text IS NULL OR status = $3)"
    )))
    .bind(endpoint)
    .bind(supplier)
    .bind(status)
    .fetch_one(db)
    .await?;
    Ok(Paged { items, total })
}

/// One attempt in the delivery log.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AttemptView {
    /// Its number.
    pub attempt: i32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub duration_ms: i32,
    /// Whether it succeeded.
    pub succeeded: bool,
    /// The receiver's HTTP status, if it answered.
    pub http_status: Option<i32>,
    /// The first kilobyte of its answer.
    pub response_excerpt: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The attempts of one event's message in a delivery log, oldest first; `None` if the log
/// has no message of that event.
pub async fn attempts_for(
    db: impl PgExecutor<'_> + Copy,
    log: DeliveryLog,
    event_id: Uuid,
) -> sqlx::Result<Option<Vec<AttemptView>>> {
    let (endpoint, supplier) = log.params();
    let message: Option<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM notification_messages WHERE {IN_LOG} AND event_id = $3 LIMIT 1"
    )))
    .bind(endpoint)
    .bind(supplier)
    .bind(event_id)
    .fetch_optional(db)
    .await?;
    let Some(message) = message else {
        return Ok(None);
    };
    sqlx::query_as(
        "SELECT attempt, started_at, duration_ms, succeeded, http_status, response_excerpt, error
         FROM notification_attempts WHERE message_id = $1 ORDER BY attempt",
    )
    .bind(message)
    .fetch_all(db)
    .await
    .map(Some)
}

/// Schedules one event's message to an endpoint again now, in a new round, whatever its
/// status. Returns whether there was such a message.
pub async fn resend(
    conn: &mut PgConnection,
    endpoint_id: Uuid,
    event_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE notification_messages
         SET status = 'PENDING', next_attempt_at = $3, round_start = attempts,
             lease_token = NULL, leased_until = NULL, updated_at = $3
         WHERE endpoint_id = $1 AND event_id = $2",
    )
    .bind(endpoint_id)
    .bind(event_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|done| done.rows_affected() > 0)
}

/// Schedules every FAILED message of an endpoint created since `since` again now; returns
/// how many.
pub async fn recover(
    conn: &mut PgConnection,
    endpoint_id: Uuid,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    sqlx::query(
        "UPDATE notification_messages
         SET status = 'PENDING', next_attempt_at = $3, round_start = attempts, updated_at = $3
         WHERE endpoint_id = $1 AND status = 'FAILED' AND created_at >= $2",
    )
    .bind(endpoint_id)
    .bind(since)
    .bind(now)
    .execute(conn)
    .await
    .map(|done| done.rows_affected())
}

/// Per channel, the age in seconds of the oldest message not delivered yet.
pub async fn oldest_pending(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, f64)>> {
    sqlx::query_as(
        "SELECT channel, extract(epoch FROM now() - min(created_at))::float8
         FROM notification_messages WHERE status = 'PENDING' GROUP BY channel",
    )
    .fetch_all(db)
    .await
}
