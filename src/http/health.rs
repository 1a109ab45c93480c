//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::state::AppState;

/// Health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// PostgreSQL reachable (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres: Option<bool>,
    /// NATS JetStream reachable (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats: Option<bool>,
}

/// The process is alive.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        postgres: None,
        nats: None,
    })
}

/// The process can serve: PostgreSQL answers and JetStream answers.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, body = Health), (status = 503, body = Health)))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let postgres = sqlx::query("SELECT 1").execute(&state.db).await.is_ok();
    let nats = state.js.query_account().await.is_ok();
    let ok = postgres && nats;
    (
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(Health {
            status: if ok { "ok" } else { "unavailable" },
            postgres: Some(postgres),
            nats: Some(nats),
        }),
    )
}
