//! A station's cart on the command path: items put, changed and removed; a preview priced
//! by the worker's own functions that agrees with the priced order to the cent and shows a
//! minimum-order-value shortfall with the amount missing; refusals that publish nothing;
//! racing changes that lose nothing.

use bluewhale_tests::{TestApp, world};
use reqwest::Method;
use serde_json::{Value, json};

fn cart_path() -> String {
    format!(
        "/api/v1/stations/{}/cart",
        world::station_id(world::STATION_CODE)
    )
}

fn item(product: &str, supplier: &str, quantity: u32) -> Value {
    json!({
        "product_id": world::product_id(product),
        "supplier_id": world::supplier_id(supplier),
        "quantity": quantity,
    })
}

/// Puts an item as `email` and waits: the cart afterwards (200) or the refusal.
async fn put(app: &TestApp, email: &str, key: &str, body: Value) -> (u16, Value) {
    let token = app.login(email).await;
    let response = app
        .write_with(
            Method::PUT,
            &format!("{}/items", cart_path()),
            &token,
            key,
            &body,
            &[("Prefer", "wait=10")],
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_preview_shows_the_would_be_purchase_orders_and_agrees_with_the_priced_order() {
    let app = TestApp::spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let empty = app.get_json(&cart_path(), &station).await;
    assert_eq!(
        (empty["version"].as_i64(), empty["cart_id"].is_null()),
        (Some(0), true)
    );
    assert_eq!(empty["preview"]["ready"], false);

    for (key, body) in [
        ("tray", item("BW-TRAY-0400", "EMBALSUD", 50)),
        ("film", item("BW-FILM-0150", "PLASTIVAL", 1)),
        ("label", item("BW-LABL-0110", "ETIQLYON", 3)),
    ] {
        let (status, cart) = put(&app, world::STATION_EMAIL, key, body).await;
        assert_eq!(status, 200, "{cart}");
    }
    let cart = app.get_json(&cart_path(), &station).await;
    assert_eq!(cart["version"], 3);
    let items = cart["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0]["added_by"],
        world::user_id(world::STATION_EMAIL).to_string()
    );
    let preview = &cart["preview"];
    // PLASTIVAL's purchase order is 61.30, below its 200.00 minimum: 138.70 missing.
    assert_eq!(preview["ready"], false);
    assert_eq!(preview["shortfalls"].as_array().unwrap().len(), 1);
    let shortfall = &preview["shortfalls"][0];
    assert_eq!(
        shortfall["supplier_id"],
        world::supplier_id("PLASTIVAL").to_string()
    );
    assert_eq!(shortfall["minimum_order_value"], "200.00");
    assert_eq!(shortfall["total_excluding_tax"], "61.30");
    assert_eq!(shortfall["missing"], "138.70");
    assert_eq!(preview["problems"][0]["index"], 1);
    assert_eq!(preview["problems"][0]["code"], "BELOW_MINIMUM_ORDER_VALUE");
    let pos = preview["purchase_orders"].as_array().unwrap();
    assert_eq!(
        pos.len(),
        3,
        "the would-be purchase order below its minimum is shown too"
    );
    // EMBALSUD: 18.50 less 3 % from 50 = 17.945 → 17.95 × 50 = 897.50, VAT 179.50.
    assert_eq!(pos[0]["lines"][0]["unit_price"], "17.95");
    assert_eq!(pos[0]["lines"][0]["reduction_percent"], "3.00");
    assert_eq!(pos[0]["total_excluding_tax"], "897.50");
    assert_eq!(pos[0]["tax_amount"], "179.50");

    // The station fixes the quantity: 4 × 61.30 = 245.20, and the cart is ready.
    let (status, fixed) = put(
        &app,
        world::STATION_EMAIL,
        "film-4",
        item("BW-FILM-0150", "PLASTIVAL", 4),
    )
    .await;
    assert_eq!(status, 200);
    let preview = &fixed["preview"];
    assert_eq!(preview["ready"], true, "{preview}");
    assert!(preview["shortfalls"].as_array().unwrap().is_empty());
    // 897.50 + 245.20 + 3 × 7.40 = 1164.90 excluding VAT, 20 % on all: 232.98.
    assert_eq!(preview["total_excluding_tax"], "1164.90");
    assert_eq!(preview["tax_amount"], "232.98");
    assert_eq!(preview["total_including_tax"], "1397.88");

    // The same lines ordered are priced exactly as previewed.
    let lines: Vec<Value> = fixed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"product_id": i["product_id"], "supplier_id": i["supplier_id"], "quantity": i["quantity"]}))
        .collect();
    let order_id = app
        .accept_order(
            &station,
            "as-previewed",
            &json!({"station_id": world::station_id(world::STATION_CODE), "lines": lines}),
        )
        .await;
    let order = app.wait_until_processed(&station, &order_id).await;
    for field in ["total_excluding_tax", "tax_amount", "total_including_tax"] {
        assert_eq!(order[field], preview[field], "{field}");
    }
    for (priced, previewed) in order["purchase_orders"]
        .as_array()
        .unwrap()
        .iter()
        .zip(preview["purchase_orders"].as_array().unwrap())
    {
        assert_eq!(priced["supplier_id"], previewed["supplier_id"]);
        assert_eq!(
            priced["total_including_tax"],
            previewed["total_including_tax"]
        );
        for (a, b) in priced["lines"]
            .as_array()
            .unwrap()
            .iter()
            .zip(previewed["lines"].as_array().unwrap())
        {
            assert_eq!(
                (&a["unit_price"], &a["line_total"], &a["contract_id"]),
                (&b["unit_price"], &b["line_total"], &b["contract_id"])
            );
        }
    }

    // Removing, removing again (404), a stale If-Match (412), emptying.
    let delete = |query: String, key: &'static str, headers: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let station = station.clone();
        async move {
            let mut all = vec![("Prefer", "wait=10")];
            all.extend(headers);
            let response = app
                .write_with(Method::DELETE, &query, &station, key, &Value::Null, &all)
                .await;
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let label = format!(
        "{}/items?product_id={}&supplier_id={}",
        cart_path(),
        world::product_id("BW-LABL-0110"),
        world::supplier_id("ETIQLYON")
    );
    let (status, cart) = delete(label.clone(), "remove", vec![]).await;
    assert_eq!(
        (status, cart["items"].as_array().map(Vec::len)),
        (200, Some(2))
    );
    let (status, problem) = delete(label, "remove-again", vec![]).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, problem) = delete(cart_path(), "stale-empty", vec![("If-Match", "\"2\"")]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (412, Some("PRECONDITION_FAILED"))
    );
    let (status, emptied) = delete(cart_path(), "empty", vec![("If-Match", "\"5\"")]).await;
    assert_eq!(status, 200, "{emptied}");
    assert!(emptied["items"].as_array().unwrap().is_empty());
    assert_eq!(emptied["version"], 6);
    // Every change is audited with the items before and after.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE entity_type = 'cart' AND changes ? 'items'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 6);
    app.cleanup().await;
}

