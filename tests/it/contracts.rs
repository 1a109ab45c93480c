//! Master contracts on the command path: created by a manager, activated by an admin, used by
//! orders, suspended (orders refused), resumed, terminated; the overlap refusal; edits of a
//! DRAFT only; field errors that publish nothing; racing activations on two workers; renewal;
//! automatic expiry once across two workers; and what suppliers may not see.

use std::time::Duration;

use bluewhale_tests::{TestApp, world};
use chrono::NaiveDate;
use reqwest::Method;
use serde_json::{Value, json};

/// Today in the business time zone (the one order dates and contract validity use).
fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive()
}

fn year_now() -> i32 {
    chrono::Datelike::year(&today())
}

fn days(n: i64) -> NaiveDate {
    today() + chrono::Duration::days(n)
}

/// A contract body for `supplier` with one line per `(product code, unit price)`.
fn contract(supplier: &str, lines: &[(&str, &str)], from: NaiveDate, until: NaiveDate) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(product, price)| json!({"product_id": world::product_id(product), "unit_price": price}))
        .collect();
    json!({
        "supplier_id": world::supplier_id(supplier),
        "valid_from": from,
        "valid_until": until,
        "currency": "EUR",
        "platform_fee_percent": "4.00",
        "notes": "negotiated by the integration test",
        "lines": lines,
    })
}

/// A write with `Prefer: wait=10`: status, `ETag` and body.
async fn write(
    app: &TestApp,
    email: &str,
    target: (Method, &str),
    key: &str,
    body: &Value,
    extra: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    app.write_waiting(email, target, key, body, extra).await
}

