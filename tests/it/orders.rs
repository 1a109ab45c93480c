//! End-to-end order flow: HTTP → JetStream → worker → PostgreSQL → events.

use bluewhale_tests::{TestApp, three_supplier_order, world};
use serde_json::{Value, json};

fn po_of<'a>(order: &'a Value, supplier_code: &str) -> &'a Value {
    let supplier = world::supplier_id(supplier_code).to_string();
    order["purchase_orders"]
        .as_array()
        .expect("purchase_orders")
        .iter()
        .find(|po| po["supplier_id"] == supplier.as_str())
        .unwrap_or_else(|| panic!("no purchase order for {supplier_code}"))
}

fn line_of<'a>(po: &'a Value, product_code: &str) -> &'a Value {
    let product = world::product_id(product_code).to_string();
    po["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["product_id"] == product.as_str())
        .unwrap_or_else(|| panic!("no line for {product_code}"))
}

/// (unit price, line total, tax rate) of a line.
fn amounts(line: &Value) -> (&str, &str, &str) {
    (
        line["unit_price"].as_str().unwrap(),
        line["line_total"].as_str().unwrap(),
        line["tax_rate"].as_str().unwrap(),
    )
}

/// (excl. VAT, VAT, incl. VAT) of an order or purchase order.
fn totals(v: &Value) -> (&str, &str, &str) {
    (
        v["total_excluding_tax"].as_str().unwrap(),
        v["tax_amount"].as_str().unwrap(),
        v["total_including_tax"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn a_three_supplier_order_is_split_and_priced_to_the_cent() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let response = app
        .submit_order(&token, "three-suppliers", &three_supplier_order())
        .await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "PENDING");
    let id = accepted["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/orders/{id}"));

    let order = app.wait_until_processed(&token, &id).await;
    assert_eq!(order["status"], "REGISTERED");
    assert!(order["reference"].as_str().unwrap().starts_with("MO-20"));
    assert_eq!(
        order["purchase_orders"].as_array().unwrap().len(),
        3,
        "one PO per supplier"
    );

    // (supplier, [(product, unit price, line total, tax rate)], PO totals), computed by hand:
    // EMBALSUD 18.50 − 3 % = 17.945 → 17.95 (half away from zero; banker's would give 17.94),
    //   VAT per rate: 897.50 × 20 % = 179.50 and 288.00 × 5.5 % = 15.84;
    // PLASTIVAL 14.20 − 7.5 % = 13.135 → 13.14, and 10 × 49.90 at its minimum quantity;
    // ETIQLYON 9.80 − 10 % = 8.82 from 200 units on.
    let expected = [
        (
            "EMBALSUD",
            [
                ("BW-TRAY-0400", "17.95", "897.50", "20.00"),
                ("BW-COAT-0020", "96.00", "288.00", "5.50"),
            ],
            ("1185.50", "195.34", "1380.84"),
        ),
        (
            "PLASTIVAL",
            [
                ("BW-FILM-0300", "13.14", "788.40", "20.00"),
                ("BW-PUNN-0250", "49.90", "499.00", "20.00"),
            ],
            ("1287.40", "257.48", "1544.88"),
        ),
        (
            "ETIQLYON",
            [
                ("BW-LABL-0100", "8.82", "1764.00", "20.00"),
                ("BW-LABL-0110", "7.40", "7.40", "20.00"),
            ],
            ("1771.40", "354.28", "2125.68"),
        ),
    ];
    for (supplier, lines, po_totals) in expected {
        let po = po_of(&order, supplier);
        for (product, unit_price, line_total, tax_rate) in lines {
            assert_eq!(
                amounts(line_of(po, product)),
                (unit_price, line_total, tax_rate),
                "{supplier} {product}"
            );
        }
        assert_eq!(totals(po), po_totals, "{supplier}");
    }

    assert_eq!(totals(&order), ("4244.30", "807.10", "5051.40"));
    for po in order["purchase_orders"].as_array().unwrap() {
        assert_eq!(po["status"], "REGISTERED");
        assert_eq!(po["status_label"], "Enregistrée");
        assert!(po["number"].as_str().unwrap().starts_with("PO-20"));
    }

    // Each line crystallises the contract it was priced from.
    let contract: String = sqlx::query_scalar(
        "SELECT c.number FROM purchase_order_lines l JOIN master_contracts c ON c.id = l.contract_id \
         WHERE l.product_id = $1",
    )
    .bind(world::product_id("BW-TRAY-0400"))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(contract.ends_with("-EMBALSUD"));
    app.cleanup().await;
}

