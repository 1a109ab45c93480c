//! The worker binary: consumes commands until SIGTERM, then drains.

use std::process::ExitCode;

use bluewhale::config::Config;
use bluewhale::{shutdown, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("worker: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    match bluewhale_workers::run(config, shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "worker stopped");
            ExitCode::FAILURE
        }
    }
}
