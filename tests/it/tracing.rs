//! One trace from the HTTP request to the supplier's webhook: the client's `traceparent` and
//! `x-request-id` reach the command's NATS headers, the worker, the events and the notifier's
//! deliveries; every log line of the chain carries both; spans are exported over OTLP when
//! asked for.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use bluewhale_tests::faults::wait_for;
use bluewhale_tests::logs::{LogCapture, field};
use bluewhale_tests::receiver::Receiver;
use bluewhale_tests::{TestApp, three_supplier_order, world};

use crate::webhook_endpoints::create_endpoint;

const WITHIN: Duration = Duration::from_secs(20);

/// A client's trace context: a fresh trace id, and the id of the client's own span.
fn client_trace() -> (String, String) {
    let trace_id = format!("{:032x}", Uuid::new_v4().as_u128());
    let parent = format!("{:016x}", Uuid::new_v4().as_u128() as u64 | 1);
    (trace_id, parent)
}

/// Registers an endpoint of the demo supplier at `receiver`, so orders are delivered to it.
async fn subscribe(app: &TestApp, receiver: &Receiver) {
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    create_endpoint(
        app,
        &supplier,
        "traced-endpoint",
        &json!({"url": receiver.url("/hook")}),
    )
    .await;
}

/// Submits the three-supplier order with these trace headers; returns its id and the
/// `traceresponse` header.
async fn submit(app: &TestApp, headers: &[(&str, &str)]) -> (String, String) {
    let station = app.login(world::STATION_EMAIL).await;
    let response = app
        .write(
            "/api/v1/orders",
            &station,
            &format!("traced-{}", Uuid::new_v4()),
            &three_supplier_order(),
            headers,
        )
        .await;
    assert_eq!(response.status(), 202);
    let traceresponse = response.headers()["traceresponse"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    (body["id"].as_str().unwrap().to_owned(), traceresponse)
}

/// Every message of a stream with its headers' `traceparent` and its payload.
async fn stream_messages(app: &TestApp, stream: &str) -> Vec<(Option<String>, Value)> {
    let stream = app.js.get_stream(stream).await.unwrap();
    let last = stream.get_info().await.unwrap().state.last_sequence;
    let mut messages = Vec::new();
    for sequence in 1..=last {
        let Ok(message) = stream.get_raw_message(sequence).await else {
            continue;
        };
        let traceparent = message
            .headers
            .get("traceparent")
            .map(|v| v.as_str().to_owned());
        messages.push((
            traceparent,
            serde_json::from_slice(&message.payload).unwrap(),
        ));
    }
    messages
}

/// `(target, message)` of the log lines carrying `trace_id`.
fn chain(lines: &[Value], trace_id: &str) -> Vec<Value> {
    lines
        .iter()
        .filter(|line| field(line, "trace_id") == Some(&json!(trace_id)))
        .cloned()
        .collect()
}

fn said(lines: &[Value]) -> BTreeSet<(String, String)> {
    lines
        .iter()
        .map(|line| {
            (
                line["target"].as_str().unwrap_or_default().to_owned(),
                line["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn one_trace_and_request_id_follow_an_order_from_the_request_to_the_supplier_webhook() {
    let mut app = TestApp::options().capture_logs().spawn().await;
    app.start_notifier().await;
    let receiver = Receiver::start(Vec::new()).await;
    subscribe(&app, &receiver).await;
    // COMMANDS is a work queue: the command is read there before a worker takes it.
    app.stop_worker().await.unwrap();
    let (trace_id, parent) = client_trace();
    let traceparent = format!("00-{trace_id}-{parent}-01");
    let request_id = format!("req-{}", Uuid::new_v4().simple());

    let (order_id, traceresponse) = submit(
        &app,
        &[("traceparent", &traceparent), ("x-request-id", &request_id)],
    )
    .await;
    // The answer names the trace and the ingress's own span in it.
    assert!(
        traceresponse.starts_with(&format!("00-{trace_id}-")),
        "{traceresponse}"
    );
    assert!(!traceresponse.contains(&parent), "{traceresponse}");

    // The command carries the trace on NATS, and every event it caused.
    let commands = stream_messages(&app, &app.ns.commands_stream()).await;
    let (command_trace, _) = commands
        .iter()
        .find(|(_, payload)| payload["id"] == order_id.as_str())
        .expect("the order command");
    assert!(
        command_trace
            .as_deref()
            .is_some_and(|t| t.starts_with(&format!("00-{trace_id}-"))),
        "{command_trace:?}"
    );
    app.start_worker().await;
    receiver.wait_for(1, WITHIN).await;
    let events = stream_messages(&app, &app.ns.events_stream()).await;
    let caused: Vec<_> = events
        .iter()
        .filter(|(_, payload)| payload["command_id"] == order_id.as_str())
        .collect();
    assert!(caused.len() >= 4, "{} events", caused.len());
    for (trace, event) in &caused {
        assert!(
            trace
                .as_deref()
                .is_some_and(|t| t.starts_with(&format!("00-{trace_id}-"))),
            "{} has {trace:?}",
            event["type"]
        );
    }

    // Every process's log lines of the chain carry the trace id and the request id.
    let mut lines = Vec::new();
    wait_for("the delivery's log line", async || {
        lines = chain(&LogCapture::global().lines(), &trace_id);
        said(&lines).contains(&(
            "bluewhale_notifier::delivery".to_owned(),
            "delivery attempted".to_owned(),
        ))
    })
    .await;
    let said = said(&lines);
    for (target, message) in [
        ("bluewhale::http::request_trace", "request finished"),
        ("bluewhale::http::command_path", "command accepted"),
        ("bluewhale_workers::runner", "command applied"),
        ("bluewhale_notifier::fan_out", "event fanned out"),
        ("bluewhale_notifier::delivery", "delivery attempted"),
    ] {
        assert!(
            said.contains(&(target.to_owned(), message.to_owned())),
            "no {target} {message:?} in the trace: {said:?}"
        );
    }
    for line in &lines {
        assert_eq!(
            field(line, "request_id"),
            Some(&json!(request_id)),
            "{line}"
        );
    }
    // Nothing about this command was logged outside its trace.
    for line in LogCapture::global().lines() {
        if field(&line, "command_id") == Some(&json!(order_id)) {
            assert_eq!(field(&line, "trace_id"), Some(&json!(trace_id)), "{line}");
        }
    }
    app.cleanup().await;
}

#[tokio::test]
async fn a_request_without_a_valid_traceparent_starts_a_trace_of_its_own() {
    let app = TestApp::options().capture_logs().spawn().await;
    let (order_id, traceresponse) = submit(&app, &[("traceparent", "00-garbage-01")]).await;
    let parts: Vec<&str> = traceresponse.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceresponse}");
    let trace_id = parts[1];
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "0".repeat(32));
    app.wait_until_processed(&app.login(world::STATION_EMAIL).await, &order_id)
        .await;
    // The worker picked up the ingress's new trace, not a third one.
    let mut applied = false;
    wait_for("the worker's log line", async || {
        applied = chain(&LogCapture::global().lines(), trace_id)
            .iter()
            .any(|line| line["message"] == "command applied");
        applied
    })
    .await;
    app.cleanup().await;
}

/// Spans of an OTLP/JSON export request: `(name, traceId, spanId, parentSpanId)`.
fn exported_spans(body: &Value) -> Vec<(String, String, String, String)> {
    let mut spans = Vec::new();
    for resource in body["resourceSpans"].as_array().into_iter().flatten() {
        for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
            for span in scope["spans"].as_array().into_iter().flatten() {
                let text = |key: &str| span[key].as_str().unwrap_or_default().to_owned();
                spans.push((
                    text("name"),
                    text("traceId"),
                    text("spanId"),
                    text("parentSpanId"),
                ));
            }
        }
    }
    spans
}

#[tokio::test]
async fn spans_are_exported_over_otlp_as_one_tree_when_an_endpoint_is_set() {
    let collector = Receiver::start(Vec::new()).await;
    let mut app = TestApp::options()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url(""))
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .capture_logs()
        .spawn()
        .await;
    app.start_notifier().await;
    let receiver = Receiver::start(Vec::new()).await;
    subscribe(&app, &receiver).await;
    let (trace_id, parent) = client_trace();
    let traceparent = format!("00-{trace_id}-{parent}-01");
    let (_, traceresponse) = submit(&app, &[("traceparent", &traceparent)]).await;
    receiver.wait_for(1, WITHIN).await;

    let mut spans = Vec::new();
    wait_for("the exported delivery span", async || {
        spans = collector
            .received()
            .iter()
            .flat_map(|request| exported_spans(&request.json()))
            .filter(|(_, trace, _, _)| *trace == trace_id)
            .collect();
        spans.iter().any(|(name, ..)| name == "delivery")
    })
    .await;
    let find = |name: &str| {
        spans
            .iter()
            .find(|(n, ..)| n == name)
            .unwrap_or_else(|| panic!("no {name} span in {spans:?}"))
            .clone()
    };
    let http = find("http");
    let publish = find("publish");
    let command = find("command");
    let fan_out = find("fan_out");
    // The tree: client → http → publish → command → (events) → fan-out → delivery.
    assert_eq!(http.3, parent);
    assert_eq!(traceresponse, format!("00-{trace_id}-{}-01", http.2));
    assert_eq!(publish.3, http.2);
    assert_eq!(command.3, publish.2);
    assert_eq!(fan_out.3, command.2);
    assert!(
        spans
            .iter()
            .any(|(name, _, _, parent)| name == "delivery" && *parent == fan_out.2)
    );
    for name in ["handle", "commit"] {
        assert!(
            collector
                .received()
                .iter()
                .any(|request| exported_spans(&request.json())
                    .iter()
                    .any(|(n, ..)| n == name)),
            "no {name} span exported"
        );
    }
    app.cleanup().await;
}
