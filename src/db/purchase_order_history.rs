//! The status history of a purchase order, oldest first.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// The organisation an actor acted for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ActorOrganization {
    /// BLUEWHALE, STATION or SUPPLIER.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Its id (none for Blue Whale).
    pub id: Option<Uuid>,
}

/// Who made a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HistoryActor {
    /// The user.
    pub user_id: Option<Uuid>,
    /// Their role then.
    pub role: Option<String>,
    /// Their organisation.
    pub organization: ActorOrganization,
}

/// One step of the lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Status before (null at creation).
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: HistoryActor,
    /// Why (cancel, archive).
    pub reason: Option<String>,
    /// The step's data: delivery date, carrier, received lines, invoice number.
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    from_status: Option<String>,
    to_status: String,
    changed_at: DateTime<Utc>,
    actor_user_id: Option<Uuid>,
    actor_role: Option<String>,
    actor_org_type: Option<String>,
    actor_org_id: Option<Uuid>,
    reason: Option<String>,
    details: Option<Value>,
}

/// Every step of a purchase order, oldest first.
pub async fn for_purchase_order(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<HistoryEntry>> {
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT from_status, to_status, changed_at, actor_user_id, actor_role, actor_org_type, \
           actor_org_id, reason, details \
         FROM purchase_order_status_history WHERE purchase_order_id = $1 ORDER BY changed_at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HistoryEntry {
            from_status: r.from_status,
            to_status: r.to_status,
            at: r.changed_at,
            actor: HistoryActor {
                user_id: r.actor_user_id,
                role: r.actor_role,
                organization: ActorOrganization {
                    kind: r.actor_org_type,
                    id: r.actor_org_id,
                },
            },
            reason: r.reason,
            details: r.details,
        })
        .collect())
}
