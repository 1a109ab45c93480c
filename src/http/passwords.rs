//! `POST /api/v1/auth/password-reset` (a one-time token sets a new password) and
//! `POST /api/v1/me/password` (a user changes their own, knowing the current one).
//!
//! These two run synchronously in the ingress's auth layer, like login, and not on the
//! command path: the new password is hashed here and the hash is written in one transaction
//! with the audit row (which holds no hash, no password, no token) and the revocation of the
//! user's refresh tokens, so neither a password nor its hash ever travels through JetStream.

use std::net::{IpAddr, Ipv6Addr};

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{Auditor, actor_of};
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, Client, RequestId, ValidJson};
use super::state::AppState;
use crate::db::audit;
use crate::db::{password_tokens, refresh_tokens, users};
use crate::domain::audit::AuditAction;
use crate::domain::password_policy::{self, password_issues};
use crate::security::{password, refresh_token};

/// `POST /auth/password-reset` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The one-time token an administrator handed over.
    pub token: String,
    /// The new password (≥ 12 characters, not the e-mail, not a common password).
    pub new_password: String,
}

/// `POST /me/password` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    /// The password in use.
    pub current_password: String,
    /// The new password (≥ 12 characters, not the e-mail, not a common password).
    pub new_password: String,
}

/// Why a one-time token sets nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Unknown, or its user is deactivated.
    Invalid,
    /// It set a password already, or a newer token replaced it.
    Used,
    /// Its time has passed.
    Expired,
}

impl TokenRefusal {
    /// The problem's code.
    pub fn code(self) -> &'static str {
        match self {
            TokenRefusal::Invalid => "PASSWORD_TOKEN_INVALID",
            TokenRefusal::Used => "PASSWORD_TOKEN_USED",
            TokenRefusal::Expired => "PASSWORD_TOKEN_EXPIRED",
        }
    }

    /// The problem's detail.
    pub fn detail(self) -> &'static str {
        match self {
            TokenRefusal::Invalid => "This password token is not valid.",
            TokenRefusal::Used => {
                "This password token was used already or replaced; ask an administrator for a new one."
            }
            TokenRefusal::Expired => {
                "This password token has expired; ask an administrator for a new one."
            }
        }
    }
}

/// 422 on `new_password` when the policy refuses it for the account `email`.
fn check_policy(new_password: &str, email: &str) -> ApiResult<()> {
    let issues = password_issues(new_password, email);
    if issues.is_empty() {
        return Ok(());
    }
    Err(ApiError::Validation(
        issues.into_iter().map(FieldError::from).collect(),
    ))
}

async fn hash(state: &AppState, new_password: String) -> ApiResult<String> {
    state
        .password_threads
        .run(move || password::hash_password(&new_password))
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing: {e}")))?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Writes the new hash, ends every session of the user and audits it (without the hash), in
/// the caller's transaction; returns the sessions ended.
async fn set_password(
    tx: &mut sqlx::PgConnection,
    audit: &Auditor<'_>,
    user: &users::UserRow,
    new_hash: &str,
    reason: &str,
) -> ApiResult<Vec<Uuid>> {
    let now = Utc::now();
    users::set_password_hash(&mut *tx, user.id, new_hash, now).await?;
    let ended = refresh_tokens::revoke_user(&mut *tx, user.id, now).await?;
    let record = audit.record(
        Some(actor_of(user)?),
        AuditAction::PasswordChanged,
        Some(reason),
    );
    audit::record(&mut *tx, &audit.state().ns, &[record]).await?;
    Ok(ended)
}

/// Sets a new password with a one-time token (once, before it expires); every session of
/// the user ends.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses((status = 204), (status = 400, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
pub async fn reset(
    State(state): State<AppState>,
    client: Client,
    request_id: RequestId,
    ValidJson(body): ValidJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    let audit = Auditor::new(&state, &request_id, &client);
    if body.token.is_empty() || body.token.len() > 200 {
        return Err(ApiError::PasswordToken(TokenRefusal::Invalid));
    }
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let token = password_tokens::find_for_update(&mut tx, &refresh_token::hash(&body.token))
        .await?
        .ok_or(ApiError::PasswordToken(TokenRefusal::Invalid))?;
    if token.used_at.is_some() || token.revoked_at.is_some() {
        return Err(ApiError::PasswordToken(TokenRefusal::Used));
    }
    if token.expires_at <= now {
        return Err(ApiError::PasswordToken(TokenRefusal::Expired));
    }
    let user = users::find_by_id(&mut tx, token.user_id)
        .await?
        .filter(|u| u.active)
        .ok_or(ApiError::PasswordToken(TokenRefusal::Invalid))?;
    check_policy(&body.new_password, &user.email)?;
    let new_hash = hash(&state, body.new_password).await?;
    password_tokens::mark_used(&mut tx, token.id, now).await?;
    let why = "password set with a one-time token";
    let ended = set_password(&mut tx, &audit, &user, &new_hash, why).await?;
    tx.commit().await?;
    state.revoked_sessions.add(ended);
    Ok(StatusCode::NO_CONTENT)
}

/// Changes one's own password (the current one required); every session ends, so log in
/// again with the new one.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth",
    request_body = PasswordChangeRequest, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::Problem),
        (status = 422, body = super::error::Problem), (status = 429, body = super::error::Problem)))]
pub async fn change(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    request_id: RequestId,
    ValidJson(body): ValidJson<PasswordChangeRequest>,
) -> ApiResult<StatusCode> {
    let audit = Auditor::new(&state, &request_id, &client);
    if body.current_password.len() > password_policy::MAX_BYTES {
        return Err(wrong_current());
    }
    let mut tx = state.db.begin().await?;
    let user = users::find_by_id(&mut tx, auth.user_id)
        .await?
        .filter(|u| u.active)
        .ok_or(ApiError::Unauthenticated)?;
    // Guessing the current password here is guessing it at login: the same limits.
    let ip = client.ip().unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let limits = &state.login_limits;
    if let Err(throttled) = limits.before_login(&state.db, &user.email, ip).await? {
        return Err(audit.throttled(Some(auth.actor()), throttled).await?);
    }
    let (current, stored) = (body.current_password, user.password_hash.clone());
    let verified = state
        .password_threads
        .run(move || password::verify_password(&current, &stored))
        .await
        .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    if !verified {
        if limits.failed(&state.db, &user.email, ip).await?.is_some() {
            let why = "too many wrong current passwords from this address";
            let record = audit.record(Some(auth.actor()), AuditAction::AccountThrottled, Some(why));
            audit.write(&[record]).await?;
        }
        return Err(wrong_current());
    }
    check_policy(&body.new_password, &user.email)?;
    let new_hash = hash(&state, body.new_password).await?;
    let why = "own password changed";
    let ended = set_password(&mut tx, &audit, &user, &new_hash, why).await?;
    tx.commit().await?;
    state.revoked_sessions.add(ended);
    Ok(StatusCode::NO_CONTENT)
}

fn wrong_current() -> ApiError {
    ApiError::Validation(vec![FieldError::new(
        "current_password",
        "INCORRECT",
        "the current password is not correct",
    )])
}