/// Creates a DRAFT that must be accepted: its representation.
async fn create(app: &TestApp, key: &str, body: &Value) -> Value {
    let (status, etag, created) = write(
        app,
        world::MANAGER_EMAIL,
        (Method::POST, "/api/v1/contracts"),
        key,
        body,
        &[],
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(created["status"], "DRAFT");
    created
}

/// A lifecycle step by `email` that must apply: the contract afterwards.
async fn step(app: &TestApp, email: &str, id: &str, verb: &str, key: &str, body: Value) -> Value {
    let (status, etag, contract) = write(
        app,
        email,
        (Method::POST, &format!("/api/v1/contracts/{id}/{verb}")),
        key,
        &body,
        &[],
    )
    .await;
    assert_eq!(status, 200, "{verb}: {contract}");
    assert_eq!(etag, Some(format!("\"{}\"", contract["version"])));
    contract
}

/// An order of `quantity` units of `product` from `supplier`, once processed.
async fn order(app: &TestApp, key: &str, supplier: &str, product: &str, quantity: u32) -> Value {
    let token = app.login(world::STATION_EMAIL).await;
    let body = json!({
        "station_id": world::station_id(world::STATION_CODE),
        "lines": [{"product_id": world::product_id(product), "supplier_id": world::supplier_id(supplier), "quantity": quantity}],
    });
    let id = app.accept_order(&token, key, &body).await;
    app.wait_until_processed(&token, &id).await
}

fn rejection_code(order: &Value) -> &str {
    order["rejection"]["lines"][0]["code"]
        .as_str()
        .unwrap_or("none")
}

#[tokio::test]
async fn a_contract_lives_from_draft_to_termination_and_prices_orders_only_while_active() {
    let app = TestApp::spawn().await;
    let body = contract("ETIQLYON", &[("BW-TRAY-0400", "10.05")], days(-1), days(60));

    // A handler may read contracts but not write them: 403, nothing published.
    let (status, _, problem) = write(
        &app,
        world::HANDLER_EMAIL,
        (Method::POST, "/api/v1/contracts"),
        "handler-try",
        &body,
        &[],
    )
    .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(app.stream_messages("COMMANDS").await, 0);
    assert_eq!(app.count("commands").await, 0);

    let created = create(&app, "create", &body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let year = days(-1).format("%Y").to_string();
    assert_eq!(created["number"], format!("MC-{year}-0001"));
    assert_eq!(created["platform_fee_percent"], "4.00");
    assert_eq!(created["lines"][0]["unit_price"], "10.05");
    assert_eq!(created["lines"][0]["tax_rate"], "20.00");
    assert_eq!(created["lines"][0]["min_order_quantity"], 1);

    // A DRAFT prices nothing.
    let draft_order = order(&app, "o-draft", "ETIQLYON", "BW-TRAY-0400", 3).await;
    assert_eq!(draft_order["status"], "REJECTED");
    assert_eq!(rejection_code(&draft_order), "NO_ACTIVE_CONTRACT");

    // Only an admin activates; a stale If-Match is refused.
    let path = format!("/api/v1/contracts/{id}/activate");
    let (status, _, problem) = write(
        &app,
        world::MANAGER_EMAIL,
        (Method::POST, &path),
        "manager-activate",
        &json!({}),
        &[],
    )
    .await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, _, problem) = write(
        &app,
        world::ADMIN_EMAIL,
        (Method::POST, &path),
        "stale-activate",
        &json!({}),
        &[("If-Match", "\"7\"")],
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (412, Some("PRECONDITION_FAILED"))
    );
    let active = step(
        &app,
        world::ADMIN_EMAIL,
        &id,
        "activate",
        "activate",
        json!({}),
    )
    .await;
    assert_eq!(active["status"], "ACTIVE");
    assert_eq!(active["version"], 2);

    let priced = order(&app, "o-active", "ETIQLYON", "BW-TRAY-0400", 3).await;
    assert_eq!(priced["status"], "REGISTERED", "{priced}");
    let line = &priced["purchase_orders"][0]["lines"][0];
    assert_eq!(line["unit_price"], "10.05");
    assert_eq!(line["contract_id"], id.as_str());
    assert_eq!(priced["total_excluding_tax"], "30.15");
    assert_eq!(priced["tax_amount"], "6.03");

    // Suspended it prices nothing, resumed it prices again, terminated it is gone.
    for (email, verb, body, status, prices) in [
        (
            world::MANAGER_EMAIL,
            "suspend",
            json!({"reason": "prices under review"}),
            "SUSPENDED",
            false,
        ),
        (world::MANAGER_EMAIL, "resume", json!({}), "ACTIVE", true),
        (
            world::ADMIN_EMAIL,
            "terminate",
            json!({"reason": "supplier left the market"}),
            "TERMINATED",
            false,
        ),
    ] {
        let contract = step(&app, email, &id, verb, verb, body.clone()).await;
        assert_eq!(contract["status"], status, "{verb}");
        if let Some(reason) = body["reason"].as_str() {
            assert_eq!(contract["status_reason"], reason);
        }
        let next = order(&app, &format!("o-{verb}"), "ETIQLYON", "BW-TRAY-0400", 3).await;
        if prices {
            assert_eq!(next["total_excluding_tax"], "30.15", "after {verb}");
        } else {
            assert_eq!(rejection_code(&next), "NO_ACTIVE_CONTRACT", "after {verb}");
        }
    }
    let manager = app.login(world::MANAGER_EMAIL).await;
    let terminated = app
        .get_json(&format!("/api/v1/contracts/{id}"), &manager)
        .await;
    assert_eq!(terminated["version"], 5);
    // A terminated contract stays terminated.
    let (status, _, problem) = write(
        &app,
        world::MANAGER_EMAIL,
        (Method::POST, &format!("/api/v1/contracts/{id}/resume")),
        "resume-terminated",
        &json!({}),
        &[],
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("INVALID_TRANSITION"))
    );

    // The history, from the audit rows: who did what, with the reasons.
    let history = app
        .get_json(&format!("/api/v1/contracts/{id}/history"), &manager)
        .await;
    let steps: Vec<(&str, Option<&str>, Option<&str>)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap(),
                h["to_status"].as_str(),
                h["reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("CREATE", Some("DRAFT"), None),
            ("TRANSITION", Some("ACTIVE"), None),
            ("TRANSITION", Some("SUSPENDED"), Some("prices under review")),
            ("TRANSITION", Some("ACTIVE"), None),
            (
                "TRANSITION",
                Some("TERMINATED"),
                Some("supplier left the market")
            ),
        ]
    );
    assert_eq!(
        history[1]["actor"]["user_id"],
        world::user_id(world::ADMIN_EMAIL).to_string()
    );
    assert_eq!(history[0]["changes"]["platform_fee_percent"]["new"], "4.00");

    // Each status change is an event for the supplier, on its routing token.
    app.wait_until_outbox_empty().await;
    let supplier = world::supplier_id("ETIQLYON");
    for (kind, expected) in [
        ("activated", 1),
        ("suspended", 1),
        ("resumed", 1),
        ("terminated", 1),
        ("expired", 0),
    ] {
        assert_eq!(
            app.event_messages(&format!("bw.evt.contract.{kind}.{supplier}"))
                .await,
            expected,
            "contract.{kind}"
        );
    }
    app.cleanup().await;
}

