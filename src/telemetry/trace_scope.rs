//! Tying a `tracing` span to a trace: the span adopts the trace that came with a request or a
//! message (or starts one), records its id for every log line inside it, and hands the next hop
//! the trace context to send on.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::TraceParent;

/// Makes `span` part of the trace `remote` came with (a new trace when there is none) and
/// records its `trace_id` field; returns the trace context a message sent from within `span`
/// carries. With OpenTelemetry export on, the span's own ids are used, so exported spans form
/// one tree; without it, the span gets a new span id of ours.
///
/// The span must declare `trace_id = tracing::field::Empty`.
pub fn adopt(span: &Span, remote: Option<TraceParent>) -> TraceParent {
    if let Some(remote) = remote {
        let context = SpanContext::new(
            TraceId::from_bytes(remote.trace_id()),
            SpanId::from_bytes(remote.parent_id()),
            if remote.sampled() {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            },
            true,
            TraceState::default(),
        );
        // Without the OpenTelemetry layer this does nothing.
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(context));
    }
    let trace = exported(span).unwrap_or_else(|| match remote {
        Some(remote) => remote.child(),
        None => TraceParent::start(),
    });
    span.record("trace_id", trace.trace_id_hex().as_str());
    trace
}

/// The trace context to send from within `span`, a child of `trace` (which `span`'s ancestor
/// adopted): `span` itself when it is exported, else `trace` as it is.
pub fn outgoing(span: &Span, trace: TraceParent) -> TraceParent {
    exported(span).unwrap_or(trace)
}

/// The span's OpenTelemetry ids, when the OpenTelemetry layer is installed.
fn exported(span: &Span) -> Option<TraceParent> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if !span_context.is_valid() {
        return None;
    }
    TraceParent::from_parts(
        span_context.trace_id().to_bytes(),
        span_context.span_id().to_bytes(),
        span_context.is_sampled(),
    )
}
