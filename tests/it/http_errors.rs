//! HTTP error paths: every refused order submission is a problem document naming the failing
//! field, and publishes nothing and writes nothing (DESIGN.md §6, §7.5). Also routing, list
//! parameters, the OpenAPI document, health and request ids.

use bluewhale_tests::{TestApp, three_supplier_order, world};
use serde_json::{Value, json};
use uuid::Uuid;

// ───────────────────────────── shared helpers (also used by auth.rs, scoping.rs) ─────────────

/// Asserts a problem document (RFC 9457) with this status and code, and returns it.
pub(crate) async fn problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    let actual = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "status (body: {text})");
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "content type of a {status} (body: {text})"
    );
    let body: Value = serde_json::from_str(&text).expect("problem body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    for key in ["type", "title", "detail"] {
        assert!(
            body[key].as_str().is_some_and(|s| !s.is_empty()),
            "problem has a {key}: {body}"
        );
    }
    assert!(
        body["type"].as_str().unwrap().starts_with("https://"),
        "{body}"
    );
    body
}

/// The `(field, code)` pairs of a problem's `errors`.
pub(crate) fn field_errors(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
                    (
                        e["field"].as_str().expect("field").to_owned(),
                        e["code"].as_str().expect("code").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What a refused request must leave untouched.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Footprint {
    commands_in_stream: u64,
    master_orders: i64,
    purchase_orders: i64,
    command_rows: i64,
    audit_rows: i64,
    outbox_rows: i64,
}

pub(crate) async fn footprint(app: &TestApp) -> Footprint {
    Footprint {
        commands_in_stream: app.stream_messages("COMMANDS").await,
        master_orders: app.count("master_orders").await,
        purchase_orders: app.count("purchase_orders").await,
        command_rows: app.count("commands").await,
        audit_rows: audit_rows_but_refusals(app).await,
        outbox_rows: outbox_rows_but_refusals(app).await,
    }
}

// A 403 is audited (ACCESS_DENIED, published like any audit row): that is not the refused
// request's effect but the record of its refusal, so "changed nothing" leaves those out.

/// Audit rows other than ACCESS_DENIED.
pub(crate) async fn audit_rows_but_refusals(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT count(*) FROM audit_log WHERE action <> 'ACCESS_DENIED'",
    )
    .await
}

/// Outbox rows other than those publishing an ACCESS_DENIED row.
pub(crate) async fn outbox_rows_but_refusals(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT count(*) FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM audit_log a \
         WHERE a.action = 'ACCESS_DENIED' AND (o.events -> 0 ->> 'id')::uuid = a.id)",
    )
    .await
}

/// EVENTS messages other than ACCESS_DENIED audit events.
pub(crate) async fn events_but_refusals(app: &TestApp) -> i64 {
    let denied: Vec<String> =
        sqlx::query_scalar("SELECT id::text FROM audit_log WHERE action = 'ACCESS_DENIED'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let events = app.stream_payloads("EVENTS").await;
    let kept = events
        .iter()
        .filter(|e| !denied.iter().any(|id| e.contains(id.as_str())))
        .count();
    i64::try_from(kept).unwrap()
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// Asserts nothing was published and no order was written (on a worker-less app).
pub(crate) async fn assert_nothing_published_or_written(
    app: &TestApp,
    before: &Footprint,
    case: &str,
) {
    assert_eq!(
        &footprint(app).await,
        before,
        "{case}: something was published or written"
    );
    assert_eq!(
        app.stream_messages("COMMANDS").await,
        0,
        "{case}: a command was published"
    );
    assert_eq!(
        app.count("master_orders").await,
        0,
        "{case}: a master order was written"
    );
}

/// A raw POST to `/api/v1/orders` with full control of the headers and body.
pub(crate) async fn post_order_raw(
    app: &TestApp,
    authorization: Option<&str>,
    key: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(format!("{}/api/v1/orders", app.base_url))
        .body(body);
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.expect("request")
}

/// An unauthenticated GET.
pub(crate) async fn get_anonymous(app: &TestApp, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base_url))
        .send()
        .await
        .expect("request")
}

fn today_paris() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive()
}

// ───────────────────────────── order submission refusals ─────────────────────────────