#[tokio::test]
async fn suppliers_see_their_contracts_without_blue_whales_fee_or_notes() {
    let app = TestApp::spawn().await;
    let created = create(
        &app,
        "create",
        &contract("ETIQLYON", &[("BW-TRAY-0400", "10.00")], days(1), days(90)),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["notes"], "negotiated by the integration test");

    let own = app.login(world::SUPPLIER_EMAIL).await; // EMBALSUD's user
    let response = app.get(&format!("/api/v1/contracts/{id}"), &own).await;
    assert_eq!(response.status(), 404, "another supplier's contract");

    // The contract's own supplier: its terms, not the fee nor the notes, nor in its history.
    sqlx::query("UPDATE users SET org_id = $1 WHERE email = $2")
        .bind(world::supplier_id("ETIQLYON"))
        .bind(world::SUPPLIER_EMAIL)
        .execute(&app.db)
        .await
        .unwrap();
    let theirs = app.login(world::SUPPLIER_EMAIL).await;
    let seen = app
        .get_json(&format!("/api/v1/contracts/{id}"), &theirs)
        .await;
    assert_eq!(seen["lines"][0]["unit_price"], "10.00");
    assert!(seen.get("platform_fee_percent").is_none(), "{seen}");
    assert!(seen.get("notes").is_none(), "{seen}");
    let history = app
        .get_json(&format!("/api/v1/contracts/{id}/history"), &theirs)
        .await;
    let changes = &history[0]["changes"];
    assert!(changes.get("lines").is_some(), "{changes}");
    assert!(changes.get("platform_fee_percent").is_none(), "{changes}");
    assert!(changes.get("notes").is_none(), "{changes}");
    // Stations read contracts with the fee they pay, not Blue Whale's notes.
    let station = app.login(world::STATION_EMAIL).await;
    let seen = app
        .get_json(&format!("/api/v1/contracts/{id}"), &station)
        .await;
    assert_eq!(seen["platform_fee_percent"], "4.00");
    assert!(seen.get("notes").is_none());
    app.cleanup().await;
}

