//! Reading the audit trail (`GET /audit`, a resource's `/audit`): newest first, keyset-paged.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::keyset::Position;

/// Which rows to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `master_order`, `purchase_order`, `user`, …
    pub entity_type: Option<String>,
    /// Rows about any of these entities.
    pub entity_ids: Option<Vec<Uuid>>,
    /// Rows caused by this user.
    pub actor_id: Option<Uuid>,
    /// CREATE, LOGIN, ACCESS_DENIED, …
    pub action: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// One audit row with its client details (those of security events, until retention).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntryRow {
    /// Row id.
    pub id: Uuid,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who (none: the system).
    pub actor_user_id: Option<Uuid>,
    /// Their role then.
    pub actor_role: Option<String>,
    /// Their organisation kind.
    pub actor_org_type: Option<String>,
    /// Their organisation.
    pub actor_org_id: Option<Uuid>,
    /// What.
    pub action: String,
    /// About what kind of entity.
    pub entity_type: String,
    /// About which.
    pub entity_id: Option<Uuid>,
    /// `{field: {old, new}}`.
    pub changes: Value,
    /// The command that caused it.
    pub command_id: Option<Uuid>,
    /// The request that carried it.
    pub request_id: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Client address.
    pub client_address: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
}

/// Up to `limit` rows matching `filter` after `after`, newest first.
pub async fn list(
    pool: &PgPool,
    filter: &AuditFilter,
    after: Option<Position>,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntryRow>> {
    sqlx::query_as(
        "SELECT a.id, a.occurred_at, a.actor_user_id, a.actor_role, a.actor_org_type, \
           a.actor_org_id, a.action, a.entity_type, a.entity_id, a.changes, a.command_id, \
           a.request_id, a.reason, c.client_address, c.user_agent \
         FROM audit_log a LEFT JOIN audit_clients c ON c.audit_id = a.id \
         WHERE ($1::text IS NULL OR a.entity_type = $1) \
           AND ($2::uuid[] IS NULL OR a.entity_id = ANY($2)) \
           AND ($3::uuid IS NULL OR a.actor_user_id = $3) \
           AND ($4::text IS NULL OR a.action = $4) \
           AND ($5::timestamptz IS NULL OR a.occurred_at >= $5) \
           AND ($6::timestamptz IS NULL OR a.occurred_at < $6) \
           AND ($7::timestamptz IS NULL OR (a.occurred_at, a.id) < ($7, $8)) \
         ORDER BY a.occurred_at DESC, a.id DESC LIMIT $9",
    )
    .bind(filter.entity_type.as_deref())
    .bind(filter.entity_ids.as_deref())
    .bind(filter.actor_id)
    .bind(filter.action.as_deref())
    .bind(filter.from)
    .bind(filter.to)
    .bind(after.map(|p| p.at))
    .bind(after.map(|p| p.id))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A master order and what it was split into (purchase orders, its sales order): the
/// entities whose rows make up the order's trail.
pub async fn order_entities(pool: &PgPool, order_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT $1::uuid UNION ALL SELECT id FROM purchase_orders WHERE master_order_id = $1 \
         UNION ALL SELECT id FROM sales_orders WHERE master_order_id = $1",
    )
    .bind(order_id)
    .fetch_all(pool)
    .await
}
