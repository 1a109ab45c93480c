//! The ingress: HTTP in, commands to JetStream out.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bluewhale::config::Config;
use bluewhale::messaging::{self, Namespace};
use bluewhale::{db, http, shutdown, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("ingress: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "ingress stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let ns = Namespace::new(config.nats.namespace.clone())
        .map_err(anyhow::Error::msg)
        .context("BW_NAMESPACE")?;
    let pool = db::connect(&config.database.url, config.database.max_connections)
        .await
        .context("connecting to PostgreSQL (DATABASE_URL)")?;
    if config.database.migrate_on_start {
        db::migrate(&pool).await.context("applying migrations")?;
    }
    let nats = messaging::connect(&config.nats.url, "bluewhale-ingress")
        .await
        .context("connecting to NATS (NATS_URL)")?;
    let js = async_nats::jetstream::new(nats.clone());
    messaging::streams::ensure_streams(&js, &ns)
        .await
        .context("setting up JetStream streams")?;
    let listener = tokio::net::TcpListener::bind(config.http.addr)
        .await
        .with_context(|| format!("binding BW_HTTP_ADDR {}", config.http.addr))?;
    tracing::info!(addr = %config.http.addr, "ingress listening");
    let state = http::AppState::new(Arc::new(config), pool, nats.clone(), ns);
    http::serve(listener, state, shutdown::signal()).await?;
    // Commands are published with acks, so nothing is buffered; flush is for good measure.
    nats.flush().await.ok();
    tracing::info!("ingress stopped");
    Ok(())
}
