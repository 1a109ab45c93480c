//! The process-wide Prometheus recorder and the names of our series. Labels stay
//! low-cardinality: route templates, command and event types, outcomes; never ids.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// `http_requests_total{method, route, status}`.
pub const HTTP_REQUESTS: &str = "http_requests_total";
/// `http_request_duration_seconds{method, route}`.
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
/// `http_requests_in_flight`.
pub const HTTP_IN_FLIGHT: &str = "http_requests_in_flight";
/// `bluewhale_commands_total{type, outcome}`: applied, rejected, retried, dead_lettered.
pub const COMMANDS: &str = "bluewhale_commands_total";
/// `bluewhale_command_handler_duration_seconds{type}`: deciding one batch.
pub const HANDLER_DURATION: &str = "bluewhale_command_handler_duration_seconds";
/// `bluewhale_command_batch_duration_seconds{type}`: one batch's transaction, commit included.
pub const BATCH_DURATION: &str = "bluewhale_command_batch_duration_seconds";
/// `bluewhale_command_batch_size{type}`: commands per transaction.
pub const BATCH_SIZE: &str = "bluewhale_command_batch_size";
/// `bluewhale_command_latency_seconds{type}`: from acceptance by the ingress to commit.
pub const COMMAND_LATENCY: &str = "bluewhale_command_latency_seconds";
/// `bluewhale_stream_messages{stream}`.
pub const STREAM_MESSAGES: &str = "bluewhale_stream_messages";
/// `bluewhale_stream_bytes{stream}`.
pub const STREAM_BYTES: &str = "bluewhale_stream_bytes";
/// `bluewhale_consumer_pending{stream, consumer}`: not yet delivered.
pub const CONSUMER_PENDING: &str = "bluewhale_consumer_pending";
/// `bluewhale_consumer_ack_pending{stream, consumer}`: delivered, not yet acknowledged.
pub const CONSUMER_ACK_PENDING: &str = "bluewhale_consumer_ack_pending";
/// `bluewhale_consumer_redelivered{stream, consumer}`.
pub const CONSUMER_REDELIVERED: &str = "bluewhale_consumer_redelivered";
/// `bluewhale_consumer_waiting{stream, consumer}`: pull requests waiting.
pub const CONSUMER_WAITING: &str = "bluewhale_consumer_waiting";
/// `bluewhale_outbox_rows`: transactions whose events are not published yet.
pub const OUTBOX_ROWS: &str = "bluewhale_outbox_rows";
/// `bluewhale_outbox_oldest_age_seconds`.
pub const OUTBOX_AGE: &str = "bluewhale_outbox_oldest_age_seconds";
/// `bluewhale_dead_letters{reason}`: open ones.
pub const DEAD_LETTERS: &str = "bluewhale_dead_letters";
/// `bluewhale_notification_attempts_total{channel, outcome}`: delivered, retried, failed.
pub const NOTIFICATION_ATTEMPTS: &str = "bluewhale_notification_attempts_total";
/// `bluewhale_webhook_endpoints{state}`: enabled, disabled, failing.
pub const WEBHOOK_ENDPOINTS: &str = "bluewhale_webhook_endpoints";
/// `bluewhale_notification_oldest_pending_age_seconds{channel}`.
pub const NOTIFICATION_AGE: &str = "bluewhale_notification_oldest_pending_age_seconds";
/// `bluewhale_db_pool_connections{state}`: idle, in_use.
pub const POOL_CONNECTIONS: &str = "bluewhale_db_pool_connections";
/// `bluewhale_db_pool_max_connections`.
pub const POOL_MAX: &str = "bluewhale_db_pool_max_connections";
/// `bluewhale_db_pool_acquire_seconds`: time to get a connection (sampled).
pub const POOL_ACQUIRE: &str = "bluewhale_db_pool_acquire_seconds";
/// `bluewhale_nats_connected`: 1 when connected.
pub const NATS_CONNECTED: &str = "bluewhale_nats_connected";
/// `bluewhale_nats_reconnects`: connections made after the first.
pub const NATS_RECONNECTS: &str = "bluewhale_nats_reconnects";

/// Seconds: 1 ms to 5 min, so both a fast request and a backlog's latency fit.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];
/// Commands per batch.
const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same handle). `None` if
/// another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(BATCH_SIZE.into()), BATCH));
            match builder.map(PrometheusBuilder::install_recorder) {
                Ok(Ok(handle)) => {
                    describe();
                    Some(handle)
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "metrics recorder not installed");
                    None
                }
                Err(error) => {
                    tracing::warn!(%error, "metrics buckets refused");
                    None
                }
            }
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "HTTP request duration");
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being served");
    describe_counter!(COMMANDS, "Commands processed, by outcome");
    describe_histogram!(HANDLER_DURATION, Unit::Seconds, "Handler time per batch");
    describe_histogram!(BATCH_DURATION, Unit::Seconds, "Transaction time per batch");
    describe_histogram!(BATCH_SIZE, Unit::Count, "Commands per batch");
    describe_histogram!(
        COMMAND_LATENCY,
        Unit::Seconds,
        "From acceptance by the ingress to commit"
    );
    describe_gauge!(STREAM_MESSAGES, "Messages in a JetStream stream");
    describe_gauge!(STREAM_BYTES, Unit::Bytes, "Bytes in a JetStream stream");
    describe_gauge!(CONSUMER_PENDING, "Messages not yet delivered to a consumer");
    describe_gauge!(CONSUMER_ACK_PENDING, "Messages delivered, not acknowledged");
    describe_gauge!(CONSUMER_REDELIVERED, "Messages redelivered");
    describe_gauge!(CONSUMER_WAITING, "Pull requests waiting");
    describe_gauge!(OUTBOX_ROWS, "Outbox rows not yet published");
    describe_gauge!(OUTBOX_AGE, Unit::Seconds, "Age of the oldest outbox row");
    describe_gauge!(DEAD_LETTERS, "Open dead letters, by reason");
    describe_counter!(NOTIFICATION_ATTEMPTS, "Webhook and e-mail attempts");
    describe_gauge!(WEBHOOK_ENDPOINTS, "Webhook endpoints, by state");
    describe_gauge!(
        NOTIFICATION_AGE,
        Unit::Seconds,
        "Age of the oldest undelivered message"
    );
    describe_gauge!(POOL_CONNECTIONS, "Database pool connections, by state");
    describe_gauge!(POOL_MAX, "Database pool size limit");
    describe_histogram!(POOL_ACQUIRE, Unit::Seconds, "Time to acquire a connection");
    describe_gauge!(NATS_CONNECTED, "1 when the NATS connection is up");
    describe_gauge!(NATS_RECONNECTS, "NATS reconnections since start");
}
