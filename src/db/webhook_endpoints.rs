//! Webhook endpoints: the rows the worker changes, the views the API shows (never a secret),
//! and the targets the notifier delivers to.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::webhook_endpoint_changes::EndpointState;

/// An endpoint as stored, secrets sealed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EndpointRow {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub supplier_id: Uuid,
    /// Where deliveries go.
    pub url: String,
    /// Free text.
    pub description: Option<String>,
    /// Subscribed types; none: every supplier event.
    pub event_types: Option<Vec<String>>,
    /// Whether deliveries go out.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Sealed current secret.
    pub secret: Vec<u8>,
    /// Sealed previous secret, during a rotation's overlap.
    pub previous_secret: Option<Vec<u8>>,
    /// End of that overlap.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// First failure since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Incremented by every change.
    pub version: i32,
    /// Set once deleted.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl EndpointRow {
    /// What the change rules look at.
    pub fn state(&self) -> EndpointState {
        EndpointState {
            supplier_id: self.supplier_id,
            enabled: self.enabled,
            deleted: self.deleted_at.is_some(),
            version: self.version,
        }
    }

    /// The API representation.
    pub fn view(&self) -> WebhookEndpointView {
        WebhookEndpointView {
            id: self.id,
            supplier_id: self.supplier_id,
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.event_types.clone(),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason.clone(),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A webhook endpoint as the API shows it: never a secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookEndpointView {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub supplier_id: Uuid,
    /// Where deliveries go.
    pub url: String,
    /// Free text.
    pub description: Option<String>,
    /// Subscribed event types; `null`: every supplier event.
    pub event_types: Option<Vec<String>>,
    /// Whether deliveries go out.
    pub enabled: bool,
    /// Why it was disabled (410 from the receiver, failing for days, or its owner).
    pub disabled_reason: Option<String>,
    /// Incremented by every change; also the `ETag`.
    pub version: i32,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, supplier_id, url, description, event_types, enabled, disabled_reason, \
     secret, previous_secret, previous_secret_expires_at, failing_since, version, deleted_at, \
     created_at, updated_at";

/// Endpoints disabled or failing, the longest in trouble first, at most `limit`.
pub async fn in_trouble(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
         WHERE deleted_at IS NULL AND (NOT enabled OR failing_since IS NOT NULL)
         ORDER BY coalesce(failing_since, updated_at), id LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One endpoint, deleted or not.
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// One endpoint, locked for a change.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A supplier's endpoints, oldest first, deleted ones left out.
pub async fn list_for_supplier(
    db: impl PgExecutor<'_>,
    supplier_id: Uuid,
) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
         WHERE supplier_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
    )))
    .bind(supplier_id)
    .fetch_all(db)
    .await
}

/// Inserts a new endpoint.
pub async fn insert(conn: &mut PgConnection, row: &EndpointRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, supplier_id, url, description, event_types, enabled,
             disabled_reason, secret, previous_secret, previous_secret_expires_at, failing_since,
             version, deleted_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(row.id)
    .bind(row.supplier_id)
    .bind(&row.url)
    .bind(&row.description)
    .bind(&row.event_types)
    .bind(row.enabled)
    .bind(&row.disabled_reason)
    .bind(&row.secret)
    .bind(&row.previous_secret)
    .bind(row.previous_secret_expires_at)
    .bind(row.failing_since)
    .bind(row.version)
    .bind(row.deleted_at)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(conn)
    .await
    .map(drop)
}

/// Writes back a changed endpoint (every mutable column).
pub async fn update(conn: &mut PgConnection, row: &EndpointRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET url = $2, description = $3, event_types = $4, enabled = $5,
             disabled_reason = $6, secret = $7, previous_secret = $8,
             previous_secret_expires_at = $9, failing_since = $10, version = $11,
             deleted_at = $12, updated_at = $13
         WHERE id = $1",
    )
    .bind(row.id)
    .bind(&row.url)
    .bind(&row.description)
    .bind(&row.event_types)
    .bind(row.enabled)
    .bind(&row.disabled_reason)
    .bind(&row.secret)
    .bind(&row.previous_secret)
    .bind(row.previous_secret_expires_at)
    .bind(row.failing_since)
    .bind(row.version)
    .bind(row.deleted_at)
    .bind(row.updated_at)
    .execute(conn)
    .await
    .map(drop)
}

/// The enabled endpoints of a supplier subscribed to `event_type` (the notifier's fan-out).
pub async fn subscribed(
    db: impl PgExecutor<'_>,
    supplier_id: Uuid,
    event_type: &str,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints
         WHERE supplier_id = $1 AND enabled AND deleted_at IS NULL
           AND (event_types IS NULL OR $2 = ANY (event_types))",
    )
    .bind(supplier_id)
    .bind(event_type)
    .fetch_all(db)
    .await
}

/// Marks the endpoint failing since `at` unless it already is; clears the mark on success.
pub async fn record_health(
    db: impl PgExecutor<'_>,
    id: Uuid,
    succeeded: bool,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints
         SET failing_since = CASE WHEN $2 THEN NULL ELSE $3 END
         WHERE id = $1 AND (failing_since IS NULL) <> $2",
    )
    .bind(id)
    .bind(succeeded)
    .bind(at)
    .execute(db)
    .await
    .map(drop)
}

/// Enabled endpoints whose deliveries have all failed since before `cutoff`.
pub async fn failing_since_before(
    db: impl PgExecutor<'_>,
    cutoff: DateTime<Utc>,
) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
         WHERE enabled AND deleted_at IS NULL AND failing_since < $1"
    )))
    .bind(cutoff)
    .fetch_all(db)
    .await
}

/// Endpoints not deleted: `(enabled, disabled, failing)`, failing being enabled ones whose
/// last attempts failed.
pub async fn count_by_state(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, i64, i64)> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE enabled), count(*) FILTER (WHERE NOT enabled),
             count(*) FILTER (WHERE enabled AND failing_since IS NOT NULL)
         FROM webhook_endpoints WHERE deleted_at IS NULL",
    )
    .fetch_one(db)
    .await
}