#[tokio::test]
async fn activation_refuses_an_overlap_naming_the_contracts_and_products() {
    let app = TestApp::spawn().await;
    let year = year_now();
    let seeded = world::contract_number(year, "EMBALSUD");
    let last_day = NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
    // Touching the seeded contract on its last day, for one of its products.
    let touching = create(
        &app,
        "touching",
        &contract(
            "EMBALSUD",
            &[("BW-TRAY-0400", "19.00"), ("BW-LABL-0028", "12.00")],
            last_day,
            last_day + chrono::Duration::days(365),
        ),
    )
    .await;
    let id = touching["id"].as_str().unwrap();
    let (status, _, problem) = write(
        &app,
        world::ADMIN_EMAIL,
        (Method::POST, &format!("/api/v1/contracts/{id}/activate")),
        "activate-touching",
        &json!({}),
        &[],
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "CONTRACT_OVERLAP");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&seeded) && detail.contains("BW-TRAY-0400"),
        "{detail}"
    );
    assert!(!detail.contains("BW-LABL-0028"), "{detail}");
    // The contract the line belongs to is named per line; lines are in product-id order.
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!(errors[0]["code"], "CONTRACT_OVERLAP");
    let manager = app.login(world::MANAGER_EMAIL).await;
    let still = app
        .get_json(&format!("/api/v1/contracts/{id}"), &manager)
        .await;
    assert_eq!(
        (still["status"].as_str(), still["version"].as_i64()),
        (Some("DRAFT"), Some(1))
    );

    // The day after the seeded contract ends, the same product is free.
    let (status, _, moved) = write(
        &app,
        world::MANAGER_EMAIL,
        (Method::PATCH, &format!("/api/v1/contracts/{id}")),
        "move",
        &json!({"valid_from": last_day + chrono::Duration::days(1), "notes": null}),
        &[("If-Match", "\"1\"")],
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert!(moved.get("notes").is_none() || moved["notes"].is_null());
    let active = step(
        &app,
        world::ADMIN_EMAIL,
        id,
        "activate",
        "activate-next-year",
        json!({}),
    )
    .await;
    assert_eq!(active["status"], "ACTIVE");

    // Once in force its terms are fixed.
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/v1/contracts/{id}"),
            json!({"notes": "late"}),
        ),
        (
            Method::PUT,
            format!("/api/v1/contracts/{id}/lines"),
            json!({"lines": [{"product_id": world::product_id("BW-TRAY-0400"), "unit_price": "1.00"}]}),
        ),
    ] {
        let (status, _, problem) = write(
            &app,
            world::MANAGER_EMAIL,
            (method, &path),
            &path,
            &body,
            &[],
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("CONTRACT_NOT_EDITABLE")),
            "{path}"
        );
    }
    app.cleanup().await;
}

#[tokio::test]
async fn bad_terms_are_refused_per_field_and_publish_nothing() {
    let app = TestApp::spawn().await;
    let mut body = contract(
        "ETIQLYON",
        &[("BW-TRAY-0400", "10.005"), ("BW-TRAY-0400", "0")],
        days(10),
        days(1),
    );
    body["lines"][0]["price_breaks"] = json!([
        {"min_quantity": 100, "reduction_percent": "5.00"},
        {"min_quantity": 50, "reduction_percent": "4.00"},
    ]);
    body["lines"][1]["tax_rate"] = json!("100");
    let (status, _, problem) = write(
        &app,
        world::MANAGER_EMAIL,
        (Method::POST, "/api/v1/contracts"),
        "bad",
        &body,
        &[],
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let mut fields: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    fields.sort();
    let expected: Vec<(String, String)> = [
        ("valid_until", "BEFORE_VALID_FROM"),
        ("lines[0].price_breaks[1].min_quantity", "NOT_ASCENDING"),
        (
            "lines[0].price_breaks[1].reduction_percent",
            "NOT_ASCENDING",
        ),
        ("lines[0].unit_price", "TOO_MANY_DECIMALS"),
        ("lines[1].product_id", "DUPLICATE_PRODUCT"),
        ("lines[1].tax_rate", "OUT_OF_RANGE"),
        ("lines[1].unit_price", "OUT_OF_RANGE"),
    ]
    .into_iter()
    .map(|(f, c)| (f.to_owned(), c.to_owned()))
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect();
    assert_eq!(fields, expected);

    // Amounts are decimal strings, never JSON numbers; unknown and inactive references are
    // named; a number taken is a conflict.
    let mut numeric = contract("ETIQLYON", &[("BW-TRAY-0400", "1.00")], days(1), days(2));
    numeric["lines"][0]["unit_price"] = json!(18.5);
    let (status, _, problem) = write(
        &app,
        world::MANAGER_EMAIL,
        (Method::POST, "/api/v1/contracts"),
        "numeric",
        &numeric,
        &[],
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("lines[0].unit_price"))
    );
    let inactive = contract(
        world::SUPPLIER_CODE,
        &[(world::INACTIVE_PRODUCT, "1.00")],
        days(1),
        days(2),
    );
    let (status, _, problem) = write(
        &app,
        world::MANAGER_EMAIL,
        (Method::POST, "/api/v1/contracts"),
        "inactive",
        &inactive,
        &[],
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "INACTIVE_PRODUCT");
    let mut taken = contract("ETIQLYON", &[("BW-TRAY-0400", "1.00")], days(1), days(2));
    taken["number"] = json!(world::contract_number(year_now(), "ETIQLYON"));
    let (status, _, problem) = write(
        &app,
        world::MANAGER_EMAIL,
        (Method::POST, "/api/v1/contracts"),
        "taken",
        &taken,
        &[],
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("CONTRACT_NUMBER_TAKEN"))
    );

    assert_eq!(app.stream_messages("COMMANDS").await, 0);
    assert_eq!(app.count("commands").await, 0);
    assert_eq!(
        app.count("master_contracts").await,
        i64::try_from(world::contracts(year_now()).unwrap().len()).unwrap()
    );
    app.cleanup().await;
}

