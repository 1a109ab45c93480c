//! Login, refresh-token rotation with reuse detection, logout.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, RequestId, ValidJson};
use super::state::AppState;
use crate::db::audit::{self, AuditRecord};
use crate::db::{refresh_tokens, users};
use crate::domain::audit::AuditAction;
use crate::domain::roles::{OrgType, Role};
use crate::domain::text::has_control_characters;
use crate::messaging::envelope::Actor;
use crate::security::{password, refresh_token};

/// Login request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Account email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Refresh or logout request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token received at login or at the last refresh.
    pub refresh_token: String,
}

/// A new token pair.
#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    /// Bearer access token (JWT).
    pub access_token: String,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenPair(***)")
    }
}

/// Logs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = super::error::Problem),
              (status = 422, body = super::error::Problem), (status = 429, body = super::error::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request_id: RequestId,
    ValidJson(body): ValidJson<LoginRequest>,
) -> ApiResult<Json<TokenPair>> {
    let email = body.email.trim().to_owned();
    let mut errors = Vec::new();
    if email.is_empty() || email.len() > 320 {
        errors.push(FieldError::new(
            "email",
            "REQUIRED",
            "email is required (at most 320 characters)",
        ));
    } else if has_control_characters(&email) {
        // No account has such an address, and PostgreSQL could not even compare it (NUL).
        errors.push(FieldError::new(
            "email",
            "INVALID_CHARACTERS",
            "email contains control characters",
        ));
    }
    if body.password.is_empty() || body.password.len() > 1024 {
        errors.push(FieldError::new(
            "password",
            "REQUIRED",
            "password is required (at most 1024 bytes)",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if let Some(retry_after_secs) = state.login_throttle.locked_for(&email, Instant::now()) {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let now = Utc::now();
    let client = Some(peer.ip().to_string());
    let Some(user) = users::find_by_email(&state.db, &email).await? else {
        // Same work and same answer as a wrong password: no account enumeration.
        let password = body.password;
        let _ = tokio::task::spawn_blocking(move || password::dummy_verify(&password)).await;
        state.login_throttle.record_failure(&email, Instant::now());
        let mut tx = state.db.begin().await?;
        let record = login_audit(None, AuditAction::LoginFailed, &request_id, client, now);
        audit::record(&mut tx, &state.ns, &[record]).await?;
        tx.commit().await?;
        return Err(ApiError::InvalidCredentials);
    };
    if let Some(until) = user.locked_until.filter(|until| *until > now) {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: seconds_until(until, now),
        });
    }
    let (password, hash) = (body.password, user.password_hash.clone());
    let verified = tokio::task::spawn_blocking(move || password::verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    let actor = actor_of(&user)?;
    let mut tx = state.db.begin().await?;
    if !verified || !user.active {
        let max = i32::try_from(state.config.auth.login_max_failures).unwrap_or(i32::MAX);
        let lockout = chrono::Duration::from_std(state.config.auth.login_lockout)
            .unwrap_or(chrono::Duration::minutes(15));
        users::record_failed_login(&mut tx, user.id, max, now + lockout).await?;
        let record = login_audit(
            Some(actor),
            AuditAction::LoginFailed,
            &request_id,
            client,
            now,
        );
        audit::record(&mut tx, &state.ns, &[record]).await?;
        tx.commit().await?;
        return Err(ApiError::InvalidCredentials);
    }
    users::record_successful_login(&mut tx, user.id).await?;
    let refresh = issue_refresh_token(&mut tx, &state, user.id, Uuid::now_v7(), now).await?;
    let record = login_audit(Some(actor), AuditAction::Login, &request_id, client, now);
    audit::record(&mut tx, &state.ns, &[record]).await?;
    tx.commit().await?;
    token_pair(&state, actor, refresh, now).map(Json)
}

/// Exchanges a refresh token for a new pair. The presented token is spent; presenting a spent
/// token again revokes its whole family (it was stolen, or the client is confused).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = super::error::Problem)))]
pub async fn refresh(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let Some(token) =
        refresh_tokens::find_for_update(&mut tx, &refresh_token::hash(&body.refresh_token)).await?
    else {
        return Err(ApiError::InvalidRefreshToken);
    };
    if token.revoked_at.is_some() {
        return Err(ApiError::InvalidRefreshToken);
    }
    if token.spent_at.is_some() {
        tracing::warn!(family = %token.family_id, user = %token.user_id, "spent refresh token replayed: family revoked");
        refresh_tokens::revoke_family(&mut tx, token.family_id, now).await?;
        tx.commit().await?;
        return Err(ApiError::InvalidRefreshToken);
    }
    if token.expires_at <= now {
        return Err(ApiError::InvalidRefreshToken);
    }
    let user = users::find_by_id(&mut tx, token.user_id).await?;
    let Some(user) = user.filter(|u| u.active) else {
        refresh_tokens::revoke_family(&mut tx, token.family_id, now).await?;
        tx.commit().await?;
        return Err(ApiError::InvalidRefreshToken);
    };
    refresh_tokens::mark_spent(&mut tx, token.id, now).await?;
    let next = issue_refresh_token(&mut tx, &state, user.id, token.family_id, now).await?;
    tx.commit().await?;
    token_pair(&state, actor_of(&user)?, next, now).map(Json)
}

/// Ends the session of a refresh token (its whole family).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    if let Some(token) =
        refresh_tokens::find_for_update(&mut tx, &refresh_token::hash(&body.refresh_token)).await?
    {
        // Another user's token is left alone, and the answer does not say it exists.
        if token.user_id == user.user_id {
            refresh_tokens::revoke_family(&mut tx, token.family_id, now).await?;
        }
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn issue_refresh_token(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    user_id: Uuid,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let token = refresh_token::generate();
    let ttl = chrono::Duration::from_std(state.config.auth.refresh_token_ttl)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    refresh_tokens::insert(tx, family_id, user_id, &token.hash, now + ttl).await?;
    Ok(token.token)
}

fn token_pair(
    state: &AppState,
    actor: Actor,
    refresh_token: String,
    now: DateTime<Utc>,
) -> ApiResult<TokenPair> {
    let access_token = state
        .tokens
        .issue(actor.user_id, actor.role, actor.org_type, actor.org_id, now)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl().as_secs(),
    })
}

pub(super) fn actor_of(user: &users::UserRow) -> ApiResult<Actor> {
    match (Role::parse(&user.role), OrgType::parse(&user.org_type)) {
        (Some(role), Some(org_type)) => Ok(Actor {
            user_id: user.id,
            role,
            org_type,
            org_id: user.org_id,
        }),
        _ => Err(ApiError::Internal(format!(
            "user {} has an unknown role",
            user.id
        ))),
    }
}

/// The audit row of a login attempt, about the user it names (none for an unknown email:
/// the email tried is not recorded, it may be someone's mistyped personal data).
pub(super) fn login_audit(
    actor: Option<Actor>,
    action: AuditAction,
    request_id: &RequestId,
    client_address: Option<String>,
    now: DateTime<Utc>,
) -> AuditRecord {
    AuditRecord {
        id: Uuid::now_v7(),
        occurred_at: now,
        actor,
        action,
        entity_type: "user".to_owned(),
        entity_id: actor.map(|a| a.user_id),
        changes: json!({}),
        command_id: None,
        request_id: request_id.id.clone(),
        reason: None,
        client_address,
    }
}

fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((until - now).num_seconds())
        .unwrap_or(0)
        .max(1)
}
