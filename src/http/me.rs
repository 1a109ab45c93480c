//! The authenticated user's own profile.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::state::AppState;
use crate::db::users;

/// The user's organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    /// BLUEWHALE, STATION or SUPPLIER.
    #[serde(rename = "type")]
    pub kind: String,
    /// Organisation id (none for Blue Whale).
    pub id: Option<Uuid>,
    /// Display name.
    pub name: String,
}

/// Profile of the authenticated user; credentials are never part of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// User id.
    pub id: Uuid,
    /// Login email.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Role.
    pub role: String,
    /// Organisation.
    pub organization: Organization,
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = super::error::Problem)))]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Me>> {
    let mut conn = state.db.acquire().await?;
    let row = users::find_by_id(&mut conn, user.user_id)
        .await?
        .filter(|u| u.active)
        .ok_or(ApiError::Unauthenticated)?;
    drop(conn);
    let name = users::organization_name(&state.db, &row.org_type, row.org_id)
        .await?
        .unwrap_or_default();
    Ok(Json(Me {
        id: row.id,
        email: row.email,
        full_name: row.full_name,
        role: row.role,
        organization: Organization {
            kind: row.org_type,
            id: row.org_id,
            name,
        },
    }))
}