#[tokio::test]
async fn an_accepted_order_reads_pending_until_a_worker_processes_it() {
    let mut app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let response = app
        .submit_order(&token, "pending-1", &three_supplier_order())
        .await;
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let pending = app.get_order(&token, &id).await;
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["id"], id.as_str());
    assert_eq!(
        pending["station_id"],
        world::station_id(world::STATION_CODE).to_string().as_str()
    );
    assert!(pending["reference"].is_null());
    assert_eq!(
        app.count("master_orders").await,
        0,
        "nothing written before processing"
    );
    assert_eq!(
        app.stream_messages("COMMANDS").await,
        1,
        "the command waits in the stream"
    );

    // Another station cannot see it, pending or not.
    let other = app.login(world::STATION2_EMAIL).await;
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}"), &other)
            .await
            .status(),
        404
    );

    app.start_worker().await;
    let order = app.wait_until_processed(&token, &id).await;
    assert_eq!(order["status"], "REGISTERED");
    assert_eq!(
        app.stream_messages("COMMANDS").await,
        0,
        "acknowledged after commit"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn resubmitting_with_the_same_key_returns_the_same_order_and_another_body_conflicts() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let body = three_supplier_order();
    let first: Value = app
        .submit_order(&token, "same-key", &body)
        .await
        .json()
        .await
        .unwrap();
    let id = first["id"].as_str().unwrap().to_owned();

    // Immediately (still pending or just processed) and after processing: same id.
    let again = app.submit_order(&token, "same-key", &body).await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id.as_str());
    app.wait_until_processed(&token, &id).await;
    let after = app.submit_order(&token, "same-key", &body).await;
    assert_eq!(after.status(), 202);
    let after: Value = after.json().await.unwrap();
    assert_eq!(after["id"], id.as_str());
    assert_eq!(after["status"], "REGISTERED");

    let mut other_body = body.clone();
    other_body["lines"][0]["quantity"] = json!(51);
    let conflict = app.submit_order(&token, "same-key", &other_body).await;
    assert_eq!(conflict.status(), 409);
    assert_eq!(
        conflict.json::<Value>().await.unwrap()["code"],
        "IDEMPOTENCY_KEY_REUSED"
    );

    app.wait_until_outbox_empty().await;
    assert_eq!(app.count("master_orders").await, 1);
    assert_eq!(app.count("purchase_orders").await, 3);
    assert_eq!(app.count("commands").await, 1);

    // The same key used by another user is another order.
    let handler = app.login(world::HANDLER_EMAIL).await;
    let theirs: Value = app
        .submit_order(&handler, "same-key", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(theirs["id"], id.as_str());
    app.cleanup().await;
}

#[tokio::test]
async fn a_conflicting_body_is_detected_while_the_first_is_still_pending() {
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let body = three_supplier_order();
    assert_eq!(
        app.submit_order(&token, "pending-key", &body)
            .await
            .status(),
        202
    );
    let mut other_body = body.clone();
    other_body["notes"] = json!("something else");
    let conflict = app.submit_order(&token, "pending-key", &other_body).await;
    assert_eq!(conflict.status(), 409);
    assert_eq!(
        app.stream_messages("COMMANDS").await,
        1,
        "the conflicting body was not queued"
    );
    app.cleanup().await;
}

fn rejected_order() -> Value {
    let line = |product: &str, supplier: &str, quantity: u32| json!({"product_id": world::product_id(product), "supplier_id": world::supplier_id(supplier), "quantity": quantity});
    json!({
        "station_id": world::station_id(world::STATION_CODE),
        "lines": [
            line("BW-TRAY-0400", "EMBALSUD", 60),            // fine
            json!({"product_id": uuid::Uuid::from_u128(42), "supplier_id": world::supplier_id("EMBALSUD"), "quantity": 1}),
            line(world::INACTIVE_PRODUCT, "EMBALSUD", 10),  // product no longer sold
            line("BW-LABL-0100", "EMBALSUD", 50),            // EMBALSUD has no contract line for it
            line("BW-TRAY-0500", "EMBALSUD", 4),             // minimum 5
            line("BW-PALL-0600", "PALETTOC", 1),             // 96.00 < PALETTOC's 250.00 minimum
        ]
    })
}

