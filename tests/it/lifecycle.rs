//! The purchase-order lifecycle on the general command path: every step by the right actor,
//! with history, audit rows and events; every refusal changing nothing; races and redelivery.

use std::collections::HashMap;
use std::time::Duration;

use bluewhale::messaging::command::command_id_for;
use bluewhale::messaging::events::DomainEvent;
use bluewhale::messaging::pending::pending_any;
use bluewhale_tests::{TestApp, world};
use chrono::NaiveDate;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http_errors;

fn po_id(order: &Value, supplier_code: &str) -> String {
    let supplier = world::supplier_id(supplier_code).to_string();
    order["purchase_orders"]
        .as_array()
        .expect("purchase_orders")
        .iter()
        .find(|po| po["supplier_id"] == supplier.as_str())
        .unwrap_or_else(|| panic!("no purchase order for {supplier_code}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn delivery_date(order: &Value, days: i64) -> String {
    let date: NaiveDate = order["order_date"].as_str().unwrap().parse().unwrap();
    (date + chrono::Duration::days(days)).to_string()
}

/// The command id of `email`'s request with `key`.
fn command_of(email: &str, key: &str) -> Uuid {
    command_id_for(world::user_id(email), key)
}

/// POSTs a transition of purchase order `po`.
async fn write_po(
    app: &TestApp,
    token: &str,
    po: &str,
    verb: &str,
    key: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    app.write(
        &format!("/api/v1/purchase-orders/{po}/{verb}"),
        token,
        key,
        body,
        headers,
    )
    .await
}

/// A transition with `Prefer: wait` that must apply: returns the purchase order, checking its
/// `ETag`.
async fn step(app: &TestApp, email: &str, po: &str, verb: &str, key: &str, body: Value) -> Value {
    let token = app.login(email).await;
    let response = app
        .write(
            &format!("/api/v1/purchase-orders/{po}/{verb}"),
            &token,
            key,
            &body,
            &[("Prefer", "wait=10")],
        )
        .await;
    let status = response.status();
    let etag = response.headers().get("etag").cloned();
    let applied = response.headers().get("preference-applied").cloned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{verb} by {email}: {body}");
    assert_eq!(
        etag.unwrap().to_str().unwrap(),
        format!("\"{}\"", body["version"])
    );
    assert_eq!(applied.unwrap().to_str().unwrap(), "wait=10");
    body
}

async fn master_status(app: &TestApp, order_id: &str) -> String {
    let token = app.login(world::HANDLER_EMAIL).await;
    app.get_order(&token, order_id).await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `(entity_type, action)` of the audit rows of a command, sorted.
async fn audit_of(app: &TestApp, command_id: Uuid) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT entity_type, action FROM audit_log WHERE command_id = $1 ORDER BY entity_type",
    )
    .bind(command_id)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_purchase_order_goes_through_its_whole_lifecycle_by_the_right_actors() {
    let app = TestApp::spawn().await;
    let mut events = app
        .nats
        .subscribe(app.ns.subject("bw.evt.>"))
        .await
        .unwrap();
    let order = app.priced_order("lifecycle").await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let po = po_id(&order, world::SUPPLIER_CODE);
    let date = delivery_date(&order, 7);
    use world::{HANDLER_EMAIL, MANAGER_EMAIL, STATION_EMAIL, SUPPLIER_EMAIL};

    // (actor, verb, key, body, status reached, master status after)
    let steps = [
        (
            SUPPLIER_EMAIL,
            "confirm",
            "lc-confirm",
            json!({"confirmed_delivery_date": date}),
            "CONFIRMED",
            "PARTIALLY_CONFIRMED",
        ),
        (
            SUPPLIER_EMAIL,
            "ship",
            "lc-ship",
            json!({"carrier": " Geodis ", "tracking_number": "GE-123"}),
            "SHIPPED",
            "PARTIALLY_SHIPPED",
        ),
        (
            STATION_EMAIL,
            "receive",
            "lc-receive",
            json!({"lines": [{"line_number": 1, "received_quantity": 48, "note": "2 trays crushed"}]}),
            "RECEIVED",
            "PARTIALLY_RECEIVED",
        ),
        (
            STATION_EMAIL,
            "close",
            "lc-close",
            json!({}),
            "CLOSED",
            "PARTIALLY_CLOSED",
        ),
        (
            HANDLER_EMAIL,
            "invoice",
            "lc-invoice",
            json!({"invoice_number": "FA-2026-0042"}),
            "INVOICED",
            "PARTIALLY_INVOICED",
        ),
        (
            HANDLER_EMAIL,
            "archive",
            "lc-archive",
            json!({"reason": "season closed"}),
            "ARCHIVED",
            "PARTIALLY_ARCHIVED",
        ),
    ];
    for (version, (email, verb, key, body, reached, master)) in (2..).zip(steps) {
        let after = step(&app, email, &po, verb, key, body).await;
        assert_eq!(after["status"], reached, "{verb}");
        assert_eq!(after["version"], version, "{verb}");
        assert_eq!(master_status(&app, &order_id).await, master, "after {verb}");
        // The change and the master order's derived status, each audited with the command.
        assert_eq!(
            audit_of(&app, command_of(email, key)).await,
            [
                ("master_order".to_owned(), "TRANSITION".to_owned()),
                ("purchase_order".to_owned(), "TRANSITION".to_owned())
            ],
            "{verb}"
        );
    }

    let token = app.login(STATION_EMAIL).await;
    let final_po = app
        .get_json(&format!("/api/v1/purchase-orders/{po}"), &token)
        .await;
    assert_eq!(final_po["confirmed_delivery_date"], date.as_str());
    assert_eq!(final_po["carrier"], "Geodis", "trimmed");
    assert_eq!(final_po["tracking_number"], "GE-123");
    assert_eq!(final_po["invoice_number"], "FA-2026-0042");
    assert_eq!(final_po["archive_reason"], "season closed");
    assert_eq!(final_po["status_label"], "Archivée");
    assert_eq!(final_po["has_discrepancy"], true);
    for field in [
        "confirmed_at",
        "shipped_at",
        "received_at",
        "closed_at",
        "invoiced_at",
        "archived_at",
    ] {
        assert!(final_po[field].is_string(), "{field} set");
    }
    assert!(final_po["cancelled_at"].is_null());
    let lines = final_po["lines"].as_array().unwrap();
    assert_eq!(
        (
            &lines[0]["received_quantity"],
            &lines[0]["discrepancy"],
            &lines[0]["reception_note"]
        ),
        (&json!(48), &json!(-2), &json!("2 trays crushed"))
    );
    assert_eq!(
        (&lines[1]["received_quantity"], &lines[1]["discrepancy"]),
        (&json!(3), &json!(0)),
        "an unlisted line is received in full"
    );

    // The history names every step and its actor, oldest first, from the creation on.
    let history: Vec<Value> = app
        .get(&format!("/api/v1/purchase-orders/{po}/history"), &token)
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<(Value, Value, Value)> = history
        .iter()
        .map(|h| {
            (
                h["from_status"].clone(),
                h["to_status"].clone(),
                h["actor"]["role"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (json!(null), json!("REGISTERED"), json!("STATION")),
            (json!("REGISTERED"), json!("CONFIRMED"), json!("SUPPLIER")),
            (json!("CONFIRMED"), json!("SHIPPED"), json!("SUPPLIER")),
            (json!("SHIPPED"), json!("RECEIVED"), json!("STATION")),
            (json!("RECEIVED"), json!("CLOSED"), json!("STATION")),
            (json!("CLOSED"), json!("INVOICED"), json!("HANDLER")),
            (json!("INVOICED"), json!("ARCHIVED"), json!("HANDLER")),
        ]
    );
    assert_eq!(
        history[1]["actor"]["user_id"],
        world::user_id(SUPPLIER_EMAIL).to_string()
    );
    assert_eq!(
        history[1]["actor"]["organization"],
        json!({"type": "SUPPLIER", "id": world::supplier_id(world::SUPPLIER_CODE)})
    );
    assert_eq!(
        history[1]["details"]["confirmed_delivery_date"],
        date.as_str()
    );
    assert_eq!(history[3]["details"]["lines"][0]["discrepancy"], -2);
    assert_eq!(history[6]["reason"], "season closed");

    // The other two purchase orders archived by a manager: the master order's final status.
    for supplier in ["PLASTIVAL", "ETIQLYON"] {
        let other = po_id(&order, supplier);
        step(
            &app,
            MANAGER_EMAIL,
            &other,
            "archive",
            &format!("arch-{supplier}"),
            json!({"reason": "not needed"}),
        )
        .await;
    }
    assert_eq!(master_status(&app, &order_id).await, "ARCHIVED");

    // Every step published its typed events, each decodable from one place.
    app.wait_until_outbox_empty().await;
    let mut reached: HashMap<String, i64> = HashMap::new();
    let mut master_changes = Vec::new();
    let supplier_id = world::supplier_id(world::SUPPLIER_CODE);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while reached.len() < 6 || master_changes.len() < 7 {
        let message = tokio::time::timeout_at(deadline, futures::StreamExt::next(&mut events))
            .await
            .expect("events in time")
            .unwrap();
        let (event, decoded) = DomainEvent::decode_message(&message.payload).expect("decodable");
        match decoded {
            DomainEvent::PurchaseOrderChanged(changed)
                if changed.purchase_order.id.to_string() == po =>
            {
                assert_eq!(
                    message.subject.as_str(),
                    app.ns.event(&event.kind, supplier_id),
                    "routed to the supplier"
                );
                assert_eq!(
                    event.kind,
                    format!(
                        "purchase_order.{}",
                        changed.purchase_order.status.to_lowercase()
                    )
                );
                reached.insert(
                    changed.purchase_order.status.clone(),
                    i64::from(changed.purchase_order.version),
                );
            }
            DomainEvent::OrderStatusChanged(changed) => {
                assert_eq!(
                    message.subject.as_str(),
                    app.ns.event(
                        "order.status_changed",
                        world::station_id(world::STATION_CODE)
                    )
                );
                master_changes.push(changed.to_status);
            }
            _ => {}
        }
    }
    assert_eq!(
        reached,
        HashMap::from([
            ("CONFIRMED".to_owned(), 2),
            ("SHIPPED".to_owned(), 3),
            ("RECEIVED".to_owned(), 4),
            ("CLOSED".to_owned(), 5),
            ("INVOICED".to_owned(), 6),
            ("ARCHIVED".to_owned(), 7),
        ])
    );
    assert_eq!(
        master_changes,
        [
            "PARTIALLY_CONFIRMED",
            "PARTIALLY_SHIPPED",
            "PARTIALLY_RECEIVED",
            "PARTIALLY_CLOSED",
            "PARTIALLY_INVOICED",
            "PARTIALLY_ARCHIVED",
            "ARCHIVED"
        ]
    );
    app.cleanup().await;
}

/// (who, path, headers, body, status, code, failing field) of a request that must be refused.
type RefusalCase<'a> = (
    &'a str,
    String,
    Vec<(&'a str, &'a str)>,
    Value,
    u16,
    &'a str,
    Option<&'a str>,
);

/// Rows and stream contents a refused request must leave as they were.
/// What a refusal must not change (the audit of a 403 aside: see `http_errors`).
async fn footprint(app: &TestApp) -> [i64; 6] {
    [
        app.count("commands").await,
        http_errors::audit_rows_but_refusals(app).await,
        app.count("purchase_order_status_history").await,
        http_errors::outbox_rows_but_refusals(app).await,
        i64::try_from(app.stream_messages("COMMANDS").await).unwrap(),
        http_errors::events_but_refusals(app).await,
    ]
}

#[tokio::test]
async fn every_refusal_answers_as_specified_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let order = app.priced_order("refusals").await;
    let po = po_id(&order, world::SUPPLIER_CODE);
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let other_supplier = app.login(world::SUPPLIER2_EMAIL).await;
    let station = app.login(world::STATION_EMAIL).await;
    let other_station = app.login(world::STATION2_EMAIL).await;
    // The logins' audit events are published before the snapshot.
    app.wait_until_outbox_empty().await;
    let before = footprint(&app).await;
    let date = delivery_date(&order, 3);
    let confirm = json!({"confirmed_delivery_date": date});
    let path = |verb: &str| format!("/api/v1/purchase-orders/{po}/{verb}");
    let unknown = format!("/api/v1/purchase-orders/{}/confirm", Uuid::new_v4());

    let cases: Vec<RefusalCase<'_>> = vec![
        (
            &other_supplier,
            path("confirm"),
            vec![],
            confirm.clone(),
            404,
            "NOT_FOUND",
            None,
        ),
        (
            &other_station,
            path("cancel"),
            vec![],
            json!({"reason": "x"}),
            404,
            "NOT_FOUND",
            None,
        ),
        (
            &supplier,
            unknown,
            vec![],
            confirm.clone(),
            404,
            "NOT_FOUND",
            None,
        ),
        (
            &station,
            path("confirm"),
            vec![],
            confirm.clone(),
            403,
            "FORBIDDEN",
            None,
        ),
        (
            &supplier,
            path("invoice"),
            vec![],
            json!({}),
            403,
            "FORBIDDEN",
            None,
        ),
        (
            &supplier,
            path("ship"),
            vec![],
            json!({}),
            409,
            "INVALID_TRANSITION",
            None,
        ),
        (
            &station,
            path("close"),
            vec![("Prefer", "wait=2")],
            json!({}),
            409,
            "INVALID_TRANSITION",
            None,
        ),
        (
            &supplier,
            path("confirm"),
            vec![("If-Match", "\"7\"")],
            confirm.clone(),
            412,
            "PRECONDITION_FAILED",
            None,
        ),
        (
            &supplier,
            path("confirm"),
            vec![("If-Match", "yesterday")],
            confirm.clone(),
            412,
            "PRECONDITION_FAILED",
            None,
        ),
        (
            &supplier,
            path("confirm"),
            vec![],
            json!({"confirmed_delivery_date": delivery_date(&order, -1)}),
            422,
            "VALIDATION_FAILED",
            Some("confirmed_delivery_date"),
        ),
        (
            &supplier,
            path("confirm"),
            vec![],
            json!({"confirmed_delivery_date": date, "eta": 1}),
            422,
            "VALIDATION_FAILED",
            Some("eta"),
        ),
        // serde would read the struct from an array of its fields.
        (
            &supplier,
            path("confirm"),
            vec![],
            json!([date]),
            422,
            "VALIDATION_FAILED",
            Some("body"),
        ),
        // A request refused without its precondition is refused for that, not 412
        // (RFC 9110 §13.2.1).
        (
            &supplier,
            path("confirm"),
            vec![("If-Match", "yesterday")],
            json!({"confirmed_delivery_date": date, "eta": 1}),
            422,
            "VALIDATION_FAILED",
            Some("eta"),
        ),
        (
            &supplier,
            path("cancel"),
            vec![],
            json!({"reason": "   "}),
            422,
            "VALIDATION_FAILED",
            Some("reason"),
        ),
        (
            &supplier,
            path("ship"),
            vec![],
            json!({"carrier": "x".repeat(101)}),
            422,
            "VALIDATION_FAILED",
            Some("carrier"),
        ),
        (
            &station,
            path("cancel"),
            vec![],
            json!({"reason": "x".repeat(501)}),
            422,
            "VALIDATION_FAILED",
            Some("reason"),
        ),
    ];
    for (i, (token, path, headers, body, status, code, field)) in cases.into_iter().enumerate() {
        let response = app
            .write(&path, token, &format!("refused-{i}"), &body, &headers)
            .await;
        assert_eq!(response.status().as_u16(), status, "case {i}: {path}");
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], code, "case {i}: {problem}");
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "case {i}: {problem}");
        }
        if code == "INVALID_TRANSITION" {
            let detail = problem["detail"].as_str().unwrap();
            assert!(
                detail.contains("REGISTERED"),
                "names the current status: {detail}"
            );
        }
        assert_eq!(footprint(&app).await, before, "case {i} changed something");
    }
    // Without the key: refused before anything is read or published.
    let response = app
        .http
        .post(format!("{}{}", app.base_url, path("confirm")))
        .bearer_auth(&supplier)
        .json(&confirm)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(footprint(&app).await, before);
    let po_now = app
        .get_json(&format!("/api/v1/purchase-orders/{po}"), &supplier)
        .await;
    assert_eq!(
        (&po_now["status"], &po_now["version"]),
        (&json!("REGISTERED"), &json!(1))
    );
    app.cleanup().await;
}

