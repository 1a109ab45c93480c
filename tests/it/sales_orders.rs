//! Blue Whale's sales orders: one per priced master order, written in the same transaction,
//! at the contract fees (amounts checked by hand), gapless numbers, seen by the station and
//! staff but never by a supplier; invoicing once the goods have arrived, crediting cancelled
//! purchase orders, refused while goods are awaited, and exactly once under a race.

use bluewhale::messaging::events::DomainEvent;
use bluewhale_tests::{TestApp, three_supplier_order, world};
use serde_json::{Value, json};

/// Sets the platform fee of the supplier's seeded ACTIVE contract.
async fn set_fee(app: &TestApp, supplier_code: &str, fee: &str) {
    let updated = sqlx::query(
        "UPDATE master_contracts SET platform_fee_percent = $2::numeric \
         WHERE supplier_id = $1 AND status = 'ACTIVE'",
    )
    .bind(world::supplier_id(supplier_code))
    .bind(fee)
    .execute(&app.db)
    .await
    .unwrap()
    .rows_affected();
    assert!(updated >= 1, "{supplier_code} has an active contract");
}

/// The demo fees of these tests: EMBALSUD 4 %, PLASTIVAL 2.5 %, ETIQLYON none.
async fn with_fees(app: &TestApp) {
    set_fee(app, "EMBALSUD", "4.00").await;
    set_fee(app, "PLASTIVAL", "2.50").await;
}

/// The one sales order of a master order, as `email` lists it.
async fn sales_order_of(app: &TestApp, email: &str, order_id: &str) -> Value {
    let token = app.login(email).await;
    let page = app
        .get_json(
            &format!("/api/v1/sales-orders?master_order_id={order_id}"),
            &token,
        )
        .await;
    assert_eq!(page["total"], 1, "one sales order per priced order: {page}");
    page["items"][0].clone()
}

fn line<'a>(order: &'a Value, product_code: &str) -> &'a Value {
    line_of_product(order, &world::product_id(product_code).to_string())
}

fn line_of_product<'a>(order: &'a Value, product_id: &str) -> &'a Value {
    order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_id"] == product_id)
        .unwrap_or_else(|| panic!("no line for {product_id}"))
}

