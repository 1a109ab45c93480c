//! The ops server of a process: `/metrics` (Prometheus text format), `/health` (alive) and
//! `/ready` (PostgreSQL and JetStream answer), on an address of its own so workers and
//! notifiers, which serve no API, are observable and probeable too.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use anyhow::Context;
use async_nats::jetstream;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tokio::task::JoinHandle;

use crate::http::health::Health;

/// What `/ready` checks.
#[derive(Clone)]
pub struct Probe {
    /// PostgreSQL.
    pub db: PgPool,
    /// JetStream.
    pub js: jetstream::Context,
}

#[derive(Clone)]
struct OpsState {
    probe: Probe,
    metrics: Option<PrometheusHandle>,
}

/// A running ops server; dropping it stops it.
pub struct OpsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for OpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

static BOUND: Mutex<Option<HashMap<&'static str, SocketAddr>>> = Mutex::new(None);

/// Where the ops server of `role` in this process listens (the last started), for logs and
/// in-process tests that ask for port 0.
pub fn bound(role: &str) -> Option<SocketAddr> {
    BOUND
        .lock()
        .ok()
        .and_then(|map| map.as_ref().and_then(|m| m.get(role).copied()))
}

/// Binds `addr` and serves the ops routes of `role` until dropped.
pub async fn start(
    role: &'static str,
    addr: SocketAddr,
    probe: Probe,
    metrics: Option<PrometheusHandle>,
) -> anyhow::Result<OpsServer> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the ops address BW_OPS_ADDR {addr} of the {role}"))?;
    let addr = listener.local_addr()?;
    if let Ok(mut map) = BOUND.lock() {
        map.get_or_insert_with(HashMap::new).insert(role, addr);
    }
    let app = axum::Router::new()
        .route("/metrics", get(render))
        .route("/health", get(|| async { Json(alive()) }))
        .route("/ready", get(ready))
        .with_state(OpsState { probe, metrics });
    tracing::info!(%addr, role, "ops server listening (/metrics, /health, /ready)");
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::warn!(%error, "ops server stopped");
        }
    });
    Ok(OpsServer { addr, task })
}

fn alive() -> Health {
    Health {
        status: "ok",
        postgres: None,
        nats: None,
    }
}

async fn render(State(state): State<OpsState>) -> impl IntoResponse {
    let body = state
        .metrics
        .as_ref()
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

async fn ready(State(state): State<OpsState>) -> (StatusCode, Json<Health>) {
    let postgres = sqlx::query("SELECT 1")
        .execute(&state.probe.db)
        .await
        .is_ok();
    let nats = state.probe.js.query_account().await.is_ok();
    let ok = postgres && nats;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if ok { "ok" } else { "unavailable" },
            postgres: Some(postgres),
            nats: Some(nats),
        }),
    )
}