#[tokio::test]
async fn an_order_with_failing_lines_is_rejected_whole_with_every_reason() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    // Business rules are checked by the worker: the ingress accepts the order.
    let id = app
        .accept_order(&token, "rejected", &rejected_order())
        .await;
    let order = app.wait_until_processed(&token, &id).await;
    assert_eq!(order["status"], "REJECTED");
    assert_eq!(
        order["purchase_orders"],
        json!([]),
        "all or nothing: no purchase order"
    );
    assert_eq!(totals(&order), ("0.00", "0.00", "0.00"));
    let rejection = &order["rejection"];
    assert_eq!(rejection["code"], "MULTIPLE_REASONS");
    let reasons: Vec<(u64, &str)> = rejection["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["index"].as_u64().unwrap(), l["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (1, "UNKNOWN_PRODUCT"),
            (2, "INACTIVE_PRODUCT"),
            (3, "NO_ACTIVE_CONTRACT"),
            (4, "BELOW_MINIMUM_QUANTITY"),
            (5, "BELOW_MINIMUM_ORDER_VALUE"),
        ]
    );
    for line in rejection["lines"].as_array().unwrap() {
        assert!(!line["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.count("purchase_orders").await, 0);
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM commands")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(outcome, "REJECTED");
    app.cleanup().await;
}

#[tokio::test]
async fn prefer_wait_answers_with_the_outcome() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let priced = app
        .http
        .post(format!("{}/api/v1/orders", app.base_url))
        .bearer_auth(&token)
        .header("Idempotency-Key", "wait-priced")
        .header("Prefer", "wait=10")
        .json(&three_supplier_order())
        .send()
        .await
        .unwrap();
    assert_eq!(priced.status(), 201);
    assert_eq!(priced.headers()["preference-applied"], "wait=10");
    let order: Value = priced.json().await.unwrap();
    assert_eq!(order["status"], "REGISTERED");
    assert_eq!(totals(&order), ("4244.30", "807.10", "5051.40"));

    let rejected = app
        .http
        .post(format!("{}/api/v1/orders", app.base_url))
        .bearer_auth(&token)
        .header("Idempotency-Key", "wait-rejected")
        .header("Prefer", "wait=10")
        .json(&rejected_order())
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 422);
    assert_eq!(
        rejected.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = rejected.json().await.unwrap();
    assert_eq!(problem["code"], "ORDER_REJECTED");
    assert_eq!(problem["errors"][0]["field"], "lines[1]");
    assert_eq!(problem["errors"][0]["code"], "UNKNOWN_PRODUCT");
    app.cleanup().await;
}

#[tokio::test]
async fn prefer_wait_gives_up_with_a_202_when_no_worker_answers_in_time() {
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let started = std::time::Instant::now();
    let response = app
        .http
        .post(format!("{}/api/v1/orders", app.base_url))
        .bearer_auth(&token)
        .header("Idempotency-Key", "wait-timeout")
        .header("Prefer", "wait=1")
        .json(&three_supplier_order())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "PENDING");
    app.cleanup().await;
}

/// (action, entity type, entity id, actor user id, actor role, changes)
type AuditRow = (
    String,
    String,
    Option<uuid::Uuid>,
    Option<uuid::Uuid>,
    Option<String>,
    Value,
);

