//! Structured logging and tracing set-up shared by every binary, and the trace context that
//! follows one request through the pipeline (HTTP → command → worker → event → delivery).

pub mod trace_parent;
mod trace_scope;

pub use trace_parent::TraceParent;
pub use trace_scope::{adopt, outgoing};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// What [`init`] installed that must be flushed before the process exits.
#[derive(Debug, Default)]
#[must_use = "dropping it without shutdown loses the spans not yet exported"]
pub struct Telemetry {
    tracer_provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still buffered and stops the exporter (blocking: call it outside the
    /// async runtime).
    pub fn shutdown(self) {
        if let Some(provider) = self.tracer_provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("OpenTelemetry shutdown: {error}");
        }
    }
}

/// Why the OTLP exporter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` names a protocol this build does not speak.
    #[error("OTEL_EXPORTER_OTLP_PROTOCOL {0:?}: expected http/protobuf or http/json")]
    Protocol(String),
    /// The exporter refused its settings.
    #[error("OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// Installs the global subscriber: JSON lines in production, readable lines in development;
/// and, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set, every span exported
/// over OTLP as `service`. Build it outside an async runtime (the exporter's client blocks).
pub fn init(service: &str, format: LogFormat) -> Result<Telemetry, TelemetryError> {
    init_with(
        service,
        format,
        |name| std::env::var(name).ok(),
        std::io::stdout,
    )
}

/// [`init`] with the OpenTelemetry settings read from `lookup`, log lines written to `writer`.
pub fn init_with<W>(
    service: &str,
    format: LogFormat,
    lookup: impl Fn(&str) -> Option<String>,
    writer: W,
) -> Result<Telemetry, TelemetryError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let tracer_provider = otlp_provider(service, &lookup)?;
    let otel = tracer_provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(service.to_owned())));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(true)
        .with_writer(writer);
    // A second init (tests spawning several apps in one process) is harmless: ignore it.
    let _ = match format {
        LogFormat::Json => registry.with(fmt.json().flatten_event(true)).try_init(),
        LogFormat::Pretty => registry.with(fmt).try_init(),
    };
    Ok(Telemetry { tracer_provider })
}

fn otlp_provider(
    service: &str,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let Some(endpoint) = set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| {
        // The general endpoint is a base URL: traces go to its /v1/traces.
        set("OTEL_EXPORTER_OTLP_ENDPOINT")
            .map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
    }) else {
        return Ok(None);
    };
    let protocol = match set("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
        None | Some("http/protobuf") => Protocol::HttpBinary,
        Some("http/json") => Protocol::HttpJson,
        Some(other) => return Err(TelemetryError::Protocol(other.to_owned())),
    };
    // The exporter's client speaks TLS to an https collector with our one provider.
    crate::tls::install_crypto_provider();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .with_protocol(protocol)
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(set("OTEL_SERVICE_NAME").unwrap_or_else(|| service.to_owned()))
        .build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    ))
}
