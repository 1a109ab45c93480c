//! Login, refresh-token rotation with reuse detection, logout.

use std::net::{IpAddr, Ipv6Addr};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, Client, RequestId, ValidJson};
use super::login_throttle::Throttled;
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
    #[schema(min_length = 1, max_length = 320)]
    pub email: String,
    /// Password.
    #[schema(min_length = 1)]
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
    client: Client,
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
    let audit = Auditor::new(&state, &request_id, &client);
    let ip = client.ip().unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    if let Err(throttled) = state
        .login_limits
        .before_login(&state.db, &email, ip)
        .await?
    {
        return Err(audit.throttled(None, throttled).await?);
    }
    let user = users::find_by_email(&state.db, &email).await?;
    let password = body.password;
    // Same work and same answer for an unknown e-mail as for a wrong password: no account
    // enumeration.
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state
        .password_threads
        .run(move || match stored {
            Some(hash) => password::verify_password(&password, &hash),
            None => {
                password::dummy_verify(&password);
                false
            }
        })
        .await
        .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    let actor = user.as_ref().map(actor_of).transpose()?;
    let Some(user) = user.filter(|u| verified && u.active) else {
        let throttled = state.login_limits.failed(&state.db, &email, ip).await?;
        let mut records = vec![audit.record(actor, AuditAction::LoginFailed, None)];
        if throttled.is_some() {
            let why = "too many failed logins on this account from this address";
            records.push(audit.record(actor, AuditAction::AccountThrottled, Some(why)));
        }
        audit.write(&records).await?;
        return Err(ApiError::InvalidCredentials);
    };
    let actor = actor_of(&user)?;
    state.login_limits.succeeded(&state.db, &email, ip).await?;
    let now = Utc::now();
    let session = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    let refresh = issue_refresh_token(&mut tx, &state, user.id, session, now).await?;
    let record = audit.record(Some(actor), AuditAction::Login, None);
    audit::record(&mut tx, &state.ns, &[record]).await?;
    tx.commit().await?;
    token_pair(&state, actor, session, refresh, now).map(Json)
}

/// Exchanges a refresh token for a new pair. The presented token is spent; presenting a spent
/// token again revokes its whole family (it was stolen, or the client is confused).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = super::error::Problem),
              (status = 429, body = super::error::Problem)))]
pub async fn refresh(
    State(state): State<AppState>,
    client: Client,
    request_id: RequestId,
    ValidJson(body): ValidJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    let audit = Auditor::new(&state, &request_id, &client);
    let ip = client.ip().unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    if let Err(throttled) = state.login_limits.before_refresh(&state.db, ip).await? {
        return Err(audit.throttled(None, throttled).await?);
    }
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let Some(token) =
        refresh_tokens::find_for_update(&mut tx, &refresh_token::hash(&body.refresh_token)).await?
    else {
        return Err(ApiError::InvalidRefreshToken);
    };
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(ApiError::InvalidRefreshToken);
    }
    let user = users::find_by_id(&mut tx, token.user_id).await?;
    if token.spent_at.is_some() {
        tracing::warn!(family = %token.family_id, user = %token.user_id, "spent refresh token replayed: family revoked");
        refresh_tokens::revoke_family(&mut tx, token.family_id, token.user_id, now).await?;
        let actor = user.as_ref().map(actor_of).transpose()?;
        let why = "a spent refresh token was presented again: the session was ended";
        let record = audit.record(actor, AuditAction::RefreshTokenReused, Some(why));
        audit::record(&mut tx, &state.ns, &[record]).await?;
        tx.commit().await?;
        state.revoked_sessions.add([token.family_id]);
        return Err(ApiError::InvalidRefreshToken);
    }
    let Some(user) = user.filter(|u| u.active) else {
        refresh_tokens::revoke_family(&mut tx, token.family_id, token.user_id, now).await?;
        tx.commit().await?;
        return Err(ApiError::InvalidRefreshToken);
    };
    let actor = actor_of(&user)?;
    refresh_tokens::mark_spent(&mut tx, token.id, now).await?;
    let next = issue_refresh_token(&mut tx, &state, user.id, token.family_id, now).await?;
    let record = audit.record(Some(actor), AuditAction::TokenRefreshed, None);
    audit::record(&mut tx, &state.ns, &[record]).await?;
    tx.commit().await?;
    token_pair(&state, actor, token.family_id, next, now).map(Json)
}