#[tokio::test]
async fn every_created_row_is_audited_in_the_same_transaction() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let id = app
        .accept_order(&token, "audited", &three_supplier_order())
        .await;
    app.wait_until_processed(&token, &id).await;
    let order_id: uuid::Uuid = id.parse().unwrap();
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT action, entity_type, entity_id, actor_user_id, actor_role, changes FROM audit_log \
         WHERE command_id = $1",
    )
    .bind(order_id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let station_user = world::user_id(world::STATION_EMAIL);
    for (action, _, _, actor, role, _) in &rows {
        assert_eq!(
            (action.as_str(), *actor, role.as_deref()),
            ("CREATE", Some(station_user), Some("STATION"))
        );
    }
    let audited = |entity: &str| -> Vec<uuid::Uuid> {
        rows.iter()
            .filter(|r| r.1 == entity)
            .filter_map(|r| r.2)
            .collect()
    };
    assert_eq!(audited("master_order"), [order_id]);
    let mut po_ids: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM purchase_orders")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let mut audited_pos = audited("purchase_order");
    po_ids.sort();
    audited_pos.sort();
    assert_eq!(audited_pos, po_ids);
    let mut line_ids: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM purchase_order_lines")
        .fetch_all(&app.db)
        .await
        .unwrap();
    // Audited at the aggregate: each line inside its purchase order's CREATE row, whole.
    assert!(audited("purchase_order_line").is_empty());
    let mut audited_lines: Vec<uuid::Uuid> = rows
        .iter()
        .filter(|r| r.1 == "purchase_order")
        .flat_map(|r| r.5["lines"]["new"].as_array().unwrap().clone())
        .map(|line| line["id"].as_str().unwrap().parse().unwrap())
        .collect();
    line_ids.sort();
    audited_lines.sort();
    assert_eq!(audited_lines, line_ids);
    let po_changes = &rows.iter().find(|r| r.1 == "purchase_order").unwrap().5;
    let first_line = &po_changes["lines"]["new"][0];
    for field in [
        "product_code",
        "quantity",
        "unit_price",
        "line_total",
        "sales_unit_price",
    ] {
        assert!(!first_line[field].is_null(), "line field {field} audited");
    }

    // A CREATE lists each business field with old = null; timestamps are left out.
    let master_changes = &rows.iter().find(|r| r.1 == "master_order").unwrap().5;
    assert_eq!(
        master_changes["status"],
        json!({"old": null, "new": "REGISTERED"})
    );
    assert_eq!(master_changes["total_including_tax"]["new"], "5051.40");
    assert!(master_changes.get("accepted_at").is_none());

    // Append-only, enforced by the database.
    for statement in [
        "UPDATE audit_log SET reason = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let error = sqlx::query(statement).execute(&app.db).await.unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    app.cleanup().await;
}

#[tokio::test]
async fn committed_events_are_published_once_with_the_event_id_as_message_id() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let mut events = app
        .nats
        .subscribe(app.ns.subject("bw.evt.>"))
        .await
        .unwrap();
    let id = app
        .accept_order(&token, "events", &three_supplier_order())
        .await;
    app.wait_until_processed(&token, &id).await;
    app.wait_until_outbox_empty().await;

    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut ids = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    // 1 order.priced + 3 purchase_order.created + 1 audit event carrying the command's rows.
    while seen.values().sum::<usize>() < 5 {
        let message = tokio::time::timeout_at(deadline, futures::StreamExt::next(&mut events))
            .await
            .expect("events in time")
            .unwrap();
        let event: Value = serde_json::from_slice(&message.payload).unwrap();
        if event["command_id"] != id.as_str() {
            continue; // e.g. the LOGIN audit event
        }
        let headers = message.headers.as_ref().unwrap();
        assert_eq!(
            headers.get("Nats-Msg-Id").unwrap().as_str(),
            event["id"].as_str().unwrap()
        );
        assert!(
            ids.insert(event["id"].as_str().unwrap().to_owned()),
            "published once: {} on {}",
            event["type"],
            message.subject
        );
        *seen
            .entry(event["type"].as_str().unwrap().to_owned())
            .or_default() += 1;
        if event["type"] == "purchase_order.created" {
            let supplier = event["data"]["purchase_order"]["supplier_id"]
                .as_str()
                .unwrap();
            assert_eq!(
                message.subject.as_str(),
                app.ns.event("purchase_order.created", supplier)
            );
        }
        if event["type"] == "audit.recorded" {
            assert_eq!(event["version"], 2);
            assert_eq!(
                message.subject.as_str(),
                app.ns.event("audit", "master_order")
            );
            let mut entities: Vec<&str> = event["data"]["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["entity_type"].as_str().unwrap())
                .collect();
            entities.sort_unstable();
            assert_eq!(
                entities,
                [
                    "master_order",
                    "purchase_order",
                    "purchase_order",
                    "purchase_order",
                    "sales_order"
                ]
            );
        }
        if event["type"] == "order.priced" {
            assert_eq!(
                message.subject.as_str(),
                app.ns
                    .event("order.priced", world::station_id(world::STATION_CODE))
            );
            assert_eq!(event["data"]["total_including_tax"], "5051.40");
        }
    }
    assert_eq!(seen["order.priced"], 1);
    assert_eq!(seen["purchase_order.created"], 3);
    assert_eq!(seen["audit.recorded"], 1);
    app.cleanup().await;
}