#[tokio::test]
async fn two_concurrent_confirms_give_one_applied_and_one_rejected() {
    // Two batches of one command each, processed at the same time by one worker.
    let mut app = TestApp::options()
        .env("BW_WORKER_BATCH_SIZE", "1")
        .env("BW_WORKER_CONCURRENCY", "2")
        .spawn()
        .await;
    let order = app.priced_order("race").await;
    let po = po_id(&order, world::SUPPLIER_CODE);
    app.stop_worker().await.unwrap();
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let handler = app.login(world::HANDLER_EMAIL).await;
    let path = format!("/api/v1/purchase-orders/{po}/confirm");
    let (a, b) = (
        json!({"confirmed_delivery_date": delivery_date(&order, 5)}),
        json!({"confirmed_delivery_date": delivery_date(&order, 9)}),
    );
    // Both pass the ingress's check (the purchase order is still REGISTERED) and wait.
    let (ra, rb) = tokio::join!(
        app.write(&path, &supplier, "race-a", &a, &[]),
        app.write(&path, &handler, "race-b", &b, &[])
    );
    assert_eq!((ra.status().as_u16(), rb.status().as_u16()), (202, 202));
    let ra: Value = ra.json().await.unwrap();
    let rb: Value = rb.json().await.unwrap();
    assert_eq!(ra["status"], "PENDING");
    assert_eq!(ra["resource"], json!({"type": "purchase_order", "id": po}));
    let pending = app
        .get(
            &format!("/api/v1/commands/{}", ra["command_id"].as_str().unwrap()),
            &supplier,
        )
        .await;
    let pending: Value = pending.json().await.unwrap();
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["type"], "purchase_order.transition");
    assert_eq!(pending["resource"]["id"], po.as_str());
    // A pending command of another type is no order.
    let as_order = app
        .get(
            &format!("/api/v1/orders/{}", ra["command_id"].as_str().unwrap()),
            &handler,
        )
        .await;
    assert_eq!(as_order.status(), 404);

    app.start_worker().await;
    let ca = app
        .wait_for_command(&supplier, ra["command_id"].as_str().unwrap())
        .await;
    let cb = app
        .wait_for_command(&handler, rb["command_id"].as_str().unwrap())
        .await;
    let mut outcomes = [
        ca["status"].as_str().unwrap(),
        cb["status"].as_str().unwrap(),
    ];
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["APPLIED", "REJECTED"]);
    let (winner, loser, loser_token, loser_key, loser_body) = if ca["status"] == "APPLIED" {
        (&ca, &cb, &handler, "race-b", &b)
    } else {
        (&cb, &ca, &supplier, "race-a", &a)
    };
    assert_eq!(loser["problem"]["code"], "INVALID_TRANSITION");
    assert!(
        loser["problem"]["detail"]
            .as_str()
            .unwrap()
            .contains("CONFIRMED")
    );
    assert!(winner["problem"].is_null());
    assert!(winner["processed_at"].is_string());

    let po_now = app
        .get_json(&format!("/api/v1/purchase-orders/{po}"), &handler)
        .await;
    assert_eq!(po_now["version"], 2, "exactly one change");
    let confirmed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM purchase_order_status_history \
         WHERE purchase_order_id = $1 AND to_status = 'CONFIRMED'",
    )
    .bind(po.parse::<Uuid>().unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(confirmed, 1);
    let loser_id: Uuid = loser["id"].as_str().unwrap().parse().unwrap();
    assert!(
        audit_of(&app, loser_id).await.is_empty(),
        "a refusal audits nothing"
    );

    // Prefer: wait on the loser's replay answers with the worker's refusal.
    let replay = app
        .write(
            &path,
            loser_token,
            loser_key,
            loser_body,
            &[("Prefer", "wait=5")],
        )
        .await;
    assert_eq!(replay.status(), 409);
    let problem: Value = replay.json().await.unwrap();
    assert_eq!(problem["code"], "INVALID_TRANSITION");
    app.cleanup().await;
}

