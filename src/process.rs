//! The process around a long-running binary: configuration, logging, runtime, exit status.

/// The whole `main` of a long-running binary: reads the configuration (exit 2 when unusable),
/// sets up logging, runs `serve` on a multi-threaded runtime, then bounds the runtime's own
/// shutdown: by then `serve` has drained everything that matters, and a straggling background
/// task (a client's reconnect loop, say) must not keep the process alive.
pub fn main<F, Fut>(name: &str, serve: F) -> std::process::ExitCode
where
    F: FnOnce(crate::config::Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    use std::process::ExitCode;
    crate::allocator::return_large_buffers_to_the_system();
    let config = match crate::config::Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{name}: {error}");
            return ExitCode::from(2);
        }
    };
    let telemetry = match crate::telemetry::init(name, config.log_format) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("{name}: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{name}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(serve(config));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    if let Err(error) = &outcome {
        tracing::error!(error = format!("{error:#}"), "{name} stopped");
    }
    telemetry.shutdown();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
