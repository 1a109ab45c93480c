//! The history of a master contract, read from its audit rows (written in the same
//! transaction as each change): creation, edits and status changes, oldest first.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::purchase_order_history::{ActorOrganization, HistoryActor};

/// Fields of a contract only staff may see in its history.
const STAFF_ONLY_FIELDS: [&str; 2] = ["platform_fee_percent", "notes"];

/// One change of a contract.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ContractHistoryEntry {
    /// CREATE, UPDATE or TRANSITION.
    pub action: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (no user: the system, e.g. the expiry job).
    pub actor: HistoryActor,
    /// Status before a TRANSITION.
    pub from_status: Option<String>,
    /// Status after a TRANSITION.
    pub to_status: Option<String>,
    /// Why (suspension, termination, expiry, renewal).
    pub reason: Option<String>,
    /// The fields that changed, `{field: {old, new}}`.
    #[schema(value_type = Object)]
    pub changes: Value,
    /// The command that made the change.
    pub command_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    action: String,
    occurred_at: DateTime<Utc>,
    actor_user_id: Option<Uuid>,
    actor_role: Option<String>,
    actor_org_type: Option<String>,
    actor_org_id: Option<Uuid>,
    reason: Option<String>,
    changes: Value,
    command_id: Option<Uuid>,
}

/// The contract's changes, oldest first; `staff` sees every field, others not Blue Whale's fee
/// or internal notes.
pub async fn for_contract(
    pool: &PgPool,
    id: Uuid,
    staff: bool,
) -> sqlx::Result<Vec<ContractHistoryEntry>> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT action, occurred_at, actor_user_id, actor_role, actor_org_type, actor_org_id, \
           reason, changes, command_id \
         FROM audit_log WHERE entity_type = 'contract' AND entity_id = $1 \
         ORDER BY occurred_at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut changes = r.changes;
            if !staff && let Some(fields) = changes.as_object_mut() {
                for field in STAFF_ONLY_FIELDS {
                    fields.remove(field);
                }
            }
            let status = |side: &str| {
                changes
                    .pointer(&format!("/status/{side}"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            ContractHistoryEntry {
                from_status: status("old"),
                to_status: status("new"),
                action: r.action,
                at: r.occurred_at,
                actor: HistoryActor {
                    user_id: r.actor_user_id,
                    role: r.actor_role,
                    organization: ActorOrganization {
                        kind: r.actor_org_type,
                        id: r.actor_org_id,
                    },
                },
                reason: r.reason,
                command_id: r.command_id,
                changes,
            }
        })
        .collect())
}
