//! Scoping (DESIGN.md §5.1): a STATION or SUPPLIER user asking for another organisation's
//! data gets 404 for single resources and only its own rows in lists; staff see everything.

use std::collections::BTreeSet;

use bluewhale_tests::{TestApp, three_supplier_order, world};
use chrono::Datelike;
use serde_json::{Value, json};

use crate::http_errors::problem;

/// GETs a list and checks the page envelope.
async fn list(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let body: Value = response.json().await.unwrap();
    assert!(body["items"].is_array(), "{path}: {body}");
    assert!(
        body["page"].is_u64() && body["per_page"].is_u64(),
        "{path}: {body}"
    );
    let total = body["total"].as_u64().expect("total");
    assert!(
        body["items"].as_array().unwrap().len() as u64 <= total,
        "{path}"
    );
    body
}

/// `(total, the given field of every item)` of a list.
async fn list_of(app: &TestApp, token: &str, path: &str, field: &str) -> (u64, BTreeSet<String>) {
    let body = list(app, token, path).await;
    let items = body["items"].as_array().unwrap();
    let values: BTreeSet<String> = items
        .iter()
        .map(|i| i[field].as_str().expect(field).to_owned())
        .collect();
    assert_eq!(
        values.len(),
        items.len(),
        "{path}: {field} values are distinct"
    );
    (body["total"].as_u64().unwrap(), values)
}

fn set<T: ToString>(values: impl IntoIterator<Item = T>) -> BTreeSet<String> {
    values.into_iter().map(|v| v.to_string()).collect()
}

fn po_of<'a>(order: &'a Value, supplier_code: &str) -> &'a Value {
    let supplier = world::supplier_id(supplier_code).to_string();
    order["purchase_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|po| po["supplier_id"] == supplier.as_str())
        .unwrap_or_else(|| panic!("no purchase order for {supplier_code}"))
}

