//! NATS JetStream: subjects, envelopes, stream and consumer set-up, publishing with acks.

pub mod command;
pub mod commands;
pub mod envelope;
pub mod events;
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
        .connect(url)
        .await
}
