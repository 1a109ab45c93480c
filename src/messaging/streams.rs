//! Stream and consumer set-up from the definitions in `nats/` (embedded at build time).
//!
//! A missing stream is created. An existing stream whose definition differs is reported and
//! left alone: deleting or silently rewriting a stream could lose commands.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

use super::Namespace;

const COMMANDS: &str = include_str!("../../nats/streams/commands.json");
const EVENTS: &str = include_str!("../../nats/streams/events.json");
const DLQ: &str = include_str!("../../nats/streams/dlq.json");
const ORDER_WORKERS: &str = include_str!("../../nats/consumers/order-workers.json");
const NOTIFIER: &str = include_str!("../../nats/consumers/notifier.json");

/// A set-up failure.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A definition file in `nats/` does not parse.
    #[error("invalid definition {name}: {source}")]
    Definition {
        /// Which definition.
        name: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The server refused or did not answer.
    #[error("JetStream: {0}")]
    Server(String),
}

/// A difference between a stream's definition and the stream on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// Stream name.
    pub stream: String,
    /// Field that differs.
    pub field: &'static str,
    /// Value in `nats/`.
    pub defined: String,
    /// Value on the server.
    pub actual: String,
}

/// The stream definitions, with the namespace applied.
pub fn stream_definitions(ns: &Namespace) -> Result<Vec<stream::Config>, SetupError> {
    [("commands", COMMANDS), ("events", EVENTS), ("dlq", DLQ)]
        .into_iter()
        .map(|(name, json)| {
            let mut config: stream::Config = serde_json::from_str(json)
                .map_err(|source| SetupError::Definition { name, source })?;
            config.name = ns.stream(&config.name);
            config.subjects = config.subjects.iter().map(|s| ns.subject(s)).collect();
            Ok(config)
        })
        .collect()
}

/// Creates missing streams and reports (never deletes) those whose definition differs.
pub async fn ensure_streams(
    js: &jetstream::Context,
    ns: &Namespace,
) -> Result<Vec<Drift>, SetupError> {
    let mut drifts = Vec::new();
    for defined in stream_definitions(ns)? {
        let mut existing = js
            .get_or_create_stream(defined.clone())
            .await
            .map_err(|e| SetupError::Server(e.to_string()))?;
        let mut info = existing
            .info()
            .await
            .map_err(|e| SetupError::Server(e.to_string()))?
            .clone();
        if defined.allow_atomic_publish && !info.config.allow_atomic_publish {
            // A stream made before atomic batches were used: allowing them changes nothing
            // stored and nothing for other publishers, so it is done rather than reported.
            let config = stream::Config {
                allow_atomic_publish: true,
                ..info.config.clone()
            };
            info = js
                .update_stream(config)
                .await
                .map_err(|e| SetupError::Server(e.to_string()))?;
            tracing::info!(stream = %defined.name, "atomic batch publish allowed on an existing stream");
        }
        for drift in compare(&defined, &info.config) {
            tracing::warn!(
                stream = %drift.stream, field = drift.field, defined = %drift.defined,
                actual = %drift.actual,
                "stream differs from its definition in nats/; left unchanged, reconcile by hand"
            );
            drifts.push(drift);
        }
    }
    Ok(drifts)
}

/// The fields that matter for correctness and capacity.
fn compare(defined: &stream::Config, actual: &stream::Config) -> Vec<Drift> {
    let mut drifts = Vec::new();
    let mut check = |field: &'static str, a: String, b: String| {
        if a != b {
            drifts.push(Drift {
                stream: defined.name.clone(),
                field,
                defined: a,
                actual: b,
            });
        }
    };
    check(
        "subjects",
        format!("{:?}", defined.subjects),
        format!("{:?}", actual.subjects),
    );
    check(
        "retention",
        format!("{:?}", defined.retention),
        format!("{:?}", actual.retention),
    );
    check(
        "storage",
        format!("{:?}", defined.storage),
        format!("{:?}", actual.storage),
    );
    check(
        "num_replicas",
        defined.num_replicas.to_string(),
        actual.num_replicas.to_string(),
    );
    check(
        "max_age",
        format!("{:?}", defined.max_age),
        format!("{:?}", actual.max_age),
    );
    check(
        "duplicate_window",
        format!("{:?}", defined.duplicate_window),
        format!("{:?}", actual.duplicate_window),
    );
    check(
        "allow_direct",
        defined.allow_direct.to_string(),
        actual.allow_direct.to_string(),
    );
    check(
        "allow_atomic",
        defined.allow_atomic_publish.to_string(),
        actual.allow_atomic_publish.to_string(),
    );
    drifts
}

