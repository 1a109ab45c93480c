//! The ingress: HTTP in, commands to JetStream out.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bluewhale::config::Config;
use bluewhale::{bootstrap, http, ops, process, shutdown};

fn main() -> ExitCode {
    process::main("ingress", run)
}

async fn run(config: Config) -> anyhow::Result<()> {
    let infra = bootstrap::connect(&config, "bluewhale-ingress").await?;
    let _ops = ops::start(ops::Role::Ingress, &config, &infra).await?;
    let listener = tokio::net::TcpListener::bind(config.http.addr)
        .await
        .with_context(|| format!("binding BW_HTTP_ADDR {}", config.http.addr))?;
    tracing::info!(addr = %config.http.addr, "ingress listening");
    let nats = infra.nats.clone();
    let state = http::AppState::new(Arc::new(config), infra.db, infra.nats, infra.ns)
        .context("starting the password threads")?;
    http::serve(listener, state, shutdown::signal()).await?;
    // Commands are published with acks, so nothing is buffered; flush is for good measure.
    nats.flush().await.ok();
    tracing::info!("ingress stopped");
    Ok(())
}