/// One refused submission.
struct Case {
    name: &'static str,
    /// Who submits: an email of the demo world.
    who: &'static str,
    key: Option<String>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    /// The failing field and its code, when the problem names one.
    field: Option<(&'static str, &'static str)>,
}

fn with(mutate: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut body = three_supplier_order();
    mutate(&mut body);
    serde_json::to_vec(&body).unwrap()
}

fn line(product: Uuid, supplier: Uuid, quantity: i64) -> Value {
    json!({"product_id": product, "supplier_id": supplier, "quantity": quantity})
}

fn cases() -> Vec<Case> {
    let station = world::STATION_EMAIL;
    let good_key = || Some("refusal-key".to_owned());
    let json_ct = Some("application/json");
    let valid = || serde_json::to_vec(&three_supplier_order()).unwrap();
    let case = |name, body: Vec<u8>, field: (&'static str, &'static str)| Case {
        name,
        who: station,
        key: good_key(),
        content_type: json_ct,
        body,
        status: 422,
        code: "VALIDATION_FAILED",
        field: Some(field),
    };
    let embalsud = world::supplier_id("EMBALSUD");
    let yesterday = today_paris().pred_opt().unwrap();
    vec![
        Case { key: None, ..case("missing Idempotency-Key", valid(), ("Idempotency-Key", "REQUIRED")) },
        Case { key: Some("k".repeat(256)), ..case("256-char key", valid(), ("Idempotency-Key", "INVALID")) },
        Case { key: Some("has space".into()), ..case("key with a space", valid(), ("Idempotency-Key", "INVALID")) },
        Case { key: Some(String::new()), ..case("empty key", valid(), ("Idempotency-Key", "INVALID")) },
        Case {
            content_type: Some("text/plain"),
            status: 415,
            code: "UNSUPPORTED_MEDIA_TYPE",
            field: None,
            ..case("text/plain body", valid(), ("", ""))
        },
        Case {
            content_type: None,
            status: 415,
            code: "UNSUPPORTED_MEDIA_TYPE",
            field: None,
            ..case("no content type", valid(), ("", ""))
        },
        // Malformed at the root (malformation inside the object: see the test below).
        case("malformed JSON", b"nonsense".to_vec(), ("body", "MALFORMED_JSON")),
        case("not JSON at all", b"lines=1".to_vec(), ("body", "MALFORMED_JSON")),
        case("empty body", Vec::new(), ("body", "MALFORMED_JSON")),
        case("array instead of object", b"[]".to_vec(), ("body", "INVALID")),
        case("unknown top-level field", with(|b| b["bogus"] = json!(1)), ("bogus", "INVALID")),
        case(
            "unknown field in a line",
            with(|b| b["lines"][0]["bogus"] = json!(true)),
            ("lines[0].bogus", "INVALID"),
        ),
        case(
            "missing quantity",
            with(|b| {
                b["lines"][2].as_object_mut().unwrap().remove("quantity");
            }),
            ("lines[2]", "INVALID"),
        ),
        case("quantity 0", with(|b| b["lines"][0]["quantity"] = json!(0)), ("lines[0].quantity", "OUT_OF_RANGE")),
        case(
            "quantity 1 000 001",
            with(|b| b["lines"][0]["quantity"] = json!(1_000_001)),
            ("lines[0].quantity", "OUT_OF_RANGE"),
        ),
        case("quantity 1.5", with(|b| b["lines"][0]["quantity"] = json!(1.5)), ("lines[0].quantity", "INVALID")),
        case("quantity -1", with(|b| b["lines"][0]["quantity"] = json!(-1)), ("lines[0].quantity", "OUT_OF_RANGE")),
        case("quantity \"3\"", with(|b| b["lines"][0]["quantity"] = json!("3")), ("lines[0].quantity", "INVALID")),
        case("quantity null", with(|b| b["lines"][0]["quantity"] = Value::Null), ("lines[0].quantity", "INVALID")),
        case(
            "quantity beyond i64",
            br#"{"station_id":"00000000-0000-0000-0000-000000000000","lines":[{"product_id":"00000000-0000-0000-0000-000000000001","supplier_id":"00000000-0000-0000-0000-000000000002","quantity":99999999999999999999}]}"#.to_vec(),
            ("lines[0].quantity", "INVALID"),
        ),
        case(
            "product id not a UUID",
            with(|b| b["lines"][1]["product_id"] = json!("BW-TRAY-0400")),
            ("lines[1].product_id", "INVALID"),
        ),
        case("empty lines", with(|b| b["lines"] = json!([])), ("lines", "LINE_COUNT")),
        case(
            "201 lines",
            with(|b| b["lines"] = (0..201).map(|_| line(Uuid::new_v4(), embalsud, 1)).collect()),
            ("lines", "LINE_COUNT"),
        ),
        case(
            "duplicate (product, supplier)",
            with(|b| {
                b["lines"] = json!([
                    line(world::product_id("BW-TRAY-0400"), embalsud, 50),
                    line(world::product_id("BW-TRAY-0400"), embalsud, 5),
                ]);
            }),
            ("lines[1]", "DUPLICATE_LINE"),
        ),
        case("notes too long", with(|b| b["notes"] = json!("n".repeat(2_001))), ("notes", "TOO_LONG")),
        case(
            "delivery date in the past",
            with(|b| b["requested_delivery_date"] = json!(yesterday.to_string())),
            ("requested_delivery_date", "IN_THE_PAST"),
        ),
        case(
            "delivery date not a date",
            with(|b| b["requested_delivery_date"] = json!("2026-13-45")),
            ("requested_delivery_date", "INVALID"),
        ),
        case("station_id not a UUID", with(|b| b["station_id"] = json!("ST-CAV-01")), ("station_id", "INVALID")),
        // Accepted, it could never be stored: PostgreSQL text holds no NUL.
        case("notes with a NUL", with(|b| b["notes"] = json!("x\u{0}")), ("notes", "INVALID_CHARACTERS")),
        Case {
            who: world::SUPPLIER_EMAIL,
            status: 403,
            code: "FORBIDDEN",
            field: None,
            ..case("a supplier orders", valid(), ("", ""))
        },
        Case {
            status: 403,
            code: "FORBIDDEN",
            field: None,
            ..case(
                "a station orders for another station",
                with(|b| b["station_id"] = json!(world::station_id(world::STATION2_CODE))),
                ("", ""),
            )
        },
        Case {
            who: world::HANDLER_EMAIL,
            ..case(
                "staff order for an unknown station",
                with(|b| b["station_id"] = json!(Uuid::new_v4())),
                ("station_id", "UNKNOWN_STATION"),
            )
        },
    ]
}