#[tokio::test]
async fn carts_are_the_stations_and_bad_items_are_refused_publishing_nothing() {
    let app = TestApp::spawn().await;
    let before = app.count("commands").await;
    // Another station's user: 404; a supplier: 403.
    let other = app.login(world::STATION2_EMAIL).await;
    assert_eq!(app.get(&cart_path(), &other).await.status(), 404);
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    assert_eq!(app.get(&cart_path(), &supplier).await.status(), 403);
    let (status, _) = put(
        &app,
        world::STATION2_EMAIL,
        "other",
        item("BW-TRAY-0400", "EMBALSUD", 1),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = put(
        &app,
        world::SUPPLIER_EMAIL,
        "supplier",
        item("BW-TRAY-0400", "EMBALSUD", 1),
    )
    .await;
    assert_eq!(status, 403);
    // Unknown product, too many units.
    let unknown = json!({"product_id": uuid::Uuid::from_u128(7), "supplier_id": world::supplier_id("EMBALSUD"), "quantity": 1});
    let (status, problem) = put(&app, world::STATION_EMAIL, "unknown", unknown).await;
    assert_eq!(status, 422);
    assert_eq!(
        (
            problem["errors"][0]["field"].as_str(),
            problem["errors"][0]["code"].as_str()
        ),
        (Some("product_id"), Some("UNKNOWN_PRODUCT"))
    );
    let (status, problem) = put(
        &app,
        world::STATION_EMAIL,
        "huge",
        item("BW-TRAY-0400", "EMBALSUD", 1_000_001),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("quantity"))
    );
    assert_eq!(app.count("commands").await, before);
    assert_eq!(app.stream_messages("COMMANDS").await, 0);
    assert_eq!(app.count("carts").await, 0);

    // Staff fill a station's cart too; the station sees who did.
    let (status, cart) = put(
        &app,
        world::HANDLER_EMAIL,
        "by-staff",
        item("BW-TRAY-0400", "EMBALSUD", 5),
    )
    .await;
    assert_eq!(status, 200, "{cart}");
    assert_eq!(
        cart["items"][0]["added_by"],
        world::user_id(world::HANDLER_EMAIL).to_string()
    );
    app.cleanup().await;
}

#[tokio::test]
async fn racing_changes_of_one_cart_lose_nothing() {
    // One command per batch, two concurrent batches: the first items of an empty cart race.
    let app = TestApp::options()
        .env("BW_WORKER_BATCH_SIZE", "1")
        .spawn()
        .await;
    let products = [
        "BW-TRAY-0400",
        "BW-TRAY-0500",
        "BW-TRAY-1000",
        "BW-PUNN-0250",
    ];
    let puts = products.iter().map(|product| {
        let app = &app;
        async move {
            put(
                app,
                world::STATION_EMAIL,
                product,
                item(product, "EMBALSUD", 10),
            )
            .await
            .0
        }
    });
    let statuses = futures::future::join_all(puts).await;
    assert_eq!(statuses, [200, 200, 200, 200]);
    let station = app.login(world::STATION_EMAIL).await;
    let cart = app.get_json(&cart_path(), &station).await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 4, "{cart}");
    assert_eq!(cart["version"], 4);
    assert_eq!(app.count("carts").await, 1);
    app.cleanup().await;
}

