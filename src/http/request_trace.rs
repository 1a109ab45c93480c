//! The request's span: it adopts the client's W3C `traceparent` (or starts a trace), carries the
//! trace id and request id into every log line of the request, logs the answer, and tells the
//! client the trace in `traceresponse`.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::telemetry::{self, TraceParent};

/// The W3C Trace Context request header.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The W3C Trace Context (level 2) response header: the trace this request was recorded in.
pub const TRACERESPONSE: HeaderName = HeaderName::from_static("traceresponse");

/// Runs the request inside its span, the trace context in its extensions.
pub async fn trace_request(mut request: Request, next: Next) -> Response {
    // An invalid or repeated header is ignored, as the specification asks: a new trace starts.
    let mut values = request.headers().get_all(TRACEPARENT).iter();
    let remote = match (values.next(), values.next()) {
        (Some(value), None) => TraceParent::parse(value.as_bytes()).ok(),
        _ => None,
    };
    let request_id = request
        .headers()
        .get(super::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "http",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
        trace_id = Empty,
    );
    let trace = telemetry::adopt(&span, remote);
    request.extensions_mut().insert(trace);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, latency_ms, "request failed");
        } else {
            tracing::info!(status, latency_ms, "request finished");
        }
    });
    if let Ok(value) = HeaderValue::try_from(trace.to_string()) {
        response.headers_mut().insert(TRACERESPONSE, value);
    }
    response
}
