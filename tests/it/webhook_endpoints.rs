//! Webhook endpoint management through the command path: creation with its secret shown once,
//! reads without secrets, edits with If-Match, rotation, deletion, URL rules and scoping.

use reqwest::Method;
use serde_json::{Value, json};

use bluewhale_tests::{TestApp, world};

const WAIT: (&str, &str) = ("Prefer", "wait=10");

fn endpoints_path(supplier: &str) -> String {
    format!("/api/v1/suppliers/{supplier}/webhook-endpoints")
}

fn supplier() -> String {
    world::supplier_id(world::SUPPLIER_CODE).to_string()
}

/// Registers an endpoint as the demo supplier and returns the 201 body.
pub async fn create_endpoint(app: &TestApp, token: &str, key: &str, body: &Value) -> Value {
    let response = app
        .write(&endpoints_path(&supplier()), token, key, body, &[WAIT])
        .await;
    assert_eq!(response.status(), 201, "create endpoint");
    response.json().await.expect("endpoint body")
}

#[tokio::test]
async fn a_supplier_registers_an_endpoint_and_sees_its_secret_only_where_it_must() {
    let app = TestApp::spawn().await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    let body = json!({"url": "http://127.0.0.1:9/hook", "description": "ERP",
        "event_types": ["purchase_order.created"]});
    let created = create_endpoint(&app, &token, "ep-1", &body).await;
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["url"], "http://127.0.0.1:9/hook");
    assert_eq!(created["event_types"], json!(["purchase_order.created"]));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().expect("id").to_owned();

    // The same request again: the same endpoint and secret, no second endpoint.
    let replay = create_endpoint(&app, &token, "ep-1", &body).await;
    assert_eq!(replay["id"], created["id"]);
    assert_eq!(replay["secret"], created["secret"]);
    assert_eq!(app.count("webhook_endpoints").await, 1);

    // Reads never show a secret; `…/secret` does.
    let one = app
        .get_json(&format!("{}/{id}", endpoints_path(&supplier())), &token)
        .await;
    assert!(one.get("secret").is_none(), "{one}");
    let list = app.get_json(&endpoints_path(&supplier()), &token).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(!list.to_string().contains("whsec_"));
    let secrets = app
        .get_json(
            &format!("{}/{id}/secret", endpoints_path(&supplier())),
            &token,
        )
        .await;
    assert_eq!(secrets["key"], secret.as_str());
    assert_eq!(secrets["previous_key"], Value::Null);

    // Stored sealed, and never in the audit trail.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret FROM webhook_endpoints")
        .fetch_one(&app.db)
        .await
        .expect("row");
    let raw = secret.trim_start_matches("whsec_");
    assert!(!String::from_utf8_lossy(&stored).contains(raw));
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT changes::text FROM audit_log WHERE entity_type = 'webhook_endpoint'",
    )
    .fetch_all(&app.db)
    .await
    .expect("audit");
    assert_eq!(audit.len(), 1);
    assert!(audit[0].contains("127.0.0.1:9/hook"));
    assert!(!audit[0].contains(raw) && !audit[0].contains("whsec_"));
    app.cleanup().await;
}