/// Checks the cart out as the demo station: status and body.
async fn checkout(app: &TestApp, key: &str, wait: bool) -> (u16, Value) {
    let token = app.login(world::STATION_EMAIL).await;
    let headers: &[(&str, &str)] = if wait { &[("Prefer", "wait=10")] } else { &[] };
    let response = app
        .write(
            &format!("{}/checkout", cart_path()),
            &token,
            key,
            &json!({"notes": "from the cart"}),
            headers,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn checking_out_turns_the_cart_into_the_previewed_order_and_archives_it() {
    let app = TestApp::spawn().await;
    for (key, body) in [
        ("tray", item("BW-TRAY-0400", "EMBALSUD", 50)),
        ("label", item("BW-LABL-0110", "ETIQLYON", 3)),
    ] {
        assert_eq!(put(&app, world::STATION_EMAIL, key, body).await.0, 200);
    }
    let station = app.login(world::STATION_EMAIL).await;
    let before = app.get_json(&cart_path(), &station).await;
    let preview = &before["preview"];
    assert_eq!(preview["ready"], true, "{preview}");

    let (status, order) = checkout(&app, "check-out", true).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "REGISTERED");
    for field in ["total_excluding_tax", "tax_amount", "total_including_tax"] {
        assert_eq!(order[field], preview[field], "{field}");
    }
    let lines: Vec<(Value, Value)> = order["purchase_orders"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|po| po["lines"].as_array().unwrap().clone())
        .map(|l| (l["product_id"].clone(), l["quantity"].clone()))
        .collect();
    assert_eq!(lines.len(), 2);
    // Archived with the order: the station's open cart is a new, empty one.
    let after = app.get_json(&cart_path(), &station).await;
    assert_eq!(
        (after["version"].as_i64(), after["cart_id"].is_null()),
        (Some(0), true)
    );
    let (status, master): (String, Option<uuid::Uuid>) =
        sqlx::query_as("SELECT status, master_order_id FROM carts WHERE id = $1::uuid")
            .bind(before["cart_id"].as_str().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "CHECKED_OUT");
    assert_eq!(master.unwrap().to_string(), order["id"].as_str().unwrap());
    // The same key again is the same order; another key finds an empty cart.
    let (status, again) = checkout(&app, "check-out", true).await;
    assert_eq!((status, &again["id"]), (201, &order["id"]));
    let (status, problem) = checkout(&app, "check-out-again", true).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "items");
    assert_eq!(problem["errors"][0]["code"], "EMPTY_CART");
    app.cleanup().await;
}

#[tokio::test]
async fn a_rejected_checkout_keeps_the_cart_and_a_second_one_waits_its_turn() {
    let mut app = TestApp::spawn().await;
    // PLASTIVAL's purchase order would be 61.30, below its 200.00 minimum.
    assert_eq!(
        put(
            &app,
            world::STATION_EMAIL,
            "film",
            item("BW-FILM-0150", "PLASTIVAL", 1)
        )
        .await
        .0,
        200
    );
    let (status, problem) = checkout(&app, "too-small", true).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "ORDER_REJECTED");
    assert_eq!(problem["errors"][0]["code"], "BELOW_MINIMUM_ORDER_VALUE");
    let station = app.login(world::STATION_EMAIL).await;
    let kept = app.get_json(&cart_path(), &station).await;
    assert_eq!(
        kept["items"].as_array().unwrap().len(),
        1,
        "the cart is there to fix"
    );
    assert_eq!(
        put(
            &app,
            world::STATION_EMAIL,
            "film-4",
            item("BW-FILM-0150", "PLASTIVAL", 4)
        )
        .await
        .0,
        200
    );

    // While a checkout waits in the queue, a checkout with another key is refused.
    app.stop_worker().await.unwrap();
    let (status, accepted) = checkout(&app, "first", false).await;
    assert_eq!(status, 202, "{accepted}");
    let order_id = accepted["id"].as_str().unwrap().to_owned();
    let (status, problem) = checkout(&app, "second", false).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("CHECKOUT_PENDING"))
    );
    assert_eq!(
        app.stream_messages("COMMANDS").await,
        1,
        "the refusal published nothing"
    );
    // The waiting order reads PENDING, and its command names the order.
    assert_eq!(
        app.get_order(&station, &order_id).await["status"],
        "PENDING"
    );
    let command = app
        .get_json(&format!("/api/v1/commands/{order_id}"), &station)
        .await;
    assert_eq!(command["resource"]["id"], order_id.as_str());
    app.start_worker().await;
    let order = app.wait_until_processed(&station, &order_id).await;
    assert_eq!(order["status"], "REGISTERED");
    assert_eq!(order["total_excluding_tax"], "245.20");
    let after = app.get_json(&cart_path(), &station).await;
    assert!(after["items"].as_array().unwrap().is_empty());
    app.cleanup().await;
}
