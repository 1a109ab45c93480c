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
    let response = app.submit_order(&token, "three-suppliers", &three_supplier_order()).await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "PENDING");
    let id = accepted["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/orders/{id}"));

    let order = app.wait_until_processed(&token, &id).await;
    assert_eq!(order["status"], "REGISTERED");
    assert!(order["reference"].as_str().unwrap().starts_with("MO-20"));
    assert_eq!(order["purchase_orders"].as_array().unwrap().len(), 3, "one PO per supplier");

    // EMBALSUD: 18.50 − 3 % = 17.945 → 17.95 (half away from zero; banker's would give 17.94).
    let embalsud = po_of(&order, "EMBALSUD");
    assert_eq!(amounts(line_of(embalsud, "BW-TRAY-0400")), ("17.95", "897.50", "20.00"));
    assert_eq!(amounts(line_of(embalsud, "BW-COAT-0020")), ("96.00", "288.00", "5.50"));
    // VAT per rate: 897.50 × 20 % = 179.50 and 288.00 × 5.5 % = 15.84.
    assert_eq!(totals(embalsud), ("1185.50", "195.34", "1380.84"));

    // PLASTIVAL: 14.20 − 7.5 % = 13.135 → 13.14; 10 × 49.90 at its minimum quantity.
    let plastival = po_of(&order, "PLASTIVAL");
    assert_eq!(amounts(line_of(plastival, "BW-FILM-0300")), ("13.14", "788.40", "20.00"));
    assert_eq!(amounts(line_of(plastival, "BW-PUNN-0250")), ("49.90", "499.00", "20.00"));
    assert_eq!(totals(plastival), ("1287.40", "257.48", "1544.88"));

    // ETIQLYON: 9.80 − 10 % = 8.82 from 200 units on.
    let etiqlyon = po_of(&order, "ETIQLYON");
    assert_eq!(amounts(line_of(etiqlyon, "BW-LABL-0100")), ("8.82", "1764.00", "20.00"));
    assert_eq!(amounts(line_of(etiqlyon, "BW-LABL-0110")), ("7.40", "7.40", "20.00"));
    assert_eq!(totals(etiqlyon), ("1771.40", "354.28", "2125.68"));

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
    let response = app.submit_order(&token, "pending-1", &three_supplier_order()).await;
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let pending: Value = app.get(&format!("/api/v1/orders/{id}"), &token).await.json().await.unwrap();
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["id"], id.as_str());
    assert_eq!(pending["station_id"], world::station_id(world::STATION_CODE).to_string().as_str());
    assert!(pending["reference"].is_null());
    assert_eq!(app.count("master_orders").await, 0, "nothing written before processing");
    assert_eq!(app.stream_messages("COMMANDS").await, 1, "the command waits in the stream");

    // Another station cannot see it, pending or not.
    let other = app.login(world::STATION2_EMAIL).await;
    assert_eq!(app.get(&format!("/api/v1/orders/{id}"), &other).await.status(), 404);

    app.start_worker().await;
    let order = app.wait_until_processed(&token, &id).await;
    assert_eq!(order["status"], "REGISTERED");
    assert_eq!(app.stream_messages("COMMANDS").await, 0, "acknowledged after commit");
    app.cleanup().await;
}

#[tokio::test]
async fn resubmitting_with_the_same_key_returns_the_same_order_and_another_body_conflicts() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let body = three_supplier_order();
    let first: Value = app.submit_order(&token, "same-key", &body).await.json().await.unwrap();
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
    assert_eq!(conflict.json::<Value>().await.unwrap()["code"], "IDEMPOTENCY_KEY_REUSED");

    app.wait_until_outbox_empty().await;
    assert_eq!(app.count("master_orders").await, 1);
    assert_eq!(app.count("purchase_orders").await, 3);
    assert_eq!(app.count("commands").await, 1);

    // The same key used by another user is another order.
    let handler = app.login(world::HANDLER_EMAIL).await;
    let theirs: Value = app.submit_order(&handler, "same-key", &body).await.json().await.unwrap();
    assert_ne!(theirs["id"], id.as_str());
    app.cleanup().await;
}

#[tokio::test]
async fn a_conflicting_body_is_detected_while_the_first_is_still_pending() {
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let body = three_supplier_order();
    assert_eq!(app.submit_order(&token, "pending-key", &body).await.status(), 202);
    let mut other_body = body.clone();
    other_body["notes"] = json!("something else");
    let conflict = app.submit_order(&token, "pending-key", &other_body).await;
    assert_eq!(conflict.status(), 409);
    assert_eq!(app.stream_messages("COMMANDS").await, 1, "the conflicting body was not queued");
    app.cleanup().await;
}
