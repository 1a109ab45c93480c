//! Master data on the command path: products, suppliers with their sites, station groups and
//! stations created, patched and deactivated by staff; stored values, audit rows and the
//! refusals (403 role, 404, 409 taken code, 412 stale If-Match, 422 per field); and pricing
//! refusing a product or a supplier deactivated through the API from the next order on.

use bluewhale_tests::{TestApp, world};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

fn product_body(code: &str) -> Value {
    json!({
        "code": code,
        "name": "Tray 600 g",
        "category": "TRAY",
        "conditioning_unit": "box_of_100",
        "quantity_per_conditioning": 100,
    })
}

/// `(action, changes, reason)` of the audit rows of an entity, oldest first.
async fn audit_rows(
    app: &TestApp,
    entity_type: &str,
    id: &str,
) -> Vec<(String, Value, Option<String>)> {
    sqlx::query_as(
        "SELECT action, changes, reason FROM audit_log WHERE entity_type = $1 AND entity_id::text = $2 \
         ORDER BY occurred_at, id",
    )
    .bind(entity_type)
    .bind(id)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

fn codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_owned(),
                        e["code"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn products_are_created_patched_and_refused_on_the_command_path() {
    let app = TestApp::spawn().await;
    let post = (Method::POST, "/api/v1/products");

    // Roles that may never write master data: 403, nothing published or written.
    for (email, key) in [(world::STATION_EMAIL, "st"), (world::HANDLER_EMAIL, "ha")] {
        let (status, _, problem) = app
            .write_waiting(email, post.clone(), key, &product_body("BW-NEW-1"), &[])
            .await;
        assert_eq!(status, 403, "{problem}");
    }
    // A field error per field: 422.
    let mut bad = product_body("a b");
    bad["quantity_per_conditioning"] = json!(0);
    bad["name"] = json!(" ");
    let (status, _, problem) = app
        .write_waiting(world::MANAGER_EMAIL, post.clone(), "bad", &bad, &[])
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        codes(&problem),
        [
            ("code".to_owned(), "INVALID_CODE".to_owned()),
            ("name".to_owned(), "REQUIRED".to_owned()),
            (
                "quantity_per_conditioning".to_owned(),
                "OUT_OF_RANGE".to_owned()
            ),
        ]
    );
    assert_eq!(app.stream_messages("COMMANDS").await, 0);
    assert_eq!(app.count("commands").await, 0);

    // Created: 201 with the product at version 1.
    let (status, etag, created) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            post.clone(),
            "create",
            &product_body("BW-NEW-1"),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    let id = created["id"].as_str().unwrap().to_owned();
    let stored: (String, String, i32, bool, i32) = sqlx::query_as(
        "SELECT code, conditioning_unit, quantity_per_conditioning, active, version FROM products WHERE id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        stored,
        ("BW-NEW-1".into(), "box_of_100".into(), 100, true, 1)
    );
    // The same key and body again: the same product, nothing new.
    let (status, _, again) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            post.clone(),
            "create",
            &product_body("BW-NEW-1"),
            &[],
        )
        .await;
    assert_eq!((status, again["id"].as_str()), (201, Some(id.as_str())));

    // Another product with a taken code: 409, also for a seeded one.
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            post.clone(),
            "dup",
            &product_body("BW-NEW-1"),
            &[],
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("PRODUCT_CODE_TAKEN")),
        "{problem}"
    );
    let one = format!("/api/v1/products/{id}");
    let (status, _, problem) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::PATCH, &one),
            "rename-taken",
            &json!({"code": "BW-TRAY-0400"}),
            &[],
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("PRODUCT_CODE_TAKEN")),
        "{problem}"
    );

    // Patched with the version read: 200 at version 2; the stale version again: 412.
    let patch = json!({"name": "Tray 600 g, recycled", "description": "rPET"});
    let (status, etag, patched) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &one),
            "patch",
            &patch,
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(patched["description"], "rPET");
    assert_eq!(patched["code"], "BW-NEW-1");
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &one),
            "stale",
            &json!({"active": false}),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (412, Some("PRECONDITION_FAILED")),
        "{problem}"
    );
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &one),
            "zero",
            &json!({"quantity_per_conditioning": 0}),
            &[],
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    // An entity tag naming no version is judged after the fields: a request refused without
    // its precondition is refused for that (RFC 9110 §13.2.1); with valid fields, it is 412.
    for (key, body, expected) in [
        (
            "blank-untagged",
            json!({"name": " "}),
            (422, "VALIDATION_FAILED"),
        ),
        (
            "valid-untagged",
            json!({"name": "Tray"}),
            (412, "PRECONDITION_FAILED"),
        ),
    ] {
        let (status, _, problem) = app
            .write_waiting(
                world::MANAGER_EMAIL,
                (Method::PATCH, &one),
                key,
                &body,
                &[("If-Match", "")],
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (expected.0, Some(expected.1))
        );
    }
    let mut blank = product_body("BW-NEW-9");
    blank["name"] = json!("");
    let created = app
        .write_with(
            Method::POST,
            "/api/v1/products",
            &app.login(world::MANAGER_EMAIL).await,
            "blank-create-untagged",
            &blank,
            &[("If-Match", "")],
        )
        .await;
    let problem = crate::http_errors::problem(created, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"][0]["field"], "name", "{problem}");
    let unknown = format!("/api/v1/products/{}", Uuid::now_v7());
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &unknown),
            "unknown",
            &json!({"active": false}),
            &[],
        )
        .await;
    assert_eq!(status, 404, "{problem}");
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &one),
            "extra-field",
            &json!({"colour": "red"}),
            &[],
        )
        .await;
    assert_eq!(status, 422, "{problem}");

    // Deactivated and read back by a station (the catalogue is everyone's).
    let (status, _, deactivated) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::PATCH, &one),
            "off",
            &json!({"active": false}),
            &[("If-Match", "\"2\"")],
        )
        .await;
    assert_eq!(
        (
            status,
            deactivated["active"].as_bool(),
            deactivated["version"].as_i64()
        ),
        (200, Some(false), Some(3))
    );
    let token = app.login(world::STATION_EMAIL).await;
    assert_eq!(app.get_json(&one, &token).await["active"], false);

    // One audit row per applied change, with only the fields that changed.
    let rows = audit_rows(&app, "product", &id).await;
    let actions: Vec<&str> = rows.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(actions, ["CREATE", "UPDATE", "UPDATE"]);
    assert_eq!(rows[0].1["code"], json!({"old": null, "new": "BW-NEW-1"}));
    assert_eq!(
        rows[1].1,
        json!({"name": {"old": "Tray 600 g", "new": "Tray 600 g, recycled"}, "description": {"old": null, "new": "rPET"}})
    );
    assert_eq!(rows[2].1, json!({"active": {"old": true, "new": false}}));
    app.cleanup().await;
}

