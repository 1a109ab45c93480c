//! `POST /api/v1/users`, `PATCH …/{id}` (`active: false` deactivates and ends every session
//! at once), `GET …/{id}` and `POST …/{id}/password-reset`: ADMIN only. A new user, and a
//! reset, get a one-time password token: the ingress draws it at random, the command and the
//! database carry only its SHA-256, and the plain token appears in this one answer to the
//! admin, never in a log, an audit row, an event or an e-mail.

use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::command_path;
use super::contract_writes::NoFields;
use super::error::ApiResult;
use super::extract::{AuthUser, PathId, RequestId, ValidJson};
use super::master_record_writes::{
    IssuedPasswordToken, RecordPatch, RecordResource, create as create_record, submit,
};
use super::state::AppState;
use super::write_request::WriteRequest;
use crate::domain::master_record::RecordChange;
use crate::domain::roles::Role;
use crate::domain::user_terms::{PasswordGrant, User, UserExtra, UserFields};
use crate::messaging::commands::webhook_endpoint::present;
use crate::security::refresh_token;

/// How long a one-time password token works.
pub const PASSWORD_TOKEN_TTL_HOURS: i64 = 24;

impl RecordResource for User {
    const PATH: &'static str = "/api/v1/users";

    /// Administrators only (a user sees themself through `/me`).
    fn may_read(user: &AuthUser, _id: Uuid) -> bool {
        user.role == Role::Admin
    }
}

/// A user as the API shows it (no credential fields, ever).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Role.
    pub role: String,
    /// `BLUEWHALE`, `STATION` or `SUPPLIER`.
    pub org_type: String,
    /// The station or supplier.
    pub org_id: Option<Uuid>,
    /// Whether they may log in.
    pub active: bool,
    /// Version (the `ETag`).
    pub version: i32,
    /// Only in the answer that issued it: the one-time token setting the password.
    pub password_reset: Option<IssuedPasswordToken>,
}

/// `PATCH /users/{id}` body: the fields present change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New login e-mail (unique whatever its case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// New role (with the organisation it needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    /// New organisation, or `null` for staff.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub org_id: Option<Option<Uuid>>,
    /// `false` deactivates (refresh tokens revoked in the same transaction), `true` reactivates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl RecordPatch for UserPatch {}

/// A fresh one-time token: the plain one for the answer, the grant for the command.
fn new_token() -> (UserExtra, Option<IssuedPasswordToken>) {
    let token = refresh_token::generate();
    let expires_at = Utc::now() + Duration::hours(PASSWORD_TOKEN_TTL_HOURS);
    let token_sha256 = token.hash.iter().map(|b| format!("{b:02x}")).collect();
    let extra = UserExtra {
        password_reset: Some(PasswordGrant {
            token_sha256,
            expires_at,
        }),
    };
    (
        extra,
        Some(IssuedPasswordToken {
            token: token.token,
            expires_at,
        }),
    )
}

/// Creates a user (ADMIN); the answer carries their first password's one-time token.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserFields,
    params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome")),
    security(("bearer" = [])),
    responses((status = 202, body = command_path::CommandAccepted), (status = 201, body = UserView),
        (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
        (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    write: WriteRequest,
    ValidJson(body): ValidJson<UserFields>,
) -> ApiResult<Response> {
    create_record::<User>(&state, &user, (&request_id, &write), body, new_token()).await
}

/// Issues a one-time token with which the user sets a new password (ADMIN); earlier unused
/// tokens stop working. The token is in this answer only.
#[utoipa::path(post, path = "/api/v1/users/{id}/password-reset", tag = "users", request_body = NoFields,
    params(("id" = Uuid, Path, description = "User id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome"),
        ("If-Match" = Option<String>, Header, description = "\"<version>\": refuse (412) if the user changed")),
    security(("bearer" = [])),
    responses((status = 202, body = command_path::CommandAccepted), (status = 200, body = UserView),
        (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
        (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem),
        (status = 412, body = super::error::Problem)))]
pub async fn reset_password(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    PathId(id): PathId,
    write: WriteRequest,
    ValidJson(_body): ValidJson<NoFields>,
) -> ApiResult<Response> {
    let change = RecordChange::Update {
        patch: serde_json::Map::new(),
    };
    submit::<User>(
        &state,
        &user,
        &request_id,
        &write,
        (id, change),
        new_token(),
    )
    .await
}

crate::record_endpoints!(@update_get User, "/api/v1/users", "users", "user", UserPatch, UserView);