#[tokio::test]
async fn refused_order_submissions_name_the_failing_field_and_leave_no_trace() {
    let app = TestApp::options().without_worker().spawn().await;
    let mut tokens = std::collections::HashMap::new();
    for who in [
        world::STATION_EMAIL,
        world::SUPPLIER_EMAIL,
        world::HANDLER_EMAIL,
    ] {
        tokens.insert(who, format!("Bearer {}", app.login(who).await));
    }
    let before = footprint(&app).await;
    assert_eq!(before.commands_in_stream, 0);
    assert_eq!(before.master_orders, 0);

    for case in cases() {
        let response = post_order_raw(
            &app,
            Some(&tokens[case.who]),
            case.key.as_deref(),
            case.content_type,
            case.body,
        )
        .await;
        assert!(
            response.headers().get("location").is_none(),
            "{}: a refusal has no Location",
            case.name
        );
        let body = problem(response, case.status, case.code).await;
        let errors = field_errors(&body);
        match case.field {
            Some((field, code)) => assert!(
                errors.contains(&(field.to_owned(), code.to_owned())),
                "{}: expected ({field}, {code}) in {errors:?}",
                case.name
            ),
            None => assert!(errors.is_empty(), "{}: {errors:?}", case.name),
        }
        assert_nothing_published_or_written(&app, &before, case.name).await;
    }

    // Control: the base body is valid, so each refusal came from its one change. A 255-char key
    // is the longest accepted.
    let station = &tokens[world::STATION_EMAIL];
    let accepted = post_order_raw(
        &app,
        Some(station),
        Some(&"k".repeat(255)),
        Some("application/json; charset=utf-8"),
        serde_json::to_vec(&three_supplier_order()).unwrap(),
    )
    .await;
    assert_eq!(accepted.status(), 202);
    assert_eq!(app.stream_messages("COMMANDS").await, 1);
    app.cleanup().await;
}