/// An order of 10 × BW-TRAY-0400 from EMBALSUD (185.00, above its minimum), once processed.
async fn embalsud_order(app: &TestApp, key: &str) -> Value {
    let token = app.login(world::STATION_EMAIL).await;
    let body = json!({
        "station_id": world::station_id(world::STATION_CODE),
        "lines": [{"product_id": world::product_id("BW-TRAY-0400"), "supplier_id": world::supplier_id("EMBALSUD"), "quantity": 10}],
    });
    let id = app.accept_order(&token, key, &body).await;
    app.wait_until_processed(&token, &id).await
}

fn rejection(order: &Value) -> Option<&str> {
    order["rejection"]["lines"][0]["code"].as_str()
}

#[tokio::test]
async fn a_product_or_supplier_deactivated_through_the_api_rejects_the_next_order() {
    let app = TestApp::spawn().await;
    assert_eq!(embalsud_order(&app, "before").await["status"], "REGISTERED");

    let product = format!("/api/v1/products/{}", world::product_id("BW-TRAY-0400"));
    let (status, _, body) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &product),
            "p-off",
            &json!({"active": false}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let refused = embalsud_order(&app, "product-off").await;
    assert_eq!(
        (refused["status"].as_str(), rejection(&refused)),
        (Some("REJECTED"), Some("INACTIVE_PRODUCT"))
    );
    let (status, _, body) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &product),
            "p-on",
            &json!({"active": true}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        embalsud_order(&app, "product-on").await["status"],
        "REGISTERED"
    );

    let supplier = format!("/api/v1/suppliers/{}", world::supplier_id("EMBALSUD"));
    let (status, _, body) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::PATCH, &supplier),
            "s-off",
            &json!({"active": false}),
            &[],
        )
        .await;
    assert_eq!(
        (status, body["active"].as_bool()),
        (200, Some(false)),
        "{body}"
    );
    let refused = embalsud_order(&app, "supplier-off").await;
    assert_eq!(
        (refused["status"].as_str(), rejection(&refused)),
        (Some("REJECTED"), Some("INACTIVE_SUPPLIER"))
    );
    app.cleanup().await;
}

