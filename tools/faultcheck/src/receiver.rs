//! A webhook receiver for the fault scenarios: answers 200 to every delivery and appends a
//! line per delivery to its log — `<µs since the epoch> <supplier id> <webhook-id>` — the
//! supplier being the last path segment of the endpoint URL (see `webhooks`). Written
//! unbuffered on receipt, so a line is on disk before the answer leaves (`--delay-ms` later).

use std::io::Write;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use axum::extract::{Request, State};
use chrono::Utc;

use crate::args::Flags;

/// The log, and how long each answer is held back (so a kill lands mid-request more often).
type Log = (Arc<Mutex<std::fs::File>>, std::time::Duration);

pub async fn run(flags: &Flags) -> Result<bool> {
    let listen = flags.required("--listen")?;
    let path = flags.required("--log")?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {path}"))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let app = axum::Router::new().fallback(receive).with_state((
        Arc::new(Mutex::new(file)),
        std::time::Duration::from_millis(flags.number("--delay-ms", 0)?),
    ));
    axum::serve(listener, app).await.context("serving")?;
    Ok(true)
}

async fn receive(State((log, delay)): State<Log>, request: Request) -> &'static str {
    let at = Utc::now().timestamp_micros();
    let supplier = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let id = request
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let line = format!("{at} {supplier} {id}\n");
    if let Ok(mut file) = log.lock() {
        let _ = file.write_all(line.as_bytes());
    }
    tokio::time::sleep(delay).await;
    "ok"
}