#[tokio::test]
async fn a_login_with_control_characters_in_the_email_is_refused_not_a_server_error() {
    let app = TestApp::options().without_worker().spawn().await;
    let response = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": "a\u{0}@demo.bluewhale.test", "password": "x"}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        (
            &problem["errors"][0]["field"],
            &problem["errors"][0]["code"]
        ),
        (&json!("email"), &json!("INVALID_CHARACTERS"))
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_truncated_or_syntactically_broken_body_is_malformed_json() {
    // Regression: these were reported as `<field being parsed> INVALID` (or `?` for a broken
    // key), not as a malformed body.
    let app = TestApp::options().without_worker().spawn().await;
    let token = format!("Bearer {}", app.login(world::STATION_EMAIL).await);
    let before = footprint(&app).await;
    let station = world::station_id(world::STATION_CODE);
    let mut wrong = Vec::new();
    for (name, body) in [
        ("truncated after a key", r#"{"station_id": "#.to_owned()),
        (
            "truncated inside a string",
            r#"{"notes": "unterminated"#.to_owned(),
        ),
        (
            "truncated inside the lines",
            format!(r#"{{"station_id": "{station}", "lines": [{{"product_id": "#),
        ),
        ("an unquoted key", "{station_id: nope}".to_owned()),
        ("a stray comma", "{,}".to_owned()),
        (
            "a missing comma",
            format!(r#"{{"station_id": "{station}" "lines": []}}"#),
        ),
        (
            "a broken number",
            format!(r#"{{"station_id": "{station}", "lines": [{{"quantity": 1e}}]}}"#),
        ),
    ] {
        let response = post_order_raw(
            &app,
            Some(&token),
            Some("broken"),
            Some("application/json"),
            body.into_bytes(),
        )
        .await;
        let refused = problem(response, 422, "VALIDATION_FAILED").await;
        let errors = field_errors(&refused);
        if errors != [("body".to_owned(), "MALFORMED_JSON".to_owned())] {
            wrong.push(format!("{name}: {errors:?}"));
        }
        assert_nothing_published_or_written(&app, &before, name).await;
    }
    assert!(
        wrong.is_empty(),
        "expected (body, MALFORMED_JSON), got:\n{}",
        wrong.join("\n")
    );
    app.cleanup().await;
}

#[tokio::test]
async fn every_failing_field_is_reported_at_once() {
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let before = footprint(&app).await;
    let mut body = three_supplier_order();
    body["lines"][0]["quantity"] = json!(0);
    body["lines"][3]["quantity"] = json!(2_000_000);
    body["notes"] = json!("x".repeat(2_001));
    body["requested_delivery_date"] = json!(today_paris().pred_opt().unwrap().to_string());
    let response = app.submit_order(&token, "many-errors", &body).await;
    let refused = problem(response, 422, "VALIDATION_FAILED").await;
    assert_eq!(
        field_errors(&refused),
        [
            ("lines[0].quantity".to_owned(), "OUT_OF_RANGE".to_owned()),
            ("lines[3].quantity".to_owned(), "OUT_OF_RANGE".to_owned()),
            ("notes".to_owned(), "TOO_LONG".to_owned()),
            (
                "requested_delivery_date".to_owned(),
                "IN_THE_PAST".to_owned()
            ),
        ]
    );
    assert_nothing_published_or_written(&app, &before, "many errors").await;

    // Today is not in the past; exactly 2 000 characters of notes are allowed.
    body["lines"][0]["quantity"] = json!(1_000_000);
    body["lines"][3]["quantity"] = json!(1);
    body["notes"] = json!("x".repeat(2_000));
    body["requested_delivery_date"] = json!(today_paris().to_string());
    assert_eq!(
        app.submit_order(&token, "boundaries", &body).await.status(),
        202
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_and_leaves_no_trace() {
    let app = TestApp::options()
        .env("BW_BODY_LIMIT_BYTES", "2048")
        .without_worker()
        .spawn()
        .await;
    let token = app.login(world::STATION_EMAIL).await;
    let before = footprint(&app).await;
    let mut body = three_supplier_order();
    body["notes"] = json!("n".repeat(1_900)); // valid notes, but the body passes 2 048 bytes
    let bytes = serde_json::to_vec(&body).unwrap();
    assert!(bytes.len() > 2048);
    let response = post_order_raw(
        &app,
        Some(&format!("Bearer {token}")),
        Some("too-large"),
        Some("application/json"),
        bytes,
    )
    .await;
    let refused = problem(response, 413, "PAYLOAD_TOO_LARGE").await;
    assert!(field_errors(&refused).is_empty());
    assert_nothing_published_or_written(&app, &before, "413").await;

    // The login body is limited too.
    let login = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": world::STATION_EMAIL, "password": "p".repeat(4_000)}),
        )
        .await;
    problem(login, 413, "PAYLOAD_TOO_LARGE").await;

    // Under the limit the same order is accepted.
    body["notes"] = json!("short");
    assert_eq!(
        app.submit_order(&token, "small-enough", &body)
            .await
            .status(),
        202
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_conflicting_idempotency_key_gets_409_and_publishes_nothing_more() {
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    assert_eq!(
        app.submit_order(&token, "k-409", &three_supplier_order())
            .await
            .status(),
        202
    );
    let before = footprint(&app).await;
    let mut other = three_supplier_order();
    other["lines"][0]["quantity"] = json!(51);
    let response = app.submit_order(&token, "k-409", &other).await;
    assert!(response.headers().get("location").is_none());
    problem(response, 409, "IDEMPOTENCY_KEY_REUSED").await;
    assert_eq!(
        footprint(&app).await,
        before,
        "409 published or wrote something"
    );
    assert_eq!(app.stream_messages("COMMANDS").await, 1);
    app.cleanup().await;
}

// ───────────────────────────── routing and reads ─────────────────────────────

#[tokio::test]
async fn unknown_routes_get_a_problem_404() {
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::ADMIN_EMAIL).await;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/orders",
        "/api/v1/orders/x/y",
    ] {
        problem(app.get(path, &token).await, 404, "NOT_FOUND").await;
        problem(get_anonymous(&app, path).await, 404, "NOT_FOUND").await;
    }
    // A well-formed id that does not exist is a 404 too.
    for resource in ["orders", "purchase-orders", "contracts"] {
        let path = format!("/api/v1/{resource}/{}", Uuid::new_v4());
        problem(app.get(&path, &token).await, 404, "NOT_FOUND").await;
    }
    app.cleanup().await;
}

#[tokio::test]
async fn a_malformed_id_in_the_path_gets_a_problem_document() {
    // Regression: this was axum's plain-text 400 ("Invalid URL: Cannot parse `id`…").
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::ADMIN_EMAIL).await;
    let before = footprint(&app).await;
    for resource in ["orders", "purchase-orders", "contracts"] {
        let response = app
            .get(&format!("/api/v1/{resource}/not-a-uuid"), &token)
            .await;
        let body = problem(response, 422, "VALIDATION_FAILED").await;
        let errors = field_errors(&body);
        assert_eq!(errors.len(), 1, "{resource}: {body}");
        assert_eq!(errors[0].0, "id", "{resource}: {body}");
        assert_eq!(footprint(&app).await, before, "{resource}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn a_wrong_method_gets_a_problem_405() {
    // Regression: this was axum's bare 405 with an empty body.
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::ADMIN_EMAIL).await;
    let before = footprint(&app).await;
    let order = format!("/api/v1/orders/{}", Uuid::new_v4());
    for (method, path, allowed) in [
        (
            reqwest::Method::DELETE,
            "/api/v1/orders",
            &["GET", "POST"][..],
        ),
        (reqwest::Method::PUT, order.as_str(), &["GET"][..]),
        (reqwest::Method::POST, "/api/v1/me", &["GET"][..]),
        (reqwest::Method::POST, "/health", &["GET"][..]),
    ] {
        let response = app
            .http
            .request(method.clone(), format!("{}{path}", app.base_url))
            .bearer_auth(&token)
            .json(&three_supplier_order())
            .send()
            .await
            .unwrap();
        let allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{method} {path}: no Allow header"));
        for m in allowed {
            assert!(
                allow.contains(m),
                "{method} {path}: Allow {allow:?} lacks {m}"
            );
        }
        problem(response, 405, "METHOD_NOT_ALLOWED").await;
        assert_eq!(footprint(&app).await, before, "{method} {path}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::ADMIN_EMAIL).await;
    let lists = [
        "/api/v1/orders",
        "/api/v1/purchase-orders",
        "/api/v1/contracts",
        "/api/v1/products",
        "/api/v1/stations",
        "/api/v1/suppliers",
    ];
    for list in lists {
        for (query, field, code) in [
            ("per_page=0", "per_page", "OUT_OF_RANGE"),
            ("per_page=101", "per_page", "OUT_OF_RANGE"),
            ("page=0", "page", "OUT_OF_RANGE"),
            ("per_page=abc", "per_page", "INVALID"),
            ("page=-1", "page", "INVALID"),
        ] {
            let response = app.get(&format!("{list}?{query}"), &token).await;
            let body = problem(response, 422, "VALIDATION_FAILED").await;
            assert_eq!(
                field_errors(&body),
                [(field.to_owned(), code.to_owned())],
                "{list}?{query}"
            );
        }
        let ok: Value = app
            .get(&format!("{list}?page=1&per_page=100"), &token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (ok["page"].as_u64(), ok["per_page"].as_u64()),
            (Some(1), Some(100)),
            "{list}"
        );
    }
    for (list, query, field, code) in [
        ("/api/v1/orders", "status=BOGUS", "status", "UNKNOWN_STATUS"),
        (
            "/api/v1/purchase-orders",
            "status=BOGUS",
            "status",
            "UNKNOWN_STATUS",
        ),
        (
            "/api/v1/contracts",
            "status=BOGUS",
            "status",
            "UNKNOWN_STATUS",
        ),
        (
            "/api/v1/orders",
            "station_id=not-a-uuid",
            "station_id",
            "INVALID",
        ),
        (
            "/api/v1/purchase-orders",
            "supplier_id=42",
            "supplier_id",
            "INVALID",
        ),
        (
            "/api/v1/contracts",
            "supplier_id=EMBALSUD",
            "supplier_id",
            "INVALID",
        ),
    ] {
        let response = app.get(&format!("{list}?{query}"), &token).await;
        let body = problem(response, 422, "VALIDATION_FAILED").await;
        assert_eq!(
            field_errors(&body),
            [(field.to_owned(), code.to_owned())],
            "{list}?{query}"
        );
    }
    // Unknown parameters are refused, not silently ignored (a typo must not widen a filter).
    for list in [
        "/api/v1/orders",
        "/api/v1/purchase-orders",
        "/api/v1/contracts",
    ] {
        let response = app.get(&format!("{list}?stauts=REGISTERED"), &token).await;
        let body = problem(response, 422, "VALIDATION_FAILED").await;
        assert_eq!(field_errors(&body).len(), 1, "{list}: {body}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn the_openapi_document_and_the_docs_are_served() {
    let app = TestApp::options().without_worker().spawn().await;
    let response = get_anonymous(&app, "/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = response.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/orders",
        "/api/v1/orders/{id}",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/me",
        "/api/v1/purchase-orders",
        "/api/v1/purchase-orders/{id}/history",
        "/api/v1/purchase-orders/{id}/confirm",
        "/api/v1/purchase-orders/{id}/ship",
        "/api/v1/purchase-orders/{id}/receive",
        "/api/v1/purchase-orders/{id}/close",
        "/api/v1/purchase-orders/{id}/cancel",
        "/api/v1/purchase-orders/{id}/invoice",
        "/api/v1/purchase-orders/{id}/archive",
        "/api/v1/commands/{id}",
        "/api/v1/contracts",
        "/api/v1/products",
        "/health",
        "/ready",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    assert!(paths["/api/v1/orders"]["post"].is_object());
    // A transition documents its write headers and every refusal.
    let confirm = &paths["/api/v1/purchase-orders/{id}/confirm"]["post"];
    let headers: Vec<&str> = confirm["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "header")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(headers, ["Idempotency-Key", "Prefer", "If-Match"]);
    for status in ["200", "202", "403", "404", "409", "412", "422"] {
        assert!(confirm["responses"][status].is_object(), "confirm {status}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let docs = get_anonymous(&app, "/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(
        docs.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = docs.text().await.unwrap().to_lowercase();
    assert!(html.contains("<html") && html.contains("<script"), "{html}");
    app.cleanup().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::options().without_worker().spawn().await;
    let health = get_anonymous(&app, "/health").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    let ready = get_anonymous(&app, "/ready").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"status": "ok", "postgres": true, "nats": true})
    );
    app.cleanup().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_client_one_is_echoed() {
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let order = serde_json::to_vec(&three_supplier_order()).unwrap();
    let bearer = format!("Bearer {token}");
    let responses = vec![
        ("health", get_anonymous(&app, "/health").await),
        ("openapi", get_anonymous(&app, "/openapi.json").await),
        ("404", get_anonymous(&app, "/nope").await),
        (
            "401",
            post_order_raw(
                &app,
                None,
                Some("r1"),
                Some("application/json"),
                order.clone(),
            )
            .await,
        ),
        (
            "415",
            post_order_raw(
                &app,
                Some(&bearer),
                Some("r1"),
                Some("text/plain"),
                order.clone(),
            )
            .await,
        ),
        (
            "422",
            post_order_raw(
                &app,
                Some(&bearer),
                None,
                Some("application/json"),
                order.clone(),
            )
            .await,
        ),
        (
            "202",
            post_order_raw(
                &app,
                Some(&bearer),
                Some("r1"),
                Some("application/json"),
                order.clone(),
            )
            .await,
        ),
        ("list", app.get("/api/v1/orders", &token).await),
    ];
    let mut seen = std::collections::HashSet::new();
    for (name, response) in responses {
        let id = response
            .headers()
            .get("x-request-id")
            .unwrap_or_else(|| panic!("{name}: no x-request-id"))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            Uuid::parse_str(&id).is_ok(),
            "{name}: generated request id {id:?} is a UUID"
        );
        assert!(seen.insert(id), "{name}: request ids are unique");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{name}"
        );
        let api = response.url().path().starts_with("/api/v1/");
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            api.then_some("no-store"),
            "{name}: API answers are never cached"
        );
    }
    // Token answers above all.
    let login = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": world::STATION_EMAIL, "password": bluewhale_tests::DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["cache-control"], "no-store");

    for (name, request) in [
        ("health", app.http.get(format!("{}/health", app.base_url))),
        ("404", app.http.get(format!("{}/api/v1/nope", app.base_url))),
        ("401", app.http.get(format!("{}/api/v1/me", app.base_url))),
        (
            "202",
            app.http
                .post(format!("{}/api/v1/orders", app.base_url))
                .bearer_auth(&token)
                .header("idempotency-key", "r2")
                .json(&three_supplier_order()),
        ),
    ] {
        let response = request
            .header("x-request-id", "client-trace-42")
            .send()
            .await
            .unwrap();
        assert_eq!(
            response
                .headers()
                .get("x-request-id")
                .map(|v| v.to_str().unwrap()),
            Some("client-trace-42"),
            "{name}"
        );
    }
    app.cleanup().await;
}

#[tokio::test]
async fn an_invalid_client_request_id_is_replaced_before_it_reaches_logs_audit_or_nats() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let too_long = "x".repeat(129);
    for (key, sent) in [
        ("rid-long", too_long.as_str()),
        ("rid-space", "two words"),
        ("rid-quote", "a\"b\tc"),
    ] {
        let response = app
            .http
            .post(format!("{}/api/v1/orders", app.base_url))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .header("x-request-id", sent)
            .json(&three_supplier_order())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{key}");
        let echoed = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(echoed.parse::<uuid::Uuid>().is_ok(), "{key}: {echoed}");
        let body: serde_json::Value = response.json().await.unwrap();
        let id = body["id"].as_str().unwrap().to_owned();
        app.wait_until_processed(&token, &id).await;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT request_id FROM commands WHERE id = $1")
                .bind(id.parse::<uuid::Uuid>().unwrap())
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(stored.as_deref(), Some(echoed.as_str()), "{key}");
    }
    // 128 visible characters are the client's to keep.
    let longest = "y".repeat(128);
    let kept = app
        .http
        .get(format!("{}/health", app.base_url))
        .header("x-request-id", &longest)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], longest.as_str());
    app.cleanup().await;
}