#[tokio::test]
async fn suppliers_keep_their_order_contact_and_sites() {
    let app = TestApp::spawn().await;
    let body = json!({
        "code": "NEWPACK",
        "name": "New Pack SAS",
        "order_contact_email": "orders@newpack.example",
        "sites": [
            {"name": "Usine de Lyon", "city": "Lyon", "is_primary": true},
            {"name": "Dépôt de Valence", "city": "Valence"},
        ],
    });
    let post = (Method::POST, "/api/v1/suppliers");
    let (status, _, problem) = app
        .write_waiting(world::HANDLER_EMAIL, post.clone(), "h", &body, &[])
        .await;
    assert_eq!(status, 403, "{problem}");
    let mut two_primaries = body.clone();
    two_primaries["sites"][1]["is_primary"] = json!(true);
    two_primaries["order_contact_email"] = json!("not-an-address");
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            post.clone(),
            "bad",
            &two_primaries,
            &[],
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        codes(&problem),
        [
            ("order_contact_email".to_owned(), "INVALID_EMAIL".to_owned()),
            ("sites".to_owned(), "SEVERAL_PRIMARY".to_owned())
        ]
    );

    let (status, etag, created) = app
        .write_waiting(world::MANAGER_EMAIL, post.clone(), "create", &body, &[])
        .await;
    assert_eq!((status, etag.as_deref()), (201, Some("\"1\"")), "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["sites"].as_array().map(Vec::len), Some(2));
    // The notifier mails purchase orders to this column.
    let contact: Option<String> =
        sqlx::query_scalar("SELECT order_contact_email FROM suppliers WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(contact.as_deref(), Some("orders@newpack.example"));

    // Sites replaced: Lyon kept (by id) and no longer primary, Valence gone, Vienne new and primary.
    let lyon = created["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["city"] == "Lyon")
        .unwrap()["id"]
        .clone();
    let one = format!("/api/v1/suppliers/{id}");
    let patch = json!({
        "order_contact_email": null,
        "sites": [
            {"id": lyon, "name": "Usine de Lyon", "city": "Lyon"},
            {"name": "Usine de Vienne", "city": "Vienne", "is_primary": true},
        ],
    });
    let (status, _, patched) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &one),
            "sites",
            &patch,
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["order_contact_email"], Value::Null);
    let sites: Vec<(Uuid, String, bool)> = sqlx::query_as(
        "SELECT id, city, is_primary FROM supplier_sites WHERE supplier_id = $1::uuid ORDER BY city",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let cities: Vec<(&str, bool)> = sites.iter().map(|(_, c, p)| (c.as_str(), *p)).collect();
    assert_eq!(cities, [("Lyon", false), ("Vienne", true)]);
    assert_eq!(Some(sites[0].0.to_string().as_str()), lyon.as_str());

    // A taken code: 409; the rows of audit: a creation and an update naming the sites.
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &one),
            "taken",
            &json!({"code": "EMBALSUD"}),
            &[],
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("SUPPLIER_CODE_TAKEN")),
        "{problem}"
    );
    let rows = audit_rows(&app, "supplier", &id).await;
    assert_eq!(rows.len(), 2);
    assert!(rows[1].1.get("sites").is_some(), "{:?}", rows[1]);
    assert!(rows[1].1.get("code").is_none(), "{:?}", rows[1]);

    // A supplier sees itself, not another one.
    let token = app.login(world::SUPPLIER_EMAIL).await;
    let other = app.get(&one, &token).await;
    assert_eq!(other.status(), 404);
    app.cleanup().await;
}