#[tokio::test]
async fn a_redelivered_transition_changes_nothing() {
    let mut app = TestApp::spawn().await;
    let order = app.priced_order("redelivery").await;
    let po = po_id(&order, world::SUPPLIER_CODE);
    app.stop_worker().await.unwrap();
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let response = write_po(
        &app,
        &supplier,
        &po,
        "confirm",
        "once",
        &json!({"confirmed_delivery_date": delivery_date(&order, 2)}),
        &[],
    )
    .await;
    assert_eq!(response.status(), 202);
    let command_id = command_of(world::SUPPLIER_EMAIL, "once");
    // A second copy under another message id, as after a crash or a missed duplicate window.
    let pending = pending_any(&app.js, &app.ns, command_id)
        .await
        .unwrap()
        .expect("pending in the stream");
    app.publish_copy(
        pending.subject,
        serde_json::to_vec(&pending.envelope).unwrap(),
    )
    .await;
    assert_eq!(app.stream_messages("COMMANDS").await, 2);

    app.start_worker().await;
    let command = app
        .wait_for_command(&supplier, &command_id.to_string())
        .await;
    assert_eq!(command["status"], "APPLIED");
    for _ in 0..200 {
        if app.stream_messages("COMMANDS").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.stream_messages("COMMANDS").await,
        0,
        "both copies acknowledged"
    );
    let po_now = app
        .get_json(&format!("/api/v1/purchase-orders/{po}"), &supplier)
        .await;
    assert_eq!(po_now["version"], 2);
    let history: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM purchase_order_status_history WHERE command_id = $1",
    )
    .bind(command_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(history, 1);
    assert_eq!(
        audit_of(&app, command_id).await.len(),
        2,
        "PO and master order, once"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM commands WHERE id = $1")
        .bind(command_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    app.cleanup().await;
}

#[tokio::test]
async fn the_master_status_follows_mixed_purchase_orders_and_ignores_cancelled_ones() {
    let app = TestApp::spawn().await;
    let order = app.priced_order("mixed").await;
    let order_id = order["id"].as_str().unwrap();
    let (embalsud, plastival, etiqlyon) = (
        po_id(&order, "EMBALSUD"),
        po_id(&order, "PLASTIVAL"),
        po_id(&order, "ETIQLYON"),
    );
    use world::{HANDLER_EMAIL, STATION_EMAIL, SUPPLIER_EMAIL};
    let cancel = |reason: &str| json!({"reason": reason});

    let after = step(
        &app,
        STATION_EMAIL,
        &plastival,
        "cancel",
        "m1",
        cancel("ordered twice"),
    )
    .await;
    assert_eq!(after["cancellation_reason"], "ordered twice");
    assert!(after["cancelled_at"].is_string());
    assert_eq!(
        master_status(&app, order_id).await,
        "REGISTERED",
        "a cancelled PO is ignored"
    );
    assert_eq!(
        audit_of(&app, command_of(STATION_EMAIL, "m1")).await,
        [("purchase_order".to_owned(), "TRANSITION".to_owned())],
        "no master change, no master audit row"
    );
    step(
        &app,
        SUPPLIER_EMAIL,
        &embalsud,
        "confirm",
        "m2",
        json!({"confirmed_delivery_date": delivery_date(&order, 4)}),
    )
    .await;
    assert_eq!(master_status(&app, order_id).await, "PARTIALLY_CONFIRMED");
    // Its supplier may cancel a purchase order only before confirming it.
    let supplier = app.login(SUPPLIER_EMAIL).await;
    let refused = write_po(
        &app,
        &supplier,
        &embalsud,
        "cancel",
        "m3",
        &cancel("no stock"),
        &[],
    )
    .await;
    assert_eq!(refused.status(), 409);
    step(
        &app,
        HANDLER_EMAIL,
        &etiqlyon,
        "cancel",
        "m4",
        cancel("supplier out of labels"),
    )
    .await;
    assert_eq!(
        master_status(&app, order_id).await,
        "CONFIRMED",
        "every live PO confirmed"
    );
    step(
        &app,
        STATION_EMAIL,
        &embalsud,
        "cancel",
        "m5",
        cancel("season over"),
    )
    .await;
    assert_eq!(master_status(&app, order_id).await, "CANCELLED");
    let station = app.login(STATION_EMAIL).await;
    let cancelled = app
        .get_json("/api/v1/orders?status=CANCELLED", &station)
        .await;
    assert_eq!(cancelled["total"], 1);
    let list: Value = app
        .get(
            &format!("/api/v1/purchase-orders?master_order_id={order_id}&status=CANCELLED"),
            &station,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 3);
    app.cleanup().await;
}

#[tokio::test]
async fn unknown_command_types_are_dead_lettered_while_orders_and_transitions_flow() {
    let mut app = TestApp::spawn().await;
    let first = app.priced_order("flows-first").await;
    let po = po_id(&first, world::SUPPLIER_CODE);
    let station = app.login(world::STATION_EMAIL).await;
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    app.stop_worker().await.unwrap();

    // Three types in the stream at once, so the worker pulls them in one batch.
    let admin = world::user_id(world::ADMIN_EMAIL);
    let unknown_id = Uuid::new_v4();
    let unknown = json!({
        "id": unknown_id, "type": "order.teleport", "version": 1,
        "issued_at": "2026-12-02T10:00:00Z",
        "actor": {"user_id": admin, "role": "ADMIN", "org_type": "BLUEWHALE", "org_id": null},
        "request_id": null, "data": {}
    });
    app.js
        .publish(
            app.ns
                .command_subject("order.teleport", Uuid::new_v4(), unknown_id),
            unknown.to_string().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    // A known type in a version this build does not handle is unknown too.
    let old_id = Uuid::new_v4();
    let mut old = unknown.clone();
    old["id"] = json!(old_id);
    old["type"] = json!("order.submit");
    app.js
        .publish(
            app.ns.command_subject("order.submit", old_id, old_id),
            old.to_string().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let order_id = app
        .accept_order(
            &station,
            "flows-second",
            &bluewhale_tests::three_supplier_order(),
        )
        .await;
    let confirm = write_po(
        &app,
        &supplier,
        &po,
        "confirm",
        "flows-confirm",
        &json!({"confirmed_delivery_date": delivery_date(&first, 1)}),
        &[],
    )
    .await;
    assert_eq!(confirm.status(), 202);
    assert_eq!(app.stream_messages("COMMANDS").await, 4);
    app.start_worker().await;

    assert_eq!(
        app.wait_until_processed(&station, &order_id).await["status"],
        "REGISTERED"
    );
    let confirm_id = command_of(world::SUPPLIER_EMAIL, "flows-confirm").to_string();
    assert_eq!(
        app.wait_for_command(&supplier, &confirm_id).await["status"],
        "APPLIED"
    );
    let token = app.login(world::ADMIN_EMAIL).await;
    let command = app.wait_for_command(&token, &unknown_id.to_string()).await;
    assert_eq!(command["status"], "DEAD_LETTERED");
    assert_eq!(command["problem"]["reason"], "unknown_type");
    assert_eq!(command["type"], "order.teleport");
    let old = app.wait_for_command(&token, &old_id.to_string()).await;
    assert_eq!(
        (&old["status"], &old["problem"]["reason"]),
        (&json!("DEAD_LETTERED"), &json!("unknown_type"))
    );
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT reason FROM dead_letters WHERE command_id = ANY($1) ORDER BY reason",
    )
    .bind(vec![unknown_id, old_id])
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(reasons, ["unknown_type", "unknown_type"]);
    assert_eq!(app.stream_messages("DLQ").await, 2);
    // Another user does not learn that the command exists.
    assert_eq!(
        app.get(&format!("/api/v1/commands/{unknown_id}"), &station)
            .await
            .status(),
        404
    );
    app.cleanup().await;
}

#[tokio::test]
async fn commands_answer_replays_and_refuse_reused_keys() {
    let app = TestApp::spawn().await;
    let order = app.priced_order("replays").await;
    let po = po_id(&order, world::SUPPLIER_CODE);
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let path = format!("/api/v1/purchase-orders/{po}/confirm");
    let body = json!({"confirmed_delivery_date": delivery_date(&order, 2)});
    let first = app.write(&path, &supplier, "again", &body, &[]).await;
    assert_eq!(first.status(), 202);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let first: Value = first.json().await.unwrap();
    let id = first["command_id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/commands/{id}"));
    let applied = app.wait_for_command(&supplier, &id).await;
    assert_eq!(applied["status"], "APPLIED");
    assert_eq!(
        applied["resource"],
        json!({"type": "purchase_order", "id": po})
    );
    assert!(applied["submitted_at"].as_str().unwrap() <= applied["processed_at"].as_str().unwrap());

    // Same key and body: the same command, where it stands now, and nothing applied twice.
    let again = app.write(&path, &supplier, "again", &body, &[]).await;
    assert_eq!(again.status(), 202);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (&again["command_id"], &again["status"]),
        (&json!(id), &json!("APPLIED"))
    );
    let waited = app
        .write(&path, &supplier, "again", &body, &[("Prefer", "wait=1")])
        .await;
    assert_eq!(waited.status(), 200);
    let waited: Value = waited.json().await.unwrap();
    assert_eq!(waited["version"], 2);
    // Same key, another body (or another endpoint): refused.
    let other = json!({"confirmed_delivery_date": delivery_date(&order, 3)});
    let reused = app.write(&path, &supplier, "again", &other, &[]).await;
    assert_eq!(reused.status(), 409);
    let reused: Value = reused.json().await.unwrap();
    assert_eq!(reused["code"], "IDEMPOTENCY_KEY_REUSED");
    let elsewhere = write_po(&app, &supplier, &po, "ship", "again", &json!({}), &[]).await;
    assert_eq!(elsewhere.status(), 409);
    // The command is visible to its issuer and to staff only.
    let station = app.login(world::STATION_EMAIL).await;
    assert_eq!(
        app.get(&format!("/api/v1/commands/{id}"), &station)
            .await
            .status(),
        404
    );
    let handler = app.login(world::HANDLER_EMAIL).await;
    assert_eq!(
        app.get(&format!("/api/v1/commands/{id}"), &handler)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/commands/{}", Uuid::new_v4()), &handler)
            .await
            .status(),
        404
    );
    app.cleanup().await;
}
