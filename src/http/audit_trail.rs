//! `GET /api/v1/audit` (ADMIN, MANAGER) and a resource's own trail
//! (`/orders/{id}/audit`, `/purchase-orders/{id}/audit`, visible like the resource).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, PathId, ValidQuery};
use super::keyset_page;
use super::state::AppState;
use crate::db::audit_trail::{self, AuditEntryRow, AuditFilter};
use crate::db::keyset::Position;
use crate::db::purchase_order_history::{ActorOrganization, HistoryActor};
use crate::db::{orders, personal_data_keys, purchase_orders};
use crate::domain::roles::Role;
use crate::domain::text::has_control_characters;
use crate::security::personal_data::{is_sealed, open_all};

/// `GET /audit` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only rows about this kind of entity (`master_order`, `purchase_order`, `user`, …).
    #[param(pattern = "^[A-Za-z0-9_]{1,64}$")]
    pub entity_type: Option<String>,
    /// Only rows about this entity.
    pub entity_id: Option<Uuid>,
    /// Only rows caused by this user.
    pub actor_id: Option<Uuid>,
    /// Only this action (CREATE, UPDATE, TRANSITION, LOGIN, ACCESS_DENIED, …).
    #[param(pattern = "^[A-Za-z0-9_]{1,64}$")]
    pub action: Option<String>,
    /// At or after (RFC 3339, with its offset).
    pub from: Option<DateTime<Utc>>,
    /// Before (RFC 3339, with its offset).
    pub to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,16}_[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A resource trail's parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrailQuery {
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,16}_[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The entity an entry is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntity {
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: Option<Uuid>,
}

/// Where a security event came from (kept for the retention period only).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditClient {
    /// Client address.
    pub address: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Entry id.
    pub id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (null: the system).
    pub actor: Option<HistoryActor>,
    /// What.
    pub action: String,
    /// About what.
    pub entity: AuditEntity,
    /// `{field: {old, new}}` of the fields that changed.
    #[schema(value_type = Object)]
    pub changes: Value,
    /// The command that caused it.
    pub command_id: Option<Uuid>,
    /// The request that carried it.
    pub request_id: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// For security events, until the retention job removes it.
    pub client: Option<AuditClient>,
}

/// A page of entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// This page.
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

impl From<AuditEntryRow> for AuditEntry {
    fn from(r: AuditEntryRow) -> Self {
        let client =
            (r.client_address.is_some() || r.user_agent.is_some()).then_some(AuditClient {
                address: r.client_address,
                user_agent: r.user_agent,
            });
        AuditEntry {
            id: r.id,
            at: r.occurred_at,
            actor: r.actor_user_id.map(|user_id| HistoryActor {
                user_id: Some(user_id),
                role: r.actor_role,
                organization: ActorOrganization {
                    kind: r.actor_org_type,
                    id: r.actor_org_id,
                },
            }),
            action: r.action,
            entity: AuditEntity {
                kind: r.entity_type,
                id: r.entity_id,
            },
            changes: r.changes,
            command_id: r.command_id,
            request_id: r.request_id,
            reason: r.reason,
            client,
        }
    }
}

/// A short code-like filter value: 1–64 letters, digits and underscores.
fn code(value: Option<String>, field: &'static str) -> ApiResult<Option<String>> {
    match value {
        Some(v)
            if v.is_empty()
                || v.len() > 64
                || has_control_characters(&v)
                || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            Err(ApiError::Validation(vec![FieldError::new(
                field,
                "INVALID",
                format!("{field} is 1-64 letters, digits or underscores"),
            )]))
        }
        other => Ok(other),
    }
}

async fn page(
    state: &AppState,
    filter: AuditFilter,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> ApiResult<Json<AuditPage>> {
    let limit = keyset_page::limit(limit)?;
    let after = cursor.map(keyset_page::decode_cursor).transpose()?;
    let rows = audit_trail::list(&state.db, &filter, after, i64::from(limit) + 1).await?;
    let (rows, next_cursor) = keyset_page::page(rows, limit, |r| Position {
        at: r.occurred_at,
        id: r.id,
    });
    Ok(Json(AuditPage {
        items: opened(state, rows).await?,
        next_cursor,
    }))
}

/// The entries with the personal fields sealed in their changes opened (or read as erased
/// once the person's key is gone).
pub(super) async fn opened(
    state: &AppState,
    rows: Vec<AuditEntryRow>,
) -> ApiResult<Vec<AuditEntry>> {
    let sealed_for = |r: &AuditEntryRow| r.entity_id.filter(|_| is_sealed(&r.changes));
    let people: Vec<Uuid> = rows.iter().filter_map(sealed_for).collect();
    let keys = personal_data_keys::find_many(&state.db, &people).await?;
    Ok(rows
        .into_iter()
        .map(|mut r| {
            if let Some(person) = sealed_for(&r) {
                r.changes = open_all(&r.changes, keys.get(&person), person);
            }
            AuditEntry::from(r)
        })
        .collect())
}

/// The whole audit trail, newest first, filtered (administrators and managers).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 403, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    if !matches!(user.role, Role::Admin | Role::Manager) {
        return Err(ApiError::Forbidden(
            "the audit trail is for administrators and managers",
        ));
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from >= to
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "to",
            "BEFORE_FROM",
            "to must be after from",
        )]));
    }
    let filter = AuditFilter {
        entity_type: code(query.entity_type, "entity_type")?,
        entity_ids: query.entity_id.map(|id| vec![id]),
        actor_id: query.actor_id,
        action: code(query.action, "action")?.map(|a| a.to_uppercase()),
        from: query.from,
        to: query.to,
    };
    page(&state, filter, query.cursor.as_deref(), query.limit).await
}

/// An order's trail (the master order, its purchase orders, its sales order), newest first;
/// visible like the order.
#[utoipa::path(get, path = "/api/v1/orders/{id}/audit", tag = "audit", params(
        ("id" = Uuid, Path, description = "Order id"), TrailQuery),
    security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 404, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
pub async fn order_trail(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    ValidQuery(query): ValidQuery<TrailQuery>,
) -> ApiResult<Json<AuditPage>> {
    orders::find(&state.db, user.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let filter = AuditFilter {
        entity_ids: Some(audit_trail::order_entities(&state.db, id).await?),
        ..AuditFilter::default()
    };
    page(&state, filter, query.cursor.as_deref(), query.limit).await
}

/// A purchase order's trail, newest first; visible like the purchase order.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{id}/audit", tag = "audit", params(
        ("id" = Uuid, Path, description = "Purchase-order id"), TrailQuery),
    security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 404, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
pub async fn purchase_order_trail(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    ValidQuery(query): ValidQuery<TrailQuery>,
) -> ApiResult<Json<AuditPage>> {
    purchase_orders::find(&state.db, user.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let filter = AuditFilter {
        entity_type: Some("purchase_order".to_owned()),
        entity_ids: Some(vec![id]),
        ..AuditFilter::default()
    };
    page(&state, filter, query.cursor.as_deref(), query.limit).await
}