fn totals(v: &Value) -> (&str, &str, &str) {
    (
        v["total_excluding_tax"].as_str().unwrap(),
        v["tax_amount"].as_str().unwrap(),
        v["total_including_tax"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn a_priced_order_has_a_sales_order_at_the_contract_fees() {
    let app = TestApp::spawn().await;
    with_fees(&app).await;
    let mut priced_events = app
        .nats
        .subscribe(app.ns.subject("bw.evt.order.priced.>"))
        .await
        .unwrap();
    let order = app.priced_order("so-fees").await;
    let order_id = order["id"].as_str().unwrap();
    let so = sales_order_of(&app, world::STATION_EMAIL, order_id).await;

    let year = &order["order_date"].as_str().unwrap()[..4];
    assert_eq!(so["number"], format!("SO-{year}-000001"));
    assert_eq!(so["status"], "ISSUED");
    assert_eq!(so["version"], 1);
    assert_eq!(so["master_order_reference"], order["reference"]);
    assert_eq!(so["station_id"], order["station_id"]);
    assert_eq!(so["order_date"], order["order_date"]);
    assert_eq!(so["invoice"], Value::Null);

    // (product, purchase price, fee, station price, line total), by hand, half away from zero:
    // EMBALSUD +4 %: 17.95 → 18.668 → 18.67; 96.00 → 99.84;
    // PLASTIVAL +2.5 %: 13.14 → 13.4685 → 13.47; 49.90 → 51.1475 → 51.15;
    // ETIQLYON without a fee resells at cost.
    let expected = [
        ("BW-TRAY-0400", "17.95", "4.00", "18.67", "933.50"),
        ("BW-COAT-0020", "96.00", "4.00", "99.84", "299.52"),
        ("BW-FILM-0300", "13.14", "2.50", "13.47", "808.20"),
        ("BW-PUNN-0250", "49.90", "2.50", "51.15", "511.50"),
        ("BW-LABL-0100", "8.82", "0.00", "8.82", "1764.00"),
        ("BW-LABL-0110", "7.40", "0.00", "7.40", "7.40"),
    ];
    assert_eq!(so["lines"].as_array().unwrap().len(), expected.len());
    for (product, bought, fee, price, total) in expected {
        let l = line(&so, product);
        assert_eq!(
            (
                l["purchase_unit_price"].as_str().unwrap(),
                l["platform_fee_percent"].as_str().unwrap(),
                l["unit_price"].as_str().unwrap(),
                l["line_total"].as_str().unwrap(),
                l["credited"].as_bool().unwrap(),
            ),
            (bought, fee, price, total, false),
            "{product}"
        );
    }
    // Each line names the purchase order and line it resells.
    for po in order["purchase_orders"].as_array().unwrap() {
        for po_line in po["lines"].as_array().unwrap() {
            let sold = line_of_product(&so, po_line["product_id"].as_str().unwrap());
            assert_eq!(sold["purchase_order_id"], po["id"]);
            assert_eq!(sold["purchase_order_number"], po["number"]);
            assert_eq!(sold["quantity"], po_line["quantity"]);
        }
    }
    // 20 % on 4024.60 = 804.92 and 5.5 % on 299.52 = 16.4736 → 16.47, once per rate.
    assert_eq!(totals(&so), ("4324.12", "821.39", "5145.51"));

    // The same sales order by id, with its version as ETag; staff see it too.
    let token = app.login(world::STATION_EMAIL).await;
    let id = so["id"].as_str().unwrap();
    let response = app.get(&format!("/api/v1/sales-orders/{id}"), &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"1\"");
    assert_eq!(response.json::<Value>().await.unwrap(), so);
    let staff = sales_order_of(&app, world::HANDLER_EMAIL, order_id).await;
    assert_eq!(staff, so);

    // Created in the pricing transaction, audited once with its lines inside.
    let (lines, audited): (Value, i64) = sqlx::query_as(
        "SELECT changes -> 'lines' -> 'new', count(*) OVER () FROM audit_log \
         WHERE entity_type = 'sales_order' AND entity_id = $1::uuid AND action = 'CREATE'",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    assert_eq!(lines.as_array().unwrap().len(), 6);

    // The station's order.priced event names it (no supplier receives that event).
    let message = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        futures::StreamExt::next(&mut priced_events),
    )
    .await
    .expect("order.priced in time")
    .unwrap();
    match DomainEvent::decode_message(&message.payload).expect("decodable") {
        (_, DomainEvent::OrderProcessed(processed)) => {
            let summary = processed.sales_order.expect("the sales order");
            assert_eq!(summary.id.to_string(), id);
            assert_eq!(summary.number, so["number"].as_str().unwrap());
            assert_eq!(summary.total_including_tax.to_string(), "5145.51");
        }
        (event, _) => panic!("unexpected {}", event.kind),
    }
    app.cleanup().await;
}

#[tokio::test]
async fn a_supplier_never_sees_a_sales_order_nor_does_another_station() {
    let app = TestApp::spawn().await;
    with_fees(&app).await;
    let order = app.priced_order("so-scope").await;
    let so = sales_order_of(&app, world::STATION_EMAIL, order["id"].as_str().unwrap()).await;
    let path = format!("/api/v1/sales-orders/{}", so["id"].as_str().unwrap());

    for email in [world::SUPPLIER_EMAIL, world::SUPPLIER2_EMAIL] {
        let token = app.login(email).await;
        let response = app.get(&path, &token).await;
        assert_eq!(response.status(), 404, "{email}");
        let response = app.get("/api/v1/sales-orders", &token).await;
        assert_eq!(response.status(), 403, "{email}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body = app
            .write(
                &format!("{path}/invoice"),
                &token,
                "so-sup",
                &json!({}),
                &[],
            )
            .await;
        assert_eq!(body.status(), 403, "{email} may never invoice");
    }
    let other = app.login(world::STATION2_EMAIL).await;
    assert_eq!(app.get(&path, &other).await.status(), 404);
    let page = app.get_json("/api/v1/sales-orders", &other).await;
    assert_eq!(page["total"], 0);
    assert_eq!(page["items"], json!([]));
    // Filters are validated.
    let token = app.login(world::HANDLER_EMAIL).await;
    let response = app.get("/api/v1/sales-orders?status=PAID", &token).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "status");
    app.cleanup().await;
}

#[tokio::test]
async fn sales_order_numbers_are_gapless_and_rejected_orders_take_none() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let first = app.priced_order("so-gapless-1").await;
    // Below the supplier's minimum quantity: rejected, so no sales order.
    let mut rejected = three_supplier_order();
    rejected["lines"][4]["quantity"] = json!(1);
    let id = app.accept_order(&token, "so-gapless-2", &rejected).await;
    let processed = app.wait_until_processed(&token, &id).await;
    assert_eq!(processed["status"], "REJECTED");
    let third = app.priced_order("so-gapless-3").await;

    let year = &first["order_date"].as_str().unwrap()[..4];
    let a = sales_order_of(&app, world::STATION_EMAIL, first["id"].as_str().unwrap()).await;
    let b = sales_order_of(&app, world::STATION_EMAIL, third["id"].as_str().unwrap()).await;
    assert_eq!(a["number"], format!("SO-{year}-000001"));
    assert_eq!(b["number"], format!("SO-{year}-000002"));
    let page = app
        .get_json(
            &format!("/api/v1/sales-orders?master_order_id={id}"),
            &token,
        )
        .await;
    assert_eq!(page["total"], 0, "a rejected order is not billed");
    // Without fees the station pays what Blue Whale pays.
    assert_eq!(totals(&a), totals(&first));
    app.cleanup().await;
}

/// Moves a purchase order of `order` to RECEIVED (supplier confirms and ships, station receives).
async fn receive(app: &TestApp, order: &Value, supplier_code: &str, email: &str) {
    let po = po_of(order, supplier_code);
    let date = order["order_date"].as_str().unwrap();
    let date: chrono::NaiveDate = date.parse().unwrap();
    let delivery = (date + chrono::Duration::days(7)).to_string();
    for (actor, verb, body) in [
        (
            email,
            "confirm",
            json!({"confirmed_delivery_date": delivery}),
        ),
        (
            email,
            "ship",
            json!({"carrier": "Geodis", "tracking_number": "T-1"}),
        ),
        (world::STATION_EMAIL, "receive", json!({"lines": []})),
    ] {
        let token = app.login(actor).await;
        let response = app
            .write(
                &format!("/api/v1/purchase-orders/{po}/{verb}"),
                &token,
                &format!("so-{po}-{verb}"),
                &body,
                &[("Prefer", "wait=10")],
            )
            .await;
        assert_eq!(response.status(), 200, "{verb} {supplier_code}");
    }
}

fn po_of(order: &Value, supplier_code: &str) -> String {
    let supplier = world::supplier_id(supplier_code).to_string();
    order["purchase_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|po| po["supplier_id"] == supplier.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn invoice(
    app: &TestApp,
    email: &str,
    so: &Value,
    key: &str,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let token = app.login(email).await;
    let path = format!(
        "/api/v1/sales-orders/{}/invoice",
        so["id"].as_str().unwrap()
    );
    let response = app.write(&path, &token, key, &json!({}), headers).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn invoicing_waits_for_the_goods_and_credits_cancelled_purchase_orders() {
    let app = TestApp::options()
        .env("BW_INVOICE_DUE_DAYS", "45")
        .spawn()
        .await;
    with_fees(&app).await;
    let order = app.priced_order("so-invoice").await;
    let order_id = order["id"].as_str().unwrap();
    let so = sales_order_of(&app, world::STATION_EMAIL, order_id).await;
    let wait = [("Prefer", "wait=10")];

    // Nothing received yet: refused, naming every purchase order awaited; nothing published.
    let (status, problem) = invoice(&app, world::HANDLER_EMAIL, &so, "inv-early", &wait).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "PURCHASE_ORDERS_NOT_RECEIVED");
    for po in order["purchase_orders"].as_array().unwrap() {
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains(po["number"].as_str().unwrap()),
            "{problem}"
        );
    }
    // A station may not invoice (403).
    let (status, problem) = invoice(&app, world::STATION_EMAIL, &so, "inv-station", &wait).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("FORBIDDEN")));

    receive(&app, &order, "EMBALSUD", world::SUPPLIER_EMAIL).await;
    receive(&app, &order, "PLASTIVAL", world::SUPPLIER2_EMAIL).await;
    // Two received, one still REGISTERED: still refused, naming only that one.
    let (status, problem) = invoice(&app, world::HANDLER_EMAIL, &so, "inv-partial", &wait).await;
    assert_eq!(status, 409);
    let etiqlyon = order["purchase_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|po| po["supplier_id"] == world::supplier_id("ETIQLYON").to_string().as_str())
        .unwrap();
    assert_eq!(
        problem["detail"],
        format!("not received yet: {}", etiqlyon["number"].as_str().unwrap())
    );
    let token = app.login(world::MANAGER_EMAIL).await;
    let response = app
        .write(
            &format!(
                "/api/v1/purchase-orders/{}/cancel",
                etiqlyon["id"].as_str().unwrap()
            ),
            &token,
            "so-cancel-etiqlyon",
            &json!({"reason": "out of stock"}),
            &wait,
        )
        .await;
    assert_eq!(response.status(), 200);

    // A stale If-Match is refused before anything else.
    let (status, _) = invoice(
        &app,
        world::HANDLER_EMAIL,
        &so,
        "inv-stale",
        &[("Prefer", "wait=10"), ("If-Match", "\"7\"")],
    )
    .await;
    assert_eq!(status, 412);

    let (status, invoiced) = invoice(
        &app,
        world::HANDLER_EMAIL,
        &so,
        "inv-ok",
        &[("Prefer", "wait=10"), ("If-Match", "\"1\"")],
    )
    .await;
    assert_eq!(status, 200, "{invoiced}");
    assert_eq!(invoiced["status"], "INVOICED");
    assert_eq!(invoiced["version"], 2);
    let inv = &invoiced["invoice"];
    let invoice_date: chrono::NaiveDate = inv["invoice_date"].as_str().unwrap().parse().unwrap();
    let year = invoice_date.format("%Y").to_string();
    assert_eq!(inv["number"], format!("INV-{year}-000001"));
    assert_eq!(
        inv["due_date"],
        (invoice_date + chrono::Duration::days(45)).to_string(),
        "the due-days setting"
    );
    // ETIQLYON's lines are credited; the rest billed, VAT once per rate:
    // 20 % on 933.50 + 808.20 + 511.50 = 2253.20 → 450.64; 5.5 % on 299.52 → 16.47.
    assert_eq!(totals(inv), ("2552.72", "467.11", "3019.83"));
    for l in invoiced["lines"].as_array().unwrap() {
        let credited = l["purchase_order_id"] == etiqlyon["id"];
        assert_eq!(l["credited"], credited, "{l}");
    }
    // The sales order's own totals still show what was ordered.
    assert_eq!(totals(&invoiced), ("4324.12", "821.39", "5145.51"));

    // The same request again: the same answer; another one: refused, already invoiced.
    let (status, again) = invoice(
        &app,
        world::HANDLER_EMAIL,
        &so,
        "inv-ok",
        &[("Prefer", "wait=10"), ("If-Match", "\"1\"")],
    )
    .await;
    assert_eq!((status, &again), (200, &invoiced));
    let (status, problem) = invoice(&app, world::MANAGER_EMAIL, &so, "inv-twice", &wait).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("SALES_ORDER_INVOICED"))
    );

    // One audit row and one event for the station.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE entity_type = 'sales_order' \
         AND action = 'TRANSITION' AND changes -> 'invoice_number' ->> 'new' = $1",
    )
    .bind(inv["number"].as_str().unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    app.wait_until_outbox_empty().await;
    assert_eq!(
        app.event_messages(&format!(
            "bw.evt.sales_order.invoiced.{}",
            world::station_id(world::STATION_CODE)
        ))
        .await,
        1
    );
    app.cleanup().await;
}

