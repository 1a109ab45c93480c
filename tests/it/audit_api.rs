//! The audit API (issue 9 §4): the whole trail for administrators and managers, filtered and
//! keyset-paged newest first; an order's and a purchase order's trail visible like them.

use bluewhale_tests::{TestApp, world};
use serde_json::Value;

use crate::http_errors::problem;

fn ids_and_times(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["at"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn staff_read_the_trail_filtered_and_paged_newest_first() {
    let app = TestApp::options().without_worker().spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let _ = app.login(world::SUPPLIER_EMAIL).await;
    let admin = app.login(world::ADMIN_EMAIL).await;
    let first = app
        .get_json("/api/v1/audit?action=login&limit=2", &admin)
        .await;
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|e| e["action"] == "LOGIN"));
    // Newest first: the admin's own login, then the supplier's.
    assert_eq!(
        items[0]["actor"]["user_id"],
        world::user_id(world::ADMIN_EMAIL).to_string()
    );
    assert_eq!(items[0]["entity"]["type"], "user");
    assert_eq!(items[0]["client"]["address"], "127.0.0.1");
    assert_eq!(items[0]["actor"]["organization"]["type"], "BLUEWHALE");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = app
        .get_json(
            &format!("/api/v1/audit?action=LOGIN&limit=2&cursor={cursor}"),
            &admin,
        )
        .await;
    let rest = ids_and_times(&second);
    assert_eq!(rest.len(), 1, "three logins in all");
    assert_eq!(second["next_cursor"], Value::Null);
    assert!(
        rest[0].1 <= ids_and_times(&first)[1].1,
        "older than the first page"
    );
    assert_eq!(
        second["items"][0]["actor"]["user_id"],
        world::user_id(world::STATION_EMAIL).to_string()
    );
    let by_actor = app
        .get_json(
            &format!(
                "/api/v1/audit?actor_id={}",
                world::user_id(world::SUPPLIER_EMAIL)
            ),
            &admin,
        )
        .await;
    assert_eq!(by_actor["items"].as_array().unwrap().len(), 1);

    // Who may read it, and bad filters.
    problem(app.get("/api/v1/audit", &station).await, 403, "FORBIDDEN").await;
    for (query, field) in [
        ("action=LOG%00IN", "action"),
        ("limit=0", "limit"),
        ("cursor=forged", "cursor"),
        ("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to"),
        ("entity_id=not-a-uuid", "entity_id"),
    ] {
        let refused = problem(
            app.get(&format!("/api/v1/audit?{query}"), &admin).await,
            422,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(refused["errors"][0]["field"], field, "{query}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn an_orders_trail_is_visible_like_the_order() {
    let app = TestApp::spawn().await;
    let order = app.priced_order("audited-order").await;
    let id = order["id"].as_str().unwrap();
    let station = app.login(world::STATION_EMAIL).await;
    let trail = app
        .get_json(&format!("/api/v1/orders/{id}/audit"), &station)
        .await;
    let kinds: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entity"]["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"master_order"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "purchase_order").count(),
        3,
        "one creation per purchase order: {kinds:?}"
    );
    let po = order["purchase_orders"][0]["id"].as_str().unwrap();
    let handler = app.login(world::HANDLER_EMAIL).await;
    let po_trail = app
        .get_json(&format!("/api/v1/purchase-orders/{po}/audit"), &handler)
        .await;
    let items = po_trail["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["action"], "CREATE");
    assert_eq!(items[0]["entity"]["id"], po);
    assert!(items[0]["command_id"].is_string());

    let other = app.login(world::STATION2_EMAIL).await;
    for path in [
        format!("/api/v1/orders/{id}/audit"),
        format!("/api/v1/purchase-orders/{po}/audit"),
    ] {
        problem(app.get(&path, &other).await, 404, "NOT_FOUND").await;
    }
    app.cleanup().await;
}