/// Settings of the order-workers consumer that come from the worker configuration.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerLimits {
    /// Time a delivered message may stay unacknowledged.
    pub ack_wait: Duration,
    /// Deliveries after which the worker dead-letters a failing command.
    pub max_deliver: u32,
    /// Unacknowledged messages outstanding at once, over all worker processes.
    pub max_ack_pending: i64,
}

/// The durable order-workers consumer definition, with the namespace and limits applied.
pub fn order_workers_definition(
    ns: &Namespace,
    limits: ConsumerLimits,
) -> Result<consumer::pull::Config, SetupError> {
    let mut config: consumer::pull::Config =
        serde_json::from_str(ORDER_WORKERS).map_err(|source| SetupError::Definition {
            name: "order-workers",
            source,
        })?;
    config.filter_subject = ns.subject(&config.filter_subject);
    config.ack_wait = limits.ack_wait;
    // The worker dead-letters on its last allowed delivery; the server's own limit is one
    // above so that a crashing worker cannot make a message disappear silently.
    config.max_deliver = i64::from(limits.max_deliver) + 1;
    config.max_ack_pending = limits.max_ack_pending;
    Ok(config)
}

/// Creates or updates the durable order-workers consumer on the COMMANDS stream.
pub async fn ensure_order_workers(
    js: &jetstream::Context,
    ns: &Namespace,
    limits: ConsumerLimits,
) -> Result<consumer::PullConsumer, SetupError> {
    let config = order_workers_definition(ns, limits)?;
    ensure_consumer(js, &ns.commands_stream(), config).await
}

/// The durable notifier consumer on the EVENTS stream, with the namespace applied.
pub fn notifier_definition(ns: &Namespace) -> Result<consumer::pull::Config, SetupError> {
    let mut config: consumer::pull::Config =
        serde_json::from_str(NOTIFIER).map_err(|source| SetupError::Definition {
            name: "notifier",
            source,
        })?;
    for subject in &mut config.filter_subjects {
        *subject = ns.subject(subject);
    }
    Ok(config)
}

/// Creates or updates the durable notifier consumer on the EVENTS stream.
pub async fn ensure_notifier(
    js: &jetstream::Context,
    ns: &Namespace,
) -> Result<consumer::PullConsumer, SetupError> {
    ensure_consumer(js, &ns.events_stream(), notifier_definition(ns)?).await
}

async fn ensure_consumer(
    js: &jetstream::Context,
    stream: &str,
    config: consumer::pull::Config,
) -> Result<consumer::PullConsumer, SetupError> {
    let stream = js
        .get_stream(stream)
        .await
        .map_err(|e| SetupError::Server(e.to_string()))?;
    let name = config.durable_name.clone().unwrap_or_default();
    // create_consumer is idempotent for an identical config and updates editable fields.
    stream
        .create_consumer(config)
        .await
        .map_err(|e| SetupError::Server(format!("consumer {name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_parse_and_take_the_namespace() {
        let ns = Namespace::new("t1").unwrap();
        let streams = stream_definitions(&ns).expect("definitions parse");
        let names: Vec<_> = streams.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["t1_COMMANDS", "t1_EVENTS", "t1_DLQ"]);
        assert_eq!(streams[0].subjects, ["t1.bw.cmd.>"]);
        assert_eq!(streams[0].retention, stream::RetentionPolicy::WorkQueue);
        assert!(
            streams[0].allow_direct,
            "the ingress reads pending commands by direct get"
        );
        let consumer = order_workers_definition(
            &ns,
            ConsumerLimits {
                ack_wait: Duration::from_secs(30),
                max_deliver: 5,
                max_ack_pending: 1024,
            },
        )
        .expect("consumer parses");
        assert_eq!(consumer.filter_subject, "t1.bw.cmd.>");
        assert_eq!(consumer.max_deliver, 6);
        assert_eq!(consumer.ack_policy, consumer::AckPolicy::Explicit);
    }

    #[test]
    fn drift_names_each_differing_field() {
        let defined = stream_definitions(&Namespace::default()).unwrap().remove(0);
        let mut actual = defined.clone();
        actual.max_age = Duration::from_secs(1);
        actual.allow_direct = false;
        let fields: Vec<_> = compare(&defined, &actual).iter().map(|d| d.field).collect();
        assert_eq!(fields, ["max_age", "allow_direct"]);
    }
}