#[tokio::test]
async fn two_racing_invoicings_on_two_workers_give_one_invoice() {
    // One command per batch, so the two invoicings are decided by two workers (or two
    // concurrent batches of one) and meet at the sales order's row lock.
    let mut app = TestApp::options()
        .env("BW_WORKER_BATCH_SIZE", "1")
        .spawn()
        .await;
    let order = app.priced_order("so-race").await;
    let so = sales_order_of(&app, world::STATION_EMAIL, order["id"].as_str().unwrap()).await;
    receive(&app, &order, "EMBALSUD", world::SUPPLIER_EMAIL).await;
    receive(&app, &order, "PLASTIVAL", world::SUPPLIER2_EMAIL).await;
    let token = app.login(world::MANAGER_EMAIL).await;
    let response = app
        .write(
            &format!(
                "/api/v1/purchase-orders/{}/cancel",
                po_of(&order, "ETIQLYON")
            ),
            &token,
            "so-race-cancel",
            &json!({"reason": "late"}),
            &[("Prefer", "wait=10")],
        )
        .await;
    assert_eq!(response.status(), 200);

    // Both pass the ingress's check while no worker runs, then two workers race for them.
    app.stop_worker().await.unwrap();
    let (a, b) = tokio::join!(
        invoice(&app, world::HANDLER_EMAIL, &so, "race-a", &[]),
        invoice(&app, world::MANAGER_EMAIL, &so, "race-b", &[]),
    );
    assert_eq!((a.0, b.0), (202, 202), "{a:?} {b:?}");
    app.start_worker().await;
    let (stop, second) = app.second_worker();
    let handler = app.login(world::HANDLER_EMAIL).await;
    let mut outcomes = Vec::new();
    for (_, accepted) in [a, b] {
        let command = app
            .wait_for_command(&handler, accepted["command_id"].as_str().unwrap())
            .await;
        outcomes.push((
            command["status"].as_str().unwrap().to_owned(),
            command["problem"]["code"].as_str().map(str::to_owned),
        ));
    }
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("APPLIED".to_owned(), None),
            (
                "REJECTED".to_owned(),
                Some("SALES_ORDER_INVOICED".to_owned())
            )
        ]
    );
    let numbers: Vec<i64> =
        sqlx::query_scalar("SELECT last_value FROM number_sequences WHERE kind = 'invoice'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(numbers, [1], "one invoice number taken");
    drop(stop);
    second.await.unwrap().unwrap();
    app.cleanup().await;
}
