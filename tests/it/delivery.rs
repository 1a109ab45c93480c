//! Delivery semantics under faults: redelivery, poison messages, transient and permanent
//! database failures, dead-lettering, and draining on shutdown.

use std::time::Duration;

use bluewhale::messaging::commands::SubmitOrder;
use bluewhale::messaging::pending::pending_of;
use bluewhale_tests::faults::{break_master_orders, heal, wait_for};
use bluewhale_tests::{TestApp, three_supplier_order, world};
use serde_json::Value;
use uuid::Uuid;

async fn submit(app: &TestApp, token: &str, key: &str) -> String {
    app.accept_order(token, key, &three_supplier_order()).await
}

#[tokio::test]
async fn the_same_command_delivered_twice_writes_one_set_of_rows() {
    let mut app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let id = submit(&app, &token, "twice").await;
    // Put a second copy in the stream under another message id, as a redelivery after a
    // crash or a de-duplication window miss would.
    let order_id: Uuid = id.parse().unwrap();
    let pending = pending_of::<SubmitOrder>(&app.js, &app.ns, order_id)
        .await
        .unwrap()
        .unwrap();
    app.publish_copy(
        pending.subject,
        serde_json::to_vec(&pending.envelope).unwrap(),
    )
    .await;
    assert_eq!(app.stream_messages("COMMANDS").await, 2);

    app.start_worker().await;
    app.wait_until_processed(&token, &id).await;
    wait_for("both copies acknowledged", async || {
        app.stream_messages("COMMANDS").await == 0
    })
    .await;
    assert_eq!(app.count("master_orders").await, 1);
    assert_eq!(app.count("purchase_orders").await, 3);
    assert_eq!(app.count("purchase_order_lines").await, 6);
    assert_eq!(app.count("sales_orders").await, 1);
    assert_eq!(app.count("commands").await, 1);
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE command_id = $1")
        .bind(order_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        audit, 5,
        "1 master order + 3 POs (lines inside) + 1 sales order, once"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_while_later_orders_still_flow() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let garbage_subject = app
        .ns
        .command_subject("order.submit", Uuid::new_v4(), Uuid::new_v4());
    app.js
        .publish(garbage_subject.clone(), "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let unknown = serde_json::json!({
        "id": Uuid::new_v4(), "type": "order.teleport", "version": 1,
        "issued_at": "2026-11-24T10:00:00Z",
        "actor": {"user_id": Uuid::new_v4(), "role": "ADMIN", "org_type": "BLUEWHALE", "org_id": null},
        "request_id": null, "data": {}
    });
    app.js
        .publish(
            app.ns.subject("bw.cmd.order.teleport.x"),
            unknown.to_string().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    let id = submit(&app, &token, "after-poison").await;
    let order = app.wait_until_processed(&token, &id).await;
    assert_eq!(order["status"], "REGISTERED", "later orders still flow");

    wait_for("two dead letters", async || {
        app.count("dead_letters").await == 2
    })
    .await;
    wait_for("DLQ stream", async || app.stream_messages("DLQ").await == 2).await;
    let reasons: Vec<(String, String, i32)> =
        sqlx::query_as("SELECT reason, subject, delivery_count FROM dead_letters ORDER BY reason")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(reasons[0].0, "undecodable");
    assert_eq!(reasons[0].1, garbage_subject);
    assert_eq!(reasons[0].2, 1);
    assert_eq!(reasons[1].0, "unknown_type");

    let dlq = app.js.get_stream(app.ns.dlq_stream()).await.unwrap();
    let message = dlq
        .direct_get_last_for_subject(app.ns.dead_letter_for(&garbage_subject))
        .await
        .unwrap();
    assert_eq!(message.payload.as_ref(), b"{not json");
    assert_eq!(
        message
            .headers
            .get("Bw-Dead-Letter-Reason")
            .unwrap()
            .as_str(),
        "undecodable"
    );
    assert_eq!(
        message.headers.get("Bw-Delivery-Count").unwrap().as_str(),
        "1"
    );
    wait_for("commands acknowledged", async || {
        app.stream_messages("COMMANDS").await == 0
    })
    .await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_transient_failure_is_retried_and_nothing_partial_is_written() {
    let app = TestApp::options()
        .env("BW_WORKER_MAX_DELIVER", "10")
        .spawn()
        .await;
    let token = app.login(world::STATION_EMAIL).await;
    break_master_orders(&app, "40001", None).await; // serialization_failure
    let id = submit(&app, &token, "transient").await;

    // The first delivery fails inside the transaction: no PO, line, audit or outbox row of
    // this order may survive (all or nothing).
    wait_for("a failed delivery", async || {
        let stream = app.js.get_stream(app.ns.commands_stream()).await.unwrap();
        let info = stream.consumer_info("order-workers").await.unwrap().clone();
        info.num_redelivered > 0 || info.delivered.consumer_sequence > 1
    })
    .await;
    assert_eq!(app.count("purchase_orders").await, 0);
    assert_eq!(app.count("commands").await, 0);
    let audit: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE command_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(audit, 0);
    let pending = app.get_order(&token, &id).await;
    assert_eq!(pending["status"], "PENDING");

    heal(&app).await;
    let order = app.wait_until_processed(&token, &id).await;
    assert_eq!(order["status"], "REGISTERED");
    assert_eq!(app.count("dead_letters").await, 0);
    app.cleanup().await;
}

#[tokio::test]
async fn a_command_failing_on_every_delivery_is_dead_lettered_and_reads_so() {
    let app = TestApp::options()
        .env("BW_WORKER_MAX_DELIVER", "2")
        .spawn()
        .await;
    let token = app.login(world::STATION_EMAIL).await;
    break_master_orders(&app, "40001", None).await;
    let id = submit(&app, &token, "hopeless").await;
    wait_for("dead letter", async || app.count("dead_letters").await == 1).await;
    let (reason, count, command_id): (String, i32, Option<Uuid>) =
        sqlx::query_as("SELECT reason, delivery_count, command_id FROM dead_letters")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((reason.as_str(), count), ("out_of_retries", 2));
    assert_eq!(command_id, Some(id.parse().unwrap()));
    wait_for("DLQ", async || app.stream_messages("DLQ").await == 1).await;
    wait_for("acknowledged", async || {
        app.stream_messages("COMMANDS").await == 0
    })
    .await;
    // Not lost, never 404: the station sees it dead-lettered, awaiting an operator, without
    // the internal reason.
    let order = app.get_order(&token, &id).await;
    assert_eq!(order["status"], "DEAD_LETTERED");
    assert_eq!(order["dead_letter"]["code"], "DEAD_LETTERED");
    assert!(order["dead_letter"].get("reason").is_none(), "{order}");
    assert_eq!(app.count("master_orders").await, 0);
    app.cleanup().await;
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_at_once_without_blocking_the_batch() {
    let mut app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    // A check violation on one specific order only: the other orders of its batch commit.
    break_master_orders(&app, "23514", Some("doomed")).await;
    let mut ids = Vec::new();
    for key in ["ok-1", "doomed", "ok-2"] {
        ids.push(submit(&app, &token, key).await);
    }
    app.start_worker().await;
    for id in [&ids[0], &ids[2]] {
        assert_eq!(
            app.wait_until_processed(&token, id).await["status"],
            "REGISTERED"
        );
    }
    wait_for("dead letter", async || app.count("dead_letters").await == 1).await;
    let (reason, count): (String, i32) =
        sqlx::query_as("SELECT reason, delivery_count FROM dead_letters")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((reason.as_str(), count), ("permanent_failure", 1));
    assert_eq!(app.count("master_orders").await, 2);
    app.cleanup().await;
}

#[tokio::test]
async fn stopping_a_worker_drains_and_no_order_is_lost_or_half_written() {
    let mut app = TestApp::options()
        .env("BW_WORKER_BATCH_SIZE", "4")
        .env("BW_WORKER_CONCURRENCY", "2")
        .env("BW_ACK_WAIT_SECS", "2")
        .without_worker()
        .spawn()
        .await;
    let token = app.login(world::STATION_EMAIL).await;
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(submit(&app, &token, &format!("drain-{i}")).await);
    }
    app.start_worker().await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.stop_worker()
        .await
        .expect("worker drains and stops cleanly");

    // Every order is either fully written or still waiting in the stream.
    let written = app.count("master_orders").await;
    assert_eq!(
        app.count("purchase_orders").await,
        written * 3,
        "no half-written order"
    );
    assert_eq!(
        written + i64::try_from(app.stream_messages("COMMANDS").await).unwrap(),
        40,
        "every accepted order is processed or still queued"
    );

    app.start_worker().await;
    for id in &ids {
        assert_eq!(
            app.wait_until_processed(&token, id).await["status"],
            "REGISTERED"
        );
    }
    assert_eq!(app.count("master_orders").await, 40);
    assert_eq!(app.count("commands").await, 40);
    // Gapless numbering: MO-…-000001 to MO-…-000040, PO-…-000001 to PO-…-000120.
    let (min, max, distinct): (String, String, i64) = sqlx::query_as(
        "SELECT min(reference), max(reference), count(DISTINCT reference) FROM master_orders",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        min.ends_with("-000001") && max.ends_with("-000040") && distinct == 40,
        "{min} {max}"
    );
    let pos: (String, i64) =
        sqlx::query_as("SELECT max(number), count(DISTINCT number) FROM purchase_orders")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(pos.0.ends_with("-000120") && pos.1 == 120, "{pos:?}");
    app.cleanup().await;
}

#[tokio::test]
async fn outbox_rows_that_cannot_be_published_do_not_hold_back_the_others() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    // No stream captures this subject, so JetStream refuses every publication of it.
    let stuck = Uuid::new_v4();
    let id = Uuid::new_v4();
    let event = serde_json::json!([{"subject": "nowhere.at.all", "id": id, "event": {
        "id": id, "type": "test.stuck", "version": 1,
        "occurred_at": "2026-11-24T10:00:00Z", "command_id": null, "data": {}}}]);
    sqlx::query("INSERT INTO outbox (id, events, event_count) VALUES ($1, $2::text::json, 1)")
        .bind(stuck)
        .bind(event.to_string())
        .execute(&app.db)
        .await
        .unwrap();
    // Nor does a row that does not parse as events.
    let malformed = Uuid::new_v4();
    sqlx::query("INSERT INTO outbox (id, events, event_count) VALUES ($1, '[{\"nope\": 1}]', 1)")
        .bind(malformed)
        .execute(&app.db)
        .await
        .unwrap();
    let id = submit(&app, &token, "behind-a-stuck-event").await;
    app.wait_until_processed(&token, &id).await;
    wait_for("the order's events published", async || {
        app.count("outbox").await == 2
    })
    .await;
    wait_for("both stuck rows tried", async || {
        let tried: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE attempts > 0")
            .fetch_one(&app.db)
            .await
            .unwrap();
        tried == 2
    })
    .await;
    let (left, attempts, error): (Uuid, i32, Option<String>) =
        sqlx::query_as("SELECT id, attempts, last_error FROM outbox WHERE id = $1")
            .bind(stuck)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(left, stuck);
    assert!(attempts >= 1);
    assert!(error.unwrap().contains("nowhere.at.all"));
    app.cleanup().await;
}

#[tokio::test]
async fn a_relay_round_larger_than_the_in_flight_ack_limit_drains() {
    let app = TestApp::spawn().await;
    // More events in one round than the NATS client allows unacknowledged (5 000): the relay
    // must await acks as it goes, not after sending everything.
    let subject = app.ns.subject("bw.evt.test.bulk");
    let events: Vec<Value> = (0..6_000)
        .map(|_| {
            let id = Uuid::new_v4();
            serde_json::json!({"subject": subject, "id": id, "event": {
                "id": id, "type": "test.bulk", "version": 1,
                "occurred_at": "2026-11-24T10:00:00Z", "command_id": null, "data": {}}})
        })
        .collect();
    sqlx::query("INSERT INTO outbox (id, events, event_count) VALUES ($1, $2::text::json, 6000)")
        .bind(Uuid::new_v4())
        .bind(Value::Array(events).to_string())
        .execute(&app.db)
        .await
        .unwrap();
    app.wait_until_outbox_empty().await;
    assert_eq!(app.stream_messages("EVENTS").await, 6_000);
    app.cleanup().await;
}

#[tokio::test]
async fn stopping_a_worker_leaves_an_outbox_backlog_for_the_next_relay() {
    let mut app = TestApp::options().without_worker().spawn().await;
    // A backlog far longer than one relay round (8 rows of 500 events).
    let subject = app.ns.subject("bw.evt.test.backlog");
    for _ in 0..40 {
        let events: Vec<Value> = (0..500)
            .map(|_| {
                let id = Uuid::new_v4();
                serde_json::json!({"subject": subject, "id": id, "event": {
                    "id": id, "type": "test.backlog", "version": 1,
                    "occurred_at": "2026-11-24T10:00:00Z", "command_id": null, "data": {}}})
            })
            .collect();
        sqlx::query(
            "INSERT INTO outbox (id, events, event_count) VALUES ($1, $2::text::json, 500)",
        )
        .bind(Uuid::now_v7())
        .bind(Value::Array(events).to_string())
        .execute(&app.db)
        .await
        .unwrap();
    }
    app.start_worker().await;
    wait_for("the relay started", async || app.count("outbox").await < 40).await;
    app.stop_worker().await.expect("worker stops cleanly");
    // The relay finished its round and stopped: the rest waits for the next relay, intact.
    let left = app.count("outbox").await;
    assert!(
        left > 0,
        "the relay drained the whole backlog before stopping"
    );
    let published = app.stream_messages("EVENTS").await;
    assert_eq!(
        published,
        u64::try_from(40 - left).unwrap() * 500,
        "whole rows only"
    );
    app.start_worker().await;
    app.wait_until_outbox_empty().await;
    assert_eq!(app.stream_messages("EVENTS").await, 20_000);
    app.cleanup().await;
}

/// `n` stored events on `subject`, as the outbox holds them.
fn stored_events(subject: &str, kind: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| {
            let id = Uuid::now_v7();
            serde_json::json!({"subject": subject, "id": id, "event": {
                "id": id, "type": kind, "version": 1,
                "occurred_at": "2026-11-24T10:00:00Z", "command_id": null, "data": {}}})
        })
        .collect()
}

