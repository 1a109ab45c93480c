//! NATS JetStream: subjects, envelopes, stream and consumer set-up, publishing with acks.

pub mod atomic_batch;
pub mod command;
pub mod commands;
pub mod correlation;
pub mod envelope;
pub mod events;
pub mod group_publish;
pub mod pending;
pub mod publish;
pub mod streams;
pub mod subjects;

pub use subjects::Namespace;

/// Connects to NATS with a name that shows in the server's connection list.
pub async fn connect(
    url: &str,
    name: &str,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(std::time::Duration::from_secs(5))
        // The client's default backoff reaches 4 s between attempts: after an outage of a few
        // seconds the processes would stay away that long after the server is back.
        .reconnect_delay_callback(reconnect_delay)
        .connect(url)
        .await
}

/// Pause before reconnect attempt `attempts`: at once, then 100 ms more each time, at most 1 s.
fn reconnect_delay(attempts: usize) -> std::time::Duration {
    let steps = u64::try_from(attempts.saturating_sub(1)).unwrap_or(u64::MAX);
    std::time::Duration::from_millis(steps.saturating_mul(100).min(1_000))
}
