//! The worker binary: consumes commands until SIGTERM, then drains.

use std::process::ExitCode;

use bluewhale::config::Config;
use bluewhale::{shutdown, telemetry};

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("worker: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    match shutdown::run(bluewhale_workers::run(config, shutdown::signal())) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            tracing::error!(error = format!("{error:#}"), "worker stopped");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("worker: cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}
