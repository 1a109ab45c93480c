//! Shutdown signal shared by the binaries: SIGTERM (orchestrators) or Ctrl-C (terminals).

/// Resolves on the first SIGTERM or SIGINT.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: draining");
}

/// Runs a binary's main future on a multi-threaded runtime, then bounds the runtime's own
/// shutdown: by then the future has drained everything that matters, and a straggling
/// background task (a client's reconnect loop, say) must not keep the process alive.
pub fn run<F: std::future::Future>(main: F) -> std::io::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let output = runtime.block_on(main);
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(output)
}
