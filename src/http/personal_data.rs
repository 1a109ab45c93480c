//! GDPR: `GET /me/personal-data`, `GET /users/{id}/personal-data` (ADMIN) and
//! `POST /users/{id}/erase` (ADMIN).
//!
//! The erasure runs here, in one transaction, like the password changes: it is made of
//! deletions and a pseudonym, nothing that should wait in a stream or be replayed from one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit_trail::{AuditEntry, opened};
use super::auth::Auditor;
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, Client, PathId, RequestId, ValidJson};
use super::state::AppState;
use crate::db::audit::{self, AuditRecord};
use crate::db::audit_trail::{self, AuditFilter};
use crate::db::personal_data::{self, AccountData, SessionData};
use crate::db::{login_limits, personal_data_keys, refresh_tokens};
use crate::domain::audit::AuditAction;
use crate::domain::login_limits::LimitKey;
use crate::domain::roles::Role;
use crate::domain::text::text_issues;
use crate::domain::user_account_protection::{AccountChange, account_change_refusal};

/// Everything held about a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalData {
    /// The account.
    pub account: AccountData,
    /// Every session, newest first.
    pub sessions: Vec<SessionData>,
    /// Security events about the account (logins, refreshes, throttling…), newest first,
    /// with their client details while retention keeps them.
    pub login_history: Vec<AuditEntry>,
    /// Every audit entry of what they did, newest first.
    pub audit_entries: Vec<AuditEntry>,
}

/// `erase` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// Why (1–500 characters): the request or legal ground.
    pub reason: String,
}

/// Audit rows exported at most per list (an export is not a paging API).
const MAX_EXPORTED_ROWS: i64 = 100_000;

async fn export(state: &AppState, id: Uuid) -> ApiResult<PersonalData> {
    let account = personal_data::account(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let about = AuditFilter {
        entity_type: Some("user".to_owned()),
        entity_ids: Some(vec![id]),
        ..AuditFilter::default()
    };
    let by = AuditFilter {
        actor_id: Some(id),
        ..AuditFilter::default()
    };
    let about = audit_trail::list(&state.db, &about, None, MAX_EXPORTED_ROWS).await?;
    let by = audit_trail::list(&state.db, &by, None, MAX_EXPORTED_ROWS).await?;
    Ok(PersonalData {
        account,
        sessions: personal_data::sessions(&state.db, id).await?,
        login_history: opened(state, about).await?,
        audit_entries: opened(state, by).await?,
    })
}

async fn exported(
    state: &AppState,
    auth: AuthUser,
    (request_id, client): (&RequestId, &Client),
    id: Uuid,
) -> ApiResult<Json<PersonalData>> {
    let data = export(state, id).await?;
    let audit = Auditor::new(state, request_id, client);
    let mut record: AuditRecord =
        audit.record(Some(auth.actor()), AuditAction::PersonalDataExported, None);
    record.entity_id = Some(id);
    audit.write(&[record]).await?;
    Ok(Json(data))
}

/// Everything held about the caller, as JSON.
#[utoipa::path(get, path = "/api/v1/me/personal-data", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = PersonalData), (status = 401, body = super::error::Problem)))]
pub async fn mine(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    request_id: RequestId,
) -> ApiResult<Json<PersonalData>> {
    exported(&state, auth, (&request_id, &client), auth.user_id).await
}

/// Everything held about a user, as JSON (administrators).
#[utoipa::path(get, path = "/api/v1/users/{id}/personal-data", tag = "users",
    params(("id" = Uuid, Path, description = "User id")), security(("bearer" = [])),
    responses((status = 200, body = PersonalData), (status = 403, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn of_user(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    request_id: RequestId,
    PathId(id): PathId,
) -> ApiResult<Json<PersonalData>> {
    admin_only(auth)?;
    exported(&state, auth, (&request_id, &client), id).await
}

/// Erases a user: deactivated, every session ended, every personal field pseudonymised or
/// shredded, while business records and the audit trail (as a stable pseudonym) remain.
#[utoipa::path(post, path = "/api/v1/users/{id}/erase", tag = "users", request_body = EraseRequest,
    params(("id" = Uuid, Path, description = "User id")), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = super::error::Problem),
        (status = 404, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn erase(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    request_id: RequestId,
    PathId(id): PathId,
    ValidJson(body): ValidJson<EraseRequest>,
) -> ApiResult<StatusCode> {
    admin_only(auth)?;
    let reason = body.reason.trim();
    let mut issues: Vec<FieldError> = text_issues(reason, "reason", 500)
        .into_iter()
        .map(Into::into)
        .collect();
    if reason.is_empty() {
        issues.push(FieldError::new("reason", "REQUIRED", "reason is required"));
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let account = personal_data::account(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let erased = personal_data::lock(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(refusal) = account_change_refusal(auth.user_id, id, erased, AccountChange::Erase) {
        return Err(ApiError::Refused(refusal));
    }
    personal_data::pseudonymise(&mut tx, id, now).await?;
    let ended = refresh_tokens::revoke_user(&mut tx, id, now).await?;
    personal_data_keys::destroy(&mut tx, id).await?;
    // The account's failure counter is keyed by a digest of the e-mail: gone with it.
    let counter = LimitKey::Account(&account.email).digest();
    login_limits::clear(&mut tx, &counter).await?;
    let audit = Auditor::new(&state, &request_id, &client);
    let mut record = audit.record(Some(auth.actor()), AuditAction::UserErased, Some(reason));
    record.entity_id = Some(id);
    audit::record(&mut tx, &state.ns, &[record]).await?;
    tx.commit().await?;
    state.revoked_sessions.add(ended);
    Ok(StatusCode::NO_CONTENT)
}

fn admin_only(auth: AuthUser) -> ApiResult<()> {
    if auth.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only administrators handle personal data of others",
        ))
    }
}