/// `(total, items on this page)` of a list answer.
fn size(page: &Value) -> (Option<u64>, usize) {
    (
        page["total"].as_u64(),
        page["items"].as_array().expect("items").len(),
    )
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

fn year() -> i32 {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .year()
}

/// One processed three-supplier order for each of the two demo stations.
struct TwoStations {
    app: TestApp,
    station1: String,
    station2: String,
    order1: Value,
    order2: Value,
}

async fn two_stations_with_one_order_each() -> TwoStations {
    let app = TestApp::spawn().await;
    let station1 = app.login(world::STATION_EMAIL).await;
    let station2 = app.login(world::STATION2_EMAIL).await;
    let first = app
        .submit_order(&station1, "scoping-1", &three_supplier_order())
        .await;
    assert_eq!(first.status(), 202);
    let first = id(&first.json().await.unwrap());
    let mut body = three_supplier_order();
    body["station_id"] = json!(world::station_id(world::STATION2_CODE));
    let second = app.submit_order(&station2, "scoping-2", &body).await;
    assert_eq!(second.status(), 202);
    let second = id(&second.json().await.unwrap());
    let order1 = app.wait_until_processed(&station1, &first).await;
    let order2 = app.wait_until_processed(&station2, &second).await;
    for order in [&order1, &order2] {
        assert_eq!(order["status"], "REGISTERED", "{order}");
        assert_eq!(order["purchase_orders"].as_array().unwrap().len(), 3);
    }
    assert_eq!(
        order2["station_id"],
        world::station_id(world::STATION2_CODE).to_string().as_str()
    );
    TwoStations {
        app,
        station1,
        station2,
        order1,
        order2,
    }
}

#[tokio::test]
async fn master_orders_are_visible_to_their_own_station_and_to_staff_only() {
    let TwoStations {
        app,
        station1,
        station2,
        order1,
        order2,
    } = two_stations_with_one_order_each().await;
    let (o1, o2) = (id(&order1), id(&order2));
    let s1 = world::station_id(world::STATION_CODE);
    let s2 = world::station_id(world::STATION2_CODE);

    // Each station: its own order, 404 for the other's, its own in the list.
    for (token, own, other, own_station, other_station) in
        [(&station1, &o1, &o2, s1, s2), (&station2, &o2, &o1, s2, s1)]
    {
        assert_eq!(
            app.get(&format!("/api/v1/orders/{own}"), token)
                .await
                .status(),
            200
        );
        problem(
            app.get(&format!("/api/v1/orders/{other}"), token).await,
            404,
            "NOT_FOUND",
        )
        .await;
        let body = list(&app, token, "/api/v1/orders").await;
        assert_eq!(body["total"], 1);
        assert_eq!(set([id(&body["items"][0])]), set([own]));
        for po in body["items"][0]["purchase_orders"].as_array().unwrap() {
            assert_eq!(po["station_id"], own_station.to_string().as_str());
        }
        // A filter never widens the scope.
        let (total, _) = list_of(
            &app,
            token,
            &format!("/api/v1/orders?station_id={other_station}"),
            "id",
        )
        .await;
        assert_eq!(total, 0);
        let (total, ids) = list_of(
            &app,
            token,
            &format!(
                "/api/v1/orders?supplier_id={}",
                world::supplier_id("EMBALSUD")
            ),
            "id",
        )
        .await;
        assert_eq!((total, ids), (1, set([own])));
    }

    // Staff see both.
    for email in [
        world::ADMIN_EMAIL,
        world::MANAGER_EMAIL,
        world::HANDLER_EMAIL,
    ] {
        let staff = app.login(email).await;
        let (total, ids) = list_of(&app, &staff, "/api/v1/orders", "id").await;
        assert_eq!((total, ids), (2, set([&o1, &o2])), "{email}");
        for (order_id, expected) in [(&o1, &order1), (&o2, &order2)] {
            let response = app.get(&format!("/api/v1/orders/{order_id}"), &staff).await;
            assert_eq!(response.status(), 200, "{email}");
            assert_eq!(
                &response.json::<Value>().await.unwrap(),
                expected,
                "{email} reads what the station reads"
            );
        }
    }

    // Filters on the staff list.
    let handler = app.login(world::HANDLER_EMAIL).await;
    assert_eq!(
        list_of(
            &app,
            &handler,
            &format!("/api/v1/orders?station_id={s2}"),
            "id"
        )
        .await,
        (1, set([&o2]))
    );
    assert_eq!(
        list_of(
            &app,
            &handler,
            &format!("/api/v1/orders?station_id={s1}"),
            "id"
        )
        .await,
        (1, set([&o1]))
    );
    assert_eq!(
        list_of(
            &app,
            &handler,
            &format!(
                "/api/v1/orders?supplier_id={}",
                world::supplier_id("ETIQLYON")
            ),
            "id"
        )
        .await,
        (2, set([&o1, &o2]))
    );
    assert_eq!(
        list_of(
            &app,
            &handler,
            &format!(
                "/api/v1/orders?supplier_id={}",
                world::supplier_id("CARTONOR")
            ),
            "id"
        )
        .await
        .0,
        0
    );
    assert_eq!(
        list_of(&app, &handler, "/api/v1/orders?status=REGISTERED", "id").await,
        (2, set([&o1, &o2]))
    );
    assert_eq!(
        list_of(&app, &handler, "/api/v1/orders?status=REJECTED", "id")
            .await
            .0,
        0
    );
    assert_eq!(
        list_of(
            &app,
            &handler,
            &format!("/api/v1/orders?status=REGISTERED&station_id={s1}"),
            "id"
        )
        .await,
        (1, set([&o1]))
    );

    // A supplier sees no master order at all, even one it has a purchase order in.
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    problem(
        app.get(&format!("/api/v1/orders/{o1}"), &supplier).await,
        404,
        "NOT_FOUND",
    )
    .await;
    let body = list(&app, &supplier, "/api/v1/orders").await;
    assert_eq!(size(&body), (Some(0), 0));
    assert_eq!(
        list(
            &app,
            &supplier,
            &format!(
                "/api/v1/orders?supplier_id={}",
                world::supplier_id("EMBALSUD")
            )
        )
        .await["total"],
        0
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_pending_order_is_scoped_like_a_processed_one() {
    let app = TestApp::options().without_worker().spawn().await;
    let station1 = app.login(world::STATION_EMAIL).await;
    let response = app
        .submit_order(&station1, "pending-scope", &three_supplier_order())
        .await;
    assert_eq!(response.status(), 202);
    let order = id(&response.json().await.unwrap());
    let path = format!("/api/v1/orders/{order}");

    let own: Value = app.get(&path, &station1).await.json().await.unwrap();
    assert_eq!(own["status"], "PENDING");
    for email in [world::ADMIN_EMAIL, world::HANDLER_EMAIL] {
        let staff = app.login(email).await;
        let seen: Value = app.get(&path, &staff).await.json().await.unwrap();
        assert_eq!(
            (seen["id"].as_str(), seen["status"].as_str()),
            (Some(order.as_str()), Some("PENDING")),
            "{email}"
        );
    }
    for email in [
        world::STATION2_EMAIL,
        world::SUPPLIER_EMAIL,
        world::SUPPLIER2_EMAIL,
    ] {
        let other = app.login(email).await;
        problem(app.get(&path, &other).await, 404, "NOT_FOUND").await;
    }
    app.cleanup().await;
}

#[tokio::test]
async fn purchase_orders_are_visible_to_their_station_their_supplier_and_staff() {
    let TwoStations {
        app,
        station1,
        station2: _,
        order1,
        order2,
    } = two_stations_with_one_order_each().await;
    let s1 = world::station_id(world::STATION_CODE);
    let s2 = world::station_id(world::STATION2_CODE);
    let embalsud = world::supplier_id("EMBALSUD");
    let etiqlyon = world::supplier_id("ETIQLYON");
    let plastival = world::supplier_id("PLASTIVAL");
    let pos = |order: &Value| -> BTreeSet<String> {
        order["purchase_orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect()
    };
    let all: BTreeSet<String> = pos(&order1).union(&pos(&order2)).cloned().collect();
    assert_eq!(all.len(), 6);
    let (e1, e2) = (
        id(po_of(&order1, "EMBALSUD")),
        id(po_of(&order2, "EMBALSUD")),
    );
    let (p1, p2) = (
        id(po_of(&order1, "PLASTIVAL")),
        id(po_of(&order2, "PLASTIVAL")),
    );

    // The supplier: its own purchase orders, from both stations, and 404 for the others.
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let body = list(&app, &supplier, "/api/v1/purchase-orders").await;
    assert_eq!(body["total"], 2);
    let items = body["items"].as_array().unwrap();
    assert_eq!(set(items.iter().map(id)), set([&e1, &e2]));
    for po in items {
        assert_eq!(po["supplier_id"], embalsud.to_string().as_str());
    }
    assert_eq!(
        set(items
            .iter()
            .map(|po| po["master_order_id"].as_str().unwrap())),
        set([id(&order1), id(&order2)])
    );
    for own in [&e1, &e2] {
        let response = app
            .get(&format!("/api/v1/purchase-orders/{own}"), &supplier)
            .await;
        assert_eq!(response.status(), 200);
        let po: Value = response.json().await.unwrap();
        let from_order = if *own == e1 {
            po_of(&order1, "EMBALSUD")
        } else {
            po_of(&order2, "EMBALSUD")
        };
        assert_eq!(
            &po, from_order,
            "the PO reads the same alone and within its order"
        );
    }
    for other in [&p1, &p2, &id(po_of(&order1, "ETIQLYON"))] {
        problem(
            app.get(&format!("/api/v1/purchase-orders/{other}"), &supplier)
                .await,
            404,
            "NOT_FOUND",
        )
        .await;
    }
    assert_eq!(
        list_of(
            &app,
            &supplier,
            &format!("/api/v1/purchase-orders?supplier_id={plastival}"),
            "id"
        )
        .await
        .0,
        0
    );
    assert_eq!(
        list_of(
            &app,
            &supplier,
            &format!("/api/v1/purchase-orders?station_id={s2}"),
            "id"
        )
        .await,
        (1, set([&e2]))
    );
    assert_eq!(
        list_of(
            &app,
            &supplier,
            "/api/v1/purchase-orders?status=REGISTERED",
            "id"
        )
        .await,
        (2, set([&e1, &e2]))
    );
    assert_eq!(
        list_of(
            &app,
            &supplier,
            "/api/v1/purchase-orders?status=SHIPPED",
            "id"
        )
        .await
        .0,
        0
    );

    // The other supplier: its own only.
    let supplier2 = app.login(world::SUPPLIER2_EMAIL).await;
    assert_eq!(
        list_of(&app, &supplier2, "/api/v1/purchase-orders", "id").await,
        (2, set([&p1, &p2]))
    );
    problem(
        app.get(&format!("/api/v1/purchase-orders/{e1}"), &supplier2)
            .await,
        404,
        "NOT_FOUND",
    )
    .await;

    // A station: its own purchase orders (all suppliers), 404 for the other station's.
    assert_eq!(
        list_of(&app, &station1, "/api/v1/purchase-orders", "id").await,
        (3, pos(&order1))
    );
    for po in list(&app, &station1, "/api/v1/purchase-orders").await["items"]
        .as_array()
        .unwrap()
    {
        assert_eq!(po["station_id"], s1.to_string().as_str());
    }
    assert_eq!(
        app.get(&format!("/api/v1/purchase-orders/{e1}"), &station1)
            .await
            .status(),
        200
    );
    problem(
        app.get(&format!("/api/v1/purchase-orders/{e2}"), &station1)
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(
        list_of(
            &app,
            &station1,
            &format!("/api/v1/purchase-orders?station_id={s2}"),
            "id"
        )
        .await
        .0,
        0
    );
    assert_eq!(
        list_of(
            &app,
            &station1,
            &format!("/api/v1/purchase-orders?supplier_id={etiqlyon}"),
            "id"
        )
        .await,
        (1, set([id(po_of(&order1, "ETIQLYON"))]))
    );

    // Staff: all six, and the filters.
    let manager = app.login(world::MANAGER_EMAIL).await;
    assert_eq!(
        list_of(&app, &manager, "/api/v1/purchase-orders", "id").await,
        (6, all.clone())
    );
    assert_eq!(
        list_of(
            &app,
            &manager,
            &format!("/api/v1/purchase-orders?station_id={s2}"),
            "id"
        )
        .await,
        (3, pos(&order2))
    );
    assert_eq!(
        list_of(
            &app,
            &manager,
            &format!("/api/v1/purchase-orders?supplier_id={etiqlyon}"),
            "id"
        )
        .await,
        (
            2,
            set([
                id(po_of(&order1, "ETIQLYON")),
                id(po_of(&order2, "ETIQLYON"))
            ])
        )
    );
    assert_eq!(
        list_of(
            &app,
            &manager,
            &format!("/api/v1/purchase-orders?station_id={s1}&supplier_id={etiqlyon}"),
            "id"
        )
        .await,
        (1, set([id(po_of(&order1, "ETIQLYON"))]))
    );
    assert_eq!(
        list_of(
            &app,
            &manager,
            "/api/v1/purchase-orders?status=REGISTERED",
            "id"
        )
        .await,
        (6, all)
    );
    assert_eq!(
        list_of(
            &app,
            &manager,
            "/api/v1/purchase-orders?status=CANCELLED",
            "id"
        )
        .await
        .0,
        0
    );
    // Pagination over the six.
    let page = list(&app, &manager, "/api/v1/purchase-orders?per_page=4&page=2").await;
    assert_eq!(size(&page), (Some(6), 2));
    app.cleanup().await;
}

#[tokio::test]
async fn stations_and_suppliers_lists_are_scoped() {
    let TwoStations {
        app,
        station1,
        station2: _,
        order1: _,
        order2: _,
    } = two_stations_with_one_order_each().await;
    let all_stations = set(world::STATIONS.iter().map(|s| s.code));
    let all_suppliers = set(world::SUPPLIERS.iter().map(|s| s.code));

    // A station sees itself only, and every supplier (it orders from them).
    assert_eq!(
        list_of(&app, &station1, "/api/v1/stations", "code").await,
        (1, set([world::STATION_CODE]))
    );
    let own = list(&app, &station1, "/api/v1/stations").await;
    assert_eq!(
        own["items"][0]["id"],
        world::station_id(world::STATION_CODE).to_string().as_str()
    );
    assert_eq!(
        list_of(&app, &station1, "/api/v1/suppliers", "code").await,
        (5, all_suppliers.clone())
    );

    // A supplier sees the stations it has purchase orders for, and itself only.
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    assert_eq!(
        list_of(&app, &supplier, "/api/v1/stations", "code").await,
        (2, set([world::STATION_CODE, world::STATION2_CODE]))
    );
    assert_eq!(
        list_of(&app, &supplier, "/api/v1/suppliers", "code").await,
        (1, set([world::SUPPLIER_CODE]))
    );
    let supplier2 = app.login(world::SUPPLIER2_EMAIL).await;
    assert_eq!(
        list_of(&app, &supplier2, "/api/v1/suppliers", "code").await,
        (1, set([world::SUPPLIER2_CODE]))
    );

    // Staff see everything.
    let admin = app.login(world::ADMIN_EMAIL).await;
    assert_eq!(
        list_of(&app, &admin, "/api/v1/stations", "code").await,
        (5, all_stations)
    );
    assert_eq!(
        list_of(&app, &admin, "/api/v1/suppliers", "code").await,
        (5, all_suppliers)
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_supplier_without_purchase_orders_sees_no_station() {
    let app = TestApp::options().without_worker().spawn().await;
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let body = list(&app, &supplier, "/api/v1/stations").await;
    assert_eq!(size(&body), (Some(0), 0));
    app.cleanup().await;
}

#[tokio::test]
async fn contracts_are_scoped_to_their_supplier_and_readable_by_stations() {
    let app = TestApp::options().without_worker().spawn().await;
    let seeded = world::contracts(year()).expect("contracts of this year");
    assert_eq!(seeded.len(), 7);
    let numbers = |keep: &dyn Fn(&world::ContractSeed) -> bool| -> BTreeSet<String> {
        seeded
            .iter()
            .filter(|c| keep(c))
            .map(|c| c.number.clone())
            .collect()
    };
    let number_of = |supplier: &str, status: &str| -> String {
        let found = numbers(&|c| c.terms.supplier == supplier && c.status == status);
        assert_eq!(found.len(), 1, "{supplier} {status}");
        found.into_iter().next().unwrap()
    };
    let id_of = |number: &str| world::contract_id(number);
    let all = numbers(&|_| true);

    // Staff read every contract (so the 404s below are about scope, not about missing ids).
    let handler = app.login(world::HANDLER_EMAIL).await;
    assert_eq!(
        list_of(&app, &handler, "/api/v1/contracts", "number").await,
        (7, all.clone())
    );
    for number in &all {
        let response = app
            .get(&format!("/api/v1/contracts/{}", id_of(number)), &handler)
            .await;
        assert_eq!(response.status(), 200, "{number}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["number"],
            number.as_str()
        );
    }

    // The supplier: its own contracts, whatever their status (ACTIVE this year, EXPIRED last).
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let own = numbers(&|c| c.terms.supplier == "EMBALSUD");
    assert_eq!(own.len(), 2);
    assert_eq!(
        list_of(&app, &supplier, "/api/v1/contracts", "number").await,
        (2, own.clone())
    );
    for contract in list(&app, &supplier, "/api/v1/contracts").await["items"]
        .as_array()
        .unwrap()
    {
        assert_eq!(
            contract["supplier_id"],
            world::supplier_id("EMBALSUD").to_string().as_str()
        );
    }
    for status in ["ACTIVE", "EXPIRED", "DRAFT", "SUSPENDED", "TERMINATED"] {
        let expected = numbers(&|c| c.terms.supplier == "EMBALSUD" && c.status == status);
        let listed = list_of(
            &app,
            &supplier,
            &format!("/api/v1/contracts?status={status}"),
            "number",
        )
        .await;
        assert_eq!(listed, (expected.len() as u64, expected), "{status}");
    }
    let cartonor = world::supplier_id("CARTONOR");
    assert_eq!(
        list_of(
            &app,
            &supplier,
            &format!("/api/v1/contracts?supplier_id={cartonor}"),
            "number"
        )
        .await
        .0,
        0
    );
    for other in all.difference(&own) {
        let path = format!("/api/v1/contracts/{}", id_of(other));
        problem(app.get(&path, &supplier).await, 404, "NOT_FOUND").await;
    }
    for mine in &own {
        assert_eq!(
            app.get(&format!("/api/v1/contracts/{}", id_of(mine)), &supplier)
                .await
                .status(),
            200
        );
    }
    let active = number_of("EMBALSUD", "ACTIVE");
    let response = app
        .get(&format!("/api/v1/contracts/{}", id_of(&active)), &supplier)
        .await;
    let contract: Value = response.json().await.unwrap();
    let y = year();
    assert_eq!(contract["status"], "ACTIVE");
    assert_eq!(contract["currency"], "EUR");
    assert_eq!(contract["valid_from"], format!("{y}-01-01").as_str());
    assert_eq!(contract["valid_until"], format!("{y}-12-31").as_str());
    assert_eq!(contract["minimum_order_value"], "150.00");
    assert_eq!(contract["lines"].as_array().unwrap().len(), 8);
    let tray = contract["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_id"] == world::product_id("BW-TRAY-0400").to_string().as_str())
        .expect("BW-TRAY-0400 line");
    assert_eq!(tray["unit_price"], "18.50");
    assert_eq!(tray["min_order_quantity"], 5);
    assert_eq!(tray["tax_rate"], "20.00");
    assert_eq!(
        tray["price_breaks"],
        json!([{"min_quantity": 50, "reduction_percent": "3.00"}, {"min_quantity": 200, "reduction_percent": "6.00"}])
    );

    // The other supplier: its own only.
    let supplier2 = app.login(world::SUPPLIER2_EMAIL).await;
    assert_eq!(
        list_of(&app, &supplier2, "/api/v1/contracts", "number").await,
        (1, BTreeSet::from([number_of("PLASTIVAL", "ACTIVE")]))
    );

    // A station reads every contract, and the filters work.
    let station = app.login(world::STATION_EMAIL).await;
    assert_eq!(
        list_of(&app, &station, "/api/v1/contracts", "number").await,
        (7, all.clone())
    );
    assert_eq!(
        list_of(&app, &station, "/api/v1/contracts?status=DRAFT", "number").await,
        (1, BTreeSet::from([number_of("CARTONOR", "DRAFT")]))
    );
    assert_eq!(
        list_of(&app, &station, "/api/v1/contracts?status=ACTIVE", "number").await,
        (5, numbers(&|c| c.status == "ACTIVE"))
    );
    assert_eq!(
        list_of(
            &app,
            &station,
            &format!("/api/v1/contracts?supplier_id={cartonor}"),
            "number"
        )
        .await,
        (2, numbers(&|c| c.terms.supplier == "CARTONOR"))
    );
    assert_eq!(
        list_of(
            &app,
            &station,
            &format!("/api/v1/contracts?supplier_id={cartonor}&status=ACTIVE"),
            "number"
        )
        .await,
        (1, BTreeSet::from([number_of("CARTONOR", "ACTIVE")]))
    );
    for number in &all {
        assert_eq!(
            app.get(&format!("/api/v1/contracts/{}", id_of(number)), &station)
                .await
                .status(),
            200,
            "{number}"
        );
    }
    // Pagination of contracts.
    let page = list(&app, &station, "/api/v1/contracts?per_page=3&page=3").await;
    assert_eq!(size(&page), (Some(7), 1));
    app.cleanup().await;
}

#[tokio::test]
async fn the_whole_catalogue_is_listed_page_by_page() {
    let app = TestApp::options().without_worker().spawn().await;
    let mut expected: Vec<&str> = world::PRODUCTS.iter().map(|p| p.code).collect();
    expected.sort_unstable();
    assert_eq!(expected.len(), 30);
    for email in [world::STATION_EMAIL, world::SUPPLIER_EMAIL] {
        let token = app.login(email).await;
        let first = list(&app, &token, "/api/v1/products").await;
        assert_eq!(
            (
                first["page"].as_u64(),
                first["per_page"].as_u64(),
                first["total"].as_u64()
            ),
            (Some(1), Some(20), Some(30))
        );
        assert_eq!(first["items"].as_array().unwrap().len(), 20);

        let mut codes = Vec::new();
        for page in 1..=5u64 {
            let body = list(
                &app,
                &token,
                &format!("/api/v1/products?per_page=7&page={page}"),
            )
            .await;
            assert_eq!(
                (
                    body["page"].as_u64(),
                    body["per_page"].as_u64(),
                    body["total"].as_u64()
                ),
                (Some(page), Some(7), Some(30))
            );
            let items = body["items"].as_array().unwrap();
            assert_eq!(items.len(), if page == 5 { 2 } else { 7 }, "page {page}");
            codes.extend(items.iter().map(|p| p["code"].as_str().unwrap().to_owned()));
        }
        assert_eq!(
            codes, expected,
            "{email}: every product once, in code order"
        );
        let beyond = list(&app, &token, "/api/v1/products?per_page=7&page=6").await;
        assert_eq!(
            (
                beyond["items"].as_array().unwrap().len(),
                beyond["total"].as_u64()
            ),
            (0, Some(30))
        );

        // The discontinued product is listed, flagged inactive.
        let all = list(&app, &token, "/api/v1/products?per_page=100").await;
        let inactive: Vec<_> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["active"] == false)
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert_eq!(inactive, [world::INACTIVE_PRODUCT]);
    }
    app.cleanup().await;
}