/// Ends the session of a refresh token (its whole family) and the session of the access
/// token presented: both are refused from now on, on every ingress.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    user: AuthUser,
    client: Client,
    request_id: RequestId,
    ValidJson(body): ValidJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    let audit = Auditor::new(&state, &request_id, &client);
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let mut ended = vec![user.session_id];
    if let Some(token) =
        refresh_tokens::find_for_update(&mut tx, &refresh_token::hash(&body.refresh_token)).await?
    {
        // Another user's token is left alone, and the answer does not say it exists.
        if token.user_id == user.user_id && token.family_id != user.session_id {
            refresh_tokens::revoke_family(&mut tx, token.family_id, user.user_id, now).await?;
            ended.push(token.family_id);
        }
    }
    refresh_tokens::revoke_family(&mut tx, user.session_id, user.user_id, now).await?;
    let record = audit.record(Some(user.actor()), AuditAction::Logout, None);
    audit::record(&mut tx, &state.ns, &[record]).await?;
    tx.commit().await?;
    state.revoked_sessions.add(ended);
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
    session: Uuid,
    refresh_token: String,
    now: DateTime<Utc>,
) -> ApiResult<TokenPair> {
    let access_token = state
        .tokens
        .issue(
            actor.user_id,
            actor.role,
            actor.org_type,
            actor.org_id,
            session,
            now,
        )
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

/// Audit rows of security events, with the request's id and client.
pub(super) struct Auditor<'a> {
    state: &'a AppState,
    request_id: &'a RequestId,
    client: &'a Client,
}

impl<'a> Auditor<'a> {
    /// For one request.
    pub(super) fn new(state: &'a AppState, request_id: &'a RequestId, client: &'a Client) -> Self {
        Self {
            state,
            request_id,
            client,
        }
    }

    /// A row about the actor's own account (none for an unknown e-mail: the e-mail tried is
    /// not recorded, it may be someone's mistyped personal data).
    pub(super) fn record(
        &self,
        actor: Option<Actor>,
        action: AuditAction,
        reason: Option<&str>,
    ) -> AuditRecord {
        AuditRecord {
            id: Uuid::now_v7(),
            occurred_at: Utc::now(),
            actor,
            action,
            entity_type: "user".to_owned(),
            entity_id: actor.map(|a| a.user_id),
            changes: json!({}),
            command_id: None,
            request_id: self.request_id.id.clone(),
            reason: reason.map(str::to_owned),
            client: Some(self.client.0.clone()),
        }
    }

    /// The state it writes with.
    pub(super) fn state(&self) -> &AppState {
        self.state
    }

    /// Writes rows in a transaction of their own.
    pub(super) async fn write(&self, records: &[AuditRecord]) -> ApiResult<()> {
        let mut tx = self.state.db.begin().await?;
        audit::record(&mut tx, &self.state.ns, records).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The 429 of a throttled attempt, audited once per throttling window.
    pub(super) async fn throttled(
        &self,
        actor: Option<Actor>,
        throttled: Throttled,
    ) -> ApiResult<ApiError> {
        if throttled.first {
            let why = "too many attempts from this address";
            self.write(&[self.record(actor, AuditAction::AccountThrottled, Some(why))])
                .await?;
        }
        Ok(ApiError::TooManyRequests {
            retry_after_secs: throttled.retry_after_secs,
        })
    }
}