#[tokio::test]
async fn racing_activations_of_overlapping_contracts_on_two_workers_apply_one() {
    // One command per batch: the two activations go to two batches, on two workers (or two
    // concurrent batches of one), and meet at the supplier's lock.
    let mut app = TestApp::options()
        .env("BW_WORKER_BATCH_SIZE", "1")
        .without_worker()
        .spawn()
        .await;
    let body = contract("ETIQLYON", &[("BW-TRAY-0500", "9.00")], days(1), days(30));
    let mut ids = Vec::new();
    for key in ["first", "second"] {
        let token = app.login(world::MANAGER_EMAIL).await;
        let response = app
            .write("/api/v1/contracts", &token, key, &body, &[])
            .await;
        assert_eq!(response.status(), 202);
        let accepted: Value = response.json().await.unwrap();
        ids.push(accepted["resource"]["id"].as_str().unwrap().to_owned());
    }
    app.start_worker().await;
    let (stop, second) = app.second_worker();
    let manager = app.login(world::MANAGER_EMAIL).await;
    for id in &ids {
        // A created contract's id is its command's.
        let cmd = app.wait_for_command(&manager, id).await;
        assert_eq!(cmd["status"], "APPLIED");
    }
    // Both drafts pass the ingress's check; the workers, each taking one, must refuse one.
    let admin = app.login(world::ADMIN_EMAIL).await;
    let activations = ids.iter().map(|id| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.write(
                &format!("/api/v1/contracts/{id}/activate"),
                &admin,
                &format!("activate-{id}"),
                &json!({}),
                &[("Prefer", "wait=15")],
            )
            .await
            .status()
            .as_u16()
        }
    });
    let mut statuses = futures::future::join_all(activations).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let active: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM master_contracts WHERE id::text = ANY($1) AND status = 'ACTIVE'",
    )
    .bind(&ids)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(active, 1);
    drop(stop);
    second.await.unwrap().unwrap();
    app.cleanup().await;
}