#[tokio::test]
async fn edits_check_the_version_rotation_keeps_the_old_key_and_deletion_hides_it() {
    let app = TestApp::spawn().await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    let created =
        create_endpoint(&app, &token, "ep", &json!({"url": "http://127.0.0.1:9/a"})).await;
    let path = format!(
        "{}/{}",
        endpoints_path(&supplier()),
        created["id"].as_str().unwrap()
    );

    let patch = json!({"description": "new", "enabled": false});
    let stale = app
        .write_with(
            Method::PATCH,
            &path,
            &token,
            "p0",
            &patch,
            &[WAIT, ("If-Match", "\"7\"")],
        )
        .await;
    assert_eq!(stale.status(), 412);
    let patched = app
        .write_with(
            Method::PATCH,
            &path,
            &token,
            "p1",
            &patch,
            &[WAIT, ("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(patched.headers()["etag"], "\"2\"");
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(
        (
            &patched["description"],
            &patched["enabled"],
            &patched["version"]
        ),
        (&json!("new"), &json!(false), &json!(2))
    );
    // A present null clears; an absent field stays.
    let cleared: Value = app
        .write_with(
            Method::PATCH,
            &path,
            &token,
            "p2",
            &json!({"description": null}),
            &[WAIT],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["enabled"], false);

    let rotated = app
        .write(
            &format!("{path}/rotate-secret"),
            &token,
            "r1",
            &json!({}),
            &[WAIT],
        )
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    assert_eq!(rotated["previous_key"], created["secret"]);
    assert_ne!(rotated["key"], created["secret"]);
    assert!(rotated["previous_key_expires_at"].is_string());

    let deleted = app
        .write_with(Method::DELETE, &path, &token, "d1", &json!({}), &[WAIT])
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.get(&path, &token).await.status(), 404);
    assert_eq!(
        app.get_json(&endpoints_path(&supplier()), &token).await,
        json!([])
    );
    app.cleanup().await;
}

#[tokio::test]
async fn bad_urls_and_fields_are_refused_naming_the_field_and_publish_nothing() {
    let app = TestApp::spawn().await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    for (body, field, code) in [
        (
            json!({"url": "http://169.254.169.254/latest"}),
            "url",
            "FORBIDDEN_ADDRESS",
        ),
        (
            json!({"url": "http://10.0.0.1/hook"}),
            "url",
            "FORBIDDEN_ADDRESS",
        ),
        (
            json!({"url": "https://user:pw@example.com/hook"}),
            "url",
            "CREDENTIALS_IN_URL",
        ),
        (
            json!({"url": "ftp://example.com/hook"}),
            "url",
            "UNSUPPORTED_SCHEME",
        ),
        (
            json!({"url": "https://example.com", "event_types": ["order.priced"]}),
            "event_types[0]",
            "UNKNOWN_EVENT_TYPE",
        ),
        (
            json!({"url": "https://example.com", "description": "a\u{0}b"}),
            "description",
            "INVALID_CHARACTERS",
        ),
    ] {
        let response = app
            .write(&endpoints_path(&supplier()), &token, "bad", &body, &[WAIT])
            .await;
        assert_eq!(response.status(), 422, "{body}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{problem}");
    }
    assert_eq!(app.stream_messages("COMMANDS").await, 0);
    app.cleanup().await;
}

#[tokio::test]
async fn without_the_allow_list_loopback_and_plain_http_are_refused() {
    let app = TestApp::options()
        .env("BW_WEBHOOK_ALLOWED_NETWORKS", "")
        .env("BW_WEBHOOK_ALLOW_HTTP", "false")
        .spawn()
        .await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    for (url, code) in [
        ("https://127.0.0.1:8443/hook", "FORBIDDEN_ADDRESS"),
        ("https://[::1]/hook", "FORBIDDEN_ADDRESS"),
        ("https://localhost/hook", "FORBIDDEN_HOST"),
        ("http://example.com/hook", "INSECURE_SCHEME"),
    ] {
        let response = app
            .write(
                &endpoints_path(&supplier()),
                &token,
                url,
                &json!({"url": url}),
                &[WAIT],
            )
            .await;
        assert_eq!(response.status(), 422, "{url}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["code"], code, "{url}: {problem}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn endpoints_are_scoped_like_the_supplier_itself() {
    let app = TestApp::spawn().await;
    let owner = app.login(world::SUPPLIER_EMAIL).await;
    let created =
        create_endpoint(&app, &owner, "ep", &json!({"url": "http://127.0.0.1:9/a"})).await;
    let path = format!(
        "{}/{}",
        endpoints_path(&supplier()),
        created["id"].as_str().unwrap()
    );
    let other = app.login(world::SUPPLIER2_EMAIL).await;
    assert_eq!(app.get(&path, &other).await.status(), 404);
    assert_eq!(
        app.get(&format!("{path}/secret"), &other).await.status(),
        404
    );
    assert_eq!(
        app.get(&endpoints_path(&supplier()), &other).await.status(),
        404
    );
    let station = app.login(world::STATION_EMAIL).await;
    assert_eq!(app.get(&path, &station).await.status(), 403);
    let handler = app.login(world::HANDLER_EMAIL).await;
    let refused = app
        .write(
            &endpoints_path(&supplier()),
            &handler,
            "h",
            &json!({"url": "http://127.0.0.1:9/b"}),
            &[],
        )
        .await;
    assert_eq!(refused.status(), 403);
    // Staff managers see and manage every supplier's endpoints.
    let manager = app.login(world::MANAGER_EMAIL).await;
    assert_eq!(app.get(&path, &manager).await.status(), 200);
    let stolen = app
        .write_with(
            Method::PATCH,
            &path.replace(
                &supplier(),
                &world::supplier_id(world::SUPPLIER2_CODE).to_string(),
            ),
            &manager,
            "m",
            &json!({"enabled": false}),
            &[WAIT],
        )
        .await;
    assert_eq!(
        stolen.status(),
        404,
        "an endpoint is only found under its own supplier"
    );
    app.cleanup().await;
}
