//! `GET /api/v1/ops/overview`: the live pipeline in one call, for operators only.

use bluewhale_tests::faults::wait_for;
use bluewhale_tests::{TestApp, world};
use serde_json::Value;
use uuid::Uuid;

async fn overview(app: &TestApp, token: &str) -> Value {
    app.get_json("/api/v1/ops/overview", token).await
}

fn consumer<'a>(overview: &'a Value, stream: &str, name: &str) -> &'a Value {
    overview["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == stream)
        .and_then(|s| {
            s["consumers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
        })
        .unwrap_or_else(|| panic!("{stream}/{name} in {overview}"))
}

#[tokio::test]
async fn the_overview_shows_queues_throughput_dead_letters_and_processes() {
    let app = TestApp::spawn().await;
    let admin = app.login(world::ADMIN_EMAIL).await;
    for email in [
        world::MANAGER_EMAIL,
        world::STATION_EMAIL,
        world::SUPPLIER_EMAIL,
    ] {
        let token = app.login(email).await;
        assert_eq!(
            app.get("/api/v1/ops/overview", &token).await.status(),
            403,
            "{email}"
        );
    }
    let first = overview(&app, &admin).await;
    let workers = consumer(&first, "COMMANDS", "order-workers");
    assert_eq!(
        workers["acked_per_second"],
        Value::Null,
        "one reading has no rate"
    );

    app.priced_order("overview-1").await;
    app.priced_order("overview-2").await;
    let garbage = app
        .ns
        .command_subject("order.submit", Uuid::new_v4(), Uuid::new_v4());
    app.js
        .publish(garbage, "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    wait_for("dead letter", async || app.count("dead_letters").await == 1).await;
    // The overview's outbox figure is compared with the table: let the relay settle first.
    app.wait_until_outbox_empty().await;

    let seen = overview(&app, &admin).await;
    let workers = consumer(&seen, "COMMANDS", "order-workers");
    assert_eq!(workers["pending"], 0);
    let rate = workers["acked_per_second"]
        .as_f64()
        .expect("a rate after two readings");
    assert!(
        rate > 0.0,
        "three commands acknowledged since the first reading: {rate}"
    );
    let applied: i64 = seen["throughput"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["applied"].as_i64().unwrap())
        .sum();
    assert_eq!(applied, 2);
    let bucket = &seen["throughput"][0];
    let (p50, p99) = (
        bucket["latency_p50_seconds"].as_f64().unwrap(),
        bucket["latency_p99_seconds"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 < 30.0, "{bucket}");
    assert_eq!(seen["dead_letters"]["open"], 1);
    assert_eq!(
        seen["dead_letters"]["by_reason"][0]["reason"],
        "undecodable"
    );
    assert_eq!(
        seen["outbox"]["rows"].as_i64().unwrap(),
        app.count("outbox").await
    );
    assert_eq!(
        seen["webhook_endpoints"]["in_trouble"],
        serde_json::json!([])
    );
    let roles: Vec<&str> = seen["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"ingress") && roles.contains(&"worker"),
        "{roles:?}"
    );
    let dlq = seen["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "DLQ")
        .unwrap();
    assert_eq!(dlq["messages"], 1);
    app.cleanup().await;
}

#[tokio::test]
async fn processes_gone_for_a_day_are_pruned_and_never_shown() {
    let app = TestApp::spawn().await;
    let insert = |id: Uuid, age: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query(
                "INSERT INTO process_heartbeats (instance_id, role, host, pid, ops_addr, started_at, seen_at) \
                 VALUES ($1, 'worker', 'gone-host', 1, '127.0.0.1:1', now() - $2::interval, now() - $2::interval)",
            )
            .bind(id)
            .bind(age)
            .execute(&db)
            .await
            .unwrap();
        }
    };
    let (ancient, recent) = (Uuid::new_v4(), Uuid::new_v4());
    insert(ancient, "2 days").await;
    insert(recent, "2 hours").await;
    let pruned = bluewhale::db::process_heartbeats::prune(&app.db)
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    let left: Vec<Uuid> =
        sqlx::query_scalar("SELECT instance_id FROM process_heartbeats WHERE host = 'gone-host'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(left, [recent]);
    // Neither is among the processes seen recently.
    let handler = app.login(world::HANDLER_EMAIL).await;
    let seen = overview(&app, &handler).await;
    assert!(
        seen["processes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["host"] != "gone-host"),
        "{seen}"
    );
    app.cleanup().await;
}