#[tokio::test]
async fn a_renewal_is_the_next_draft_with_the_same_lines() {
    let app = TestApp::spawn().await;
    let year = year_now();
    let source = world::contract_id_for(year, "PLASTIVAL").to_string();
    let from = NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap();
    let until = NaiveDate::from_ymd_opt(year + 1, 12, 31).unwrap();
    let (status, _, renewed) = write(
        &app,
        world::MANAGER_EMAIL,
        (Method::POST, &format!("/api/v1/contracts/{source}/renew")),
        "renew",
        &json!({"valid_from": from, "valid_until": until}),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{renewed}");
    assert_eq!(renewed["status"], "DRAFT");
    assert_eq!(renewed["renewed_from"], source.as_str());
    assert_eq!(renewed["number"], format!("MC-{}-0001", year + 1));
    assert_eq!(renewed["valid_from"], from.to_string());
    let manager = app.login(world::MANAGER_EMAIL).await;
    let original = app
        .get_json(&format!("/api/v1/contracts/{source}"), &manager)
        .await;
    let terms = |c: &Value| -> Vec<(Value, Value, Value, Value)> {
        c["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["product_id"].clone(),
                    l["unit_price"].clone(),
                    l["min_order_quantity"].clone(),
                    l["price_breaks"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(terms(&renewed), terms(&original));
    assert_eq!(
        renewed["minimum_order_value"],
        original["minimum_order_value"]
    );
    // Renewing a DRAFT is refused.
    let draft = renewed["id"].as_str().unwrap();
    let (status, _, problem) = write(
        &app,
        world::MANAGER_EMAIL,
        (Method::POST, &format!("/api/v1/contracts/{draft}/renew")),
        "renew-draft",
        &json!({"valid_from": from, "valid_until": until}),
        &[],
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("INVALID_TRANSITION"))
    );
    app.cleanup().await;
}

#[tokio::test]
async fn contracts_past_their_validity_expire_once_across_two_workers() {
    let app = TestApp::options()
        .env("BW_CONTRACT_EXPIRY_INTERVAL_SECS", "1")
        .spawn()
        .await;
    let (stop, second) = app.second_worker();
    // A contract whose validity ended yesterday: activated, it expires at the next run.
    let created = create(
        &app,
        "ended",
        &contract(
            "ETIQLYON",
            &[("BW-CART-0005", "30.00")],
            days(-30),
            days(-1),
        ),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    // And one still valid today, which must stay ACTIVE.
    let current = create(
        &app,
        "current",
        &contract("ETIQLYON", &[("BW-CART-0010", "20.00")], days(-30), days(0)),
    )
    .await;
    let current_id = current["id"].as_str().unwrap().to_owned();
    step(
        &app,
        world::ADMIN_EMAIL,
        &current_id,
        "activate",
        "activate-current",
        json!({}),
    )
    .await;
    let activated = step(
        &app,
        world::ADMIN_EMAIL,
        &id,
        "activate",
        "activate",
        json!({}),
    )
    .await;
    assert_eq!(activated["status"], "ACTIVE");

    let manager = app.login(world::MANAGER_EMAIL).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let seen = app
            .get_json(&format!("/api/v1/contracts/{id}"), &manager)
            .await;
        if seen["status"] == "EXPIRED" {
            assert_eq!(seen["version"], 3);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not expired: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the job run again on both workers (two more runs recorded), then count.
    let last_run = || async {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "SELECT last_run_at FROM scheduled_jobs WHERE name = 'contract_expiry'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    for _ in 0..2 {
        let seen = last_run().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while last_run().await == seen {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the job stopped running"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let expiries: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM commands WHERE type = 'contract.expire' AND outcome = 'APPLIED'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(expiries, 1);
    let transitions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE entity_id::text = $1 \
         AND changes -> 'status' ->> 'new' = 'EXPIRED'",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(transitions, 1);
    app.wait_until_outbox_empty().await;
    let supplier = world::supplier_id("ETIQLYON");
    assert_eq!(
        app.event_messages(&format!("bw.evt.contract.expired.{supplier}"))
            .await,
        1
    );
    let still = app
        .get_json(&format!("/api/v1/contracts/{current_id}"), &manager)
        .await;
    assert_eq!(still["status"], "ACTIVE");
    let history = app
        .get_json(&format!("/api/v1/contracts/{id}/history"), &manager)
        .await;
    let expiry = &history[2];
    assert_eq!(expiry["to_status"], "EXPIRED");
    assert_eq!(expiry["reason"], "validity ended");
    assert!(expiry["actor"]["user_id"].is_null(), "the system: {expiry}");
    drop(stop);
    second.await.unwrap().unwrap();
    app.cleanup().await;
}