#[tokio::test]
async fn station_groups_and_stations_are_managed_by_staff() {
    let app = TestApp::spawn().await;
    let (status, _, group) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::POST, "/api/v1/station-groups"),
            "g",
            &json!({"code": "GRP-SUD", "name": "Sud"}),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["id"].as_str().unwrap().to_owned();
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::POST, "/api/v1/station-groups"),
            "g2",
            &json!({"code": "GRP-SUD", "name": "Sud bis"}),
            &[],
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("STATION_GROUP_CODE_TAKEN")),
        "{problem}"
    );

    let station = json!({"code": "ST-AVI-01", "name": "Avignon", "group_id": group_id, "address": "1 chemin des Vergers", "city": "Avignon"});
    let mut unknown_group = station.clone();
    unknown_group["group_id"] = json!(Uuid::now_v7());
    let post = (Method::POST, "/api/v1/stations");
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            post.clone(),
            "bad",
            &unknown_group,
            &[],
        )
        .await;
    assert_eq!(
        (status, codes(&problem)),
        (422, vec![("group_id".to_owned(), "UNKNOWN".to_owned())])
    );
    let (status, _, problem) = app
        .write_waiting(world::STATION_EMAIL, post.clone(), "st", &station, &[])
        .await;
    assert_eq!(status, 403, "{problem}");
    let (status, _, created) = app
        .write_waiting(world::ADMIN_EMAIL, post.clone(), "create", &station, &[])
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["country"].as_str(), created["active"].as_bool()),
        (Some("FR"), Some(true))
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let mut taken = station.clone();
    taken["code"] = json!(world::STATION_CODE);
    let (status, _, problem) = app
        .write_waiting(world::ADMIN_EMAIL, post.clone(), "taken", &taken, &[])
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("STATION_CODE_TAKEN")),
        "{problem}"
    );

    let one = format!("/api/v1/stations/{id}");
    let (status, _, patched) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &one),
            "off",
            &json!({"active": false, "group_id": null, "city": null}),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let stored: (bool, Option<Uuid>, Option<String>, i32) =
        sqlx::query_as("SELECT active, group_id, city, version FROM stations WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, (false, None, None, 2));
    let (status, _, problem) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::PATCH, &one),
            "stale",
            &json!({"name": "x"}),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(status, 412, "{problem}");
    let rows = audit_rows(&app, "station", &id).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].1["active"], json!({"old": true, "new": false}));

    // Another station's record: 404 for a station user; their own: 200.
    let token = app.login(world::STATION_EMAIL).await;
    assert_eq!(app.get(&one, &token).await.status(), 404);
    let own = format!(
        "/api/v1/stations/{}",
        world::station_id(world::STATION_CODE)
    );
    assert_eq!(app.get(&own, &token).await.status(), 200);
    app.cleanup().await;
}

#[tokio::test]
async fn station_groups_are_listed_with_q_and_an_allow_listed_sort() {
    let app = TestApp::spawn().await;
    let token = app.login(world::MANAGER_EMAIL).await;
    let all = app
        .get_json("/api/v1/station-groups?sort=-code", &token)
        .await;
    let codes: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    assert!(codes.len() >= 2, "{all}");
    let mut sorted = codes.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(codes, sorted);
    let one = codes[0].to_lowercase();
    let found = app
        .get_json(&format!("/api/v1/station-groups?q={one}"), &token)
        .await;
    assert_eq!(found["total"], 1, "{found}");
    let bad = app.get("/api/v1/station-groups?sort=colour", &token).await;
    assert_eq!(bad.status(), 422);
    let station = app.login(world::STATION_EMAIL).await;
    assert_eq!(
        app.get("/api/v1/station-groups", &station).await.status(),
        403
    );
    app.cleanup().await;
}
