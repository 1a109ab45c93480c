//! Every process serves `/metrics`, `/health` and `/ready` on its ops address, and the series
//! follow the business flow: HTTP requests, commands by outcome with their latency, queues,
//! outbox, dead letters, webhook attempts. (In-process, the three share one recorder; each
//! test is its own process under nextest, so the counts are this test's.)

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use bluewhale_tests::receiver::Receiver;
use bluewhale_tests::{TestApp, world};

/// The value of the series whose line starts with `series` (name and labels as rendered).
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(app: &TestApp, role: &str) -> String {
    let response = app
        .http
        .get(format!("{}/metrics", app.ops_url(role)))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.expect("body")
}

/// Scrapes `role` until `series` reads at least `at_least` (gauges are sampled every 5 s).
async fn wait_for_series(app: &TestApp, role: &str, series: &str, at_least: f64) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = scrape(app, role).await;
        if value(&metrics, series).is_some_and(|v| v >= at_least) {
            return metrics;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{series} never reached {at_least} on the {role}:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_process_serves_its_ops_routes_and_the_flow_shows_in_the_series() {
    let mut app = TestApp::spawn().await;
    app.start_notifier().await;
    for role in ["ingress", "worker", "notifier"] {
        let ops = app.ops_url(role);
        let health: Value = app
            .http
            .get(format!("{ops}/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["status"], "ok", "{role}");
        let ready = app.http.get(format!("{ops}/ready")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "{role}");
        let ready: Value = ready.json().await.unwrap();
        assert_eq!(
            (&ready["postgres"], &ready["nats"]),
            (&json!(true), &json!(true))
        );
    }
    let receiver = Receiver::start(Vec::new()).await;
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let created = app
        .write(
            &format!(
                "/api/v1/suppliers/{}/webhook-endpoints",
                world::supplier_id(world::SUPPLIER_CODE)
            ),
            &supplier,
            "metrics-endpoint",
            &json!({"url": receiver.url("/m")}),
            &[("Prefer", "wait=10")],
        )
        .await;
    assert_eq!(created.status(), 201);
    app.priced_order("metrics").await;
    receiver.wait_for(1, Duration::from_secs(20)).await;

    let ingress = scrape(&app, "ingress").await;
    assert_eq!(
        value(
            &ingress,
            r#"http_requests_total{method="POST",route="/api/v1/orders",status="202"}"#
        ),
        Some(1.0),
        "{ingress}"
    );
    assert!(
        value(
            &ingress,
            r#"http_request_duration_seconds_count{method="POST",route="/api/v1/orders"}"#
        )
        .is_some()
    );
    assert!(
        ingress.contains(r#"route="/api/v1/suppliers/{supplier_id}/webhook-endpoints""#),
        "route templates, never ids"
    );
    assert!(!ingress.contains(&world::supplier_id(world::SUPPLIER_CODE).to_string()));

    let worker = wait_for_series(
        &app,
        "worker",
        r#"bluewhale_commands_total{type="order.submit",outcome="applied"}"#,
        1.0,
    )
    .await;
    assert_eq!(
        value(
            &worker,
            r#"bluewhale_command_latency_seconds_count{type="order.submit"}"#
        ),
        Some(1.0)
    );
    assert!(
        value(
            &worker,
            r#"bluewhale_command_batch_size_bucket{type="webhook_endpoint.change",le="1"}"#
        )
        .is_some()
    );
    let worker = wait_for_series(
        &app,
        "worker",
        r#"bluewhale_stream_messages{stream="EVENTS"}"#,
        1.0,
    )
    .await;
    for series in [
        r#"bluewhale_consumer_pending{stream="COMMANDS",consumer="order-workers"}"#,
        r#"bluewhale_consumer_ack_pending{stream="EVENTS",consumer="notifier"}"#,
        "bluewhale_outbox_rows",
        "bluewhale_outbox_oldest_age_seconds",
        r#"bluewhale_db_pool_connections{state="idle"}"#,
        "bluewhale_nats_connected 1",
    ] {
        assert!(
            value(&worker, series).is_some() || worker.contains(series),
            "{series}:\n{worker}"
        );
    }

    let notifier = wait_for_series(
        &app,
        "notifier",
        r#"bluewhale_notification_attempts_total{channel="webhook",outcome="delivered"}"#,
        1.0,
    )
    .await;
    assert!(notifier.contains(r#"bluewhale_webhook_endpoints{state="enabled"}"#));

    // A poison command shows as a dead letter.
    let subject = app
        .ns
        .command_subject("order.submit", Uuid::new_v4(), Uuid::new_v4());
    app.js
        .publish(subject, "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    wait_for_series(
        &app,
        "worker",
        r#"bluewhale_dead_letters{reason="undecodable"}"#,
        1.0,
    )
    .await;
    let worker = wait_for_series(
        &app,
        "worker",
        r#"bluewhale_commands_total{type="order.submit",outcome="dead_lettered"}"#,
        1.0,
    )
    .await;
    assert!(worker.contains("# TYPE bluewhale_command_latency_seconds histogram"));
    app.cleanup().await;
}