#[tokio::test]
async fn a_row_partly_published_by_an_earlier_attempt_is_completed_without_duplicates() {
    let app = TestApp::options().without_worker().spawn().await;
    let subject = app.ns.subject("bw.evt.test.partial");
    let events = stored_events(&subject, "test.partial", 3);
    // An earlier relay stored the second event, then died before the row was deleted. The
    // row's atomic batch is refused as a whole (an id already stored): the relay must fall
    // back to event-by-event publication rather than retry the batch forever.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", events[1]["id"].as_str().unwrap());
    app.js
        .publish_with_headers(
            subject.clone(),
            headers,
            events[1]["event"].to_string().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    sqlx::query("INSERT INTO outbox (id, events, event_count) VALUES ($1, $2::text::json, 3)")
        .bind(Uuid::now_v7())
        .bind(Value::Array(events.clone()).to_string())
        .execute(&app.db)
        .await
        .unwrap();
    let mut app = app;
    app.start_worker().await;
    app.wait_until_outbox_empty().await;
    assert_eq!(app.stream_messages("EVENTS").await, 3, "each event once");
    app.cleanup().await;
}

#[tokio::test]
async fn a_stream_made_without_atomic_publish_is_given_it_and_relayed_in_batches() {
    let app = TestApp::options().without_worker().spawn().await;
    // As a stream created before atomic batches were used: allow_atomic off.
    let name = app.ns.stream("EVENTS");
    let mut config = app
        .js
        .get_stream(&name)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .config
        .clone();
    app.js.delete_stream(&name).await.unwrap();
    config.allow_atomic_publish = false;
    app.js.create_stream(config).await.unwrap();
    let drifts = bluewhale::messaging::streams::ensure_streams(&app.js, &app.ns)
        .await
        .unwrap();
    assert!(drifts.is_empty(), "{drifts:?}");
    let info = app
        .js
        .get_stream(&name)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .config
        .clone();
    assert!(info.allow_atomic_publish);

    let subject = app.ns.subject("bw.evt.test.batch");
    sqlx::query("INSERT INTO outbox (id, events, event_count) VALUES ($1, $2::text::json, 50)")
        .bind(Uuid::now_v7())
        .bind(Value::Array(stored_events(&subject, "test.batch", 50)).to_string())
        .execute(&app.db)
        .await
        .unwrap();
    let mut app = app;
    app.start_worker().await;
    app.wait_until_outbox_empty().await;
    assert_eq!(app.stream_messages("EVENTS").await, 50);
    let stream = app.js.get_stream(&name).await.unwrap();
    let (first, last) = (
        stream.get_raw_message(1).await.unwrap(),
        stream.get_raw_message(50).await.unwrap(),
    );
    let batch = |m: &async_nats::jetstream::message::StreamMessage| {
        m.headers.get("Nats-Batch-Id").map(|v| v.to_string())
    };
    assert!(batch(&first).is_some(), "published as an atomic batch");
    assert_eq!(batch(&first), batch(&last), "one batch for the row");
    app.cleanup().await;
}
