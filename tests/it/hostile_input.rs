//! Hostile input (issue 9 §1), as a property: arbitrary strings and numbers through the request
//! types (orders, purchase-order transitions, login, search) into the real database path.
//! Nothing is answered 5xx, and every command accepted is processed — applied or rejected with
//! a code — and none is dead-lettered because of its content.

use std::time::Duration;

use bluewhale_tests::{TestApp, three_supplier_order, world};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// Values of each kind tried per run (a few seconds of requests).
const CASES: usize = 80;

/// Text as an attacker or a fuzzer sends it: anything, control characters and NUL included,
/// sometimes very long.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Accepted kinds: any printable Unicode (scripts, emoji, quotes, SQL and markup).
        4 => "\\PC{1,60}",
        1 => Just("'; DROP TABLE orders; -- <script>%00\\u0000".to_owned()),
        1 => ".{490,520}",
        // Refused kinds: control characters, NUL, anything at all.
        1 => "[\\x00-\\x1f\\x7f]{1,4}",
        1 => "x{0,3}\\x00x{0,3}",
        1 => any::<String>(),
        1 => Just(String::new()),
    ]
}

/// A JSON value where a number or a date is expected.
fn hostile_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (1u32..1_000).prop_map(Value::from),
        2 => (7i64..400).prop_map(|days| {
            Value::from((chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string())
        }),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        1 => hostile_text().prop_map(Value::from),
        1 => Just(Value::Null),
    ]
}

/// An order with one field hostile at a time (all hostile at once would rarely pass the
/// ingress, and the worker must see the odd values that do).
fn order_body() -> impl Strategy<Value = Value> {
    (0..3usize, hostile_text(), hostile_scalar()).prop_map(|(field, text, scalar)| {
        let mut body = three_supplier_order();
        match field {
            0 => body["notes"] = Value::String(text),
            1 => body["requested_delivery_date"] = scalar,
            _ => body["lines"][0]["quantity"] = scalar,
        }
        body
    })
}

fn generate<S: Strategy>(runner: &mut TestRunner, strategy: &S) -> S::Value {
    strategy.new_tree(runner).expect("a value").current()
}

fn assert_no_server_error(status: u16, what: &str, input: &Value) {
    assert!(status < 500, "{what} answered {status} for {input}");
}

#[tokio::test]
async fn arbitrary_input_is_refused_or_processed_never_a_server_error_nor_a_dead_letter() {
    let app = TestApp::spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let mut runner = TestRunner::new(Config::default());
    let mut accepted = Vec::new();

    for case in 0..CASES {
        let body = generate(&mut runner, &order_body());
        let response = app
            .submit_order(&station, &format!("hostile-{case}"), &body)
            .await;
        let status = response.status().as_u16();
        assert_no_server_error(status, "POST /orders", &body);
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        match status {
            202 => accepted.push((answer["id"].as_str().unwrap().to_owned(), &station)),
            422 => assert!(answer["errors"][0]["field"].is_string(), "{answer}"),
            other => panic!("POST /orders answered {other} for {body}: {answer}"),
        }
    }

    // Texts of transitions, on a real purchase order of the supplier.
    let order = app.priced_order("hostile-po").await;
    let po = order["purchase_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|po| po["supplier_id"] == world::supplier_id(world::SUPPLIER_CODE).to_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let texts = (hostile_text(), hostile_text(), hostile_scalar());
    for case in 0..CASES {
        let (carrier, reason, date) = generate(&mut runner, &texts);
        for (verb, body) in [
            ("confirm", json!({"confirmed_delivery_date": date})),
            (
                "ship",
                json!({"carrier": carrier, "tracking_number": reason}),
            ),
            ("cancel", json!({"reason": reason})),
        ] {
            let response = app
                .write(
                    &format!("/api/v1/purchase-orders/{po}/{verb}"),
                    &supplier,
                    &format!("hostile-{verb}-{case}"),
                    &body,
                    &[],
                )
                .await;
            let status = response.status().as_u16();
            assert_no_server_error(status, verb, &body);
            if status == 202 {
                let answer: Value = response.json().await.unwrap();
                accepted.push((answer["command_id"].as_str().unwrap().to_owned(), &supplier));
            }
        }
    }

    // Login and search: refused or answered, never a server error.
    for _ in 0..CASES {
        let (email, password, q) = generate(
            &mut runner,
            &(hostile_text(), hostile_text(), hostile_text()),
        );
        let login = json!({"email": email, "password": password});
        let response = app.post_json("/api/v1/auth/login", None, &login).await;
        let status = response.status().as_u16();
        assert!(
            matches!(status, 401 | 422 | 429),
            "login answered {status} for {login}"
        );
        let search = app
            .http
            .get(format!(
                "{}/api/v1/products?{}",
                app.base_url,
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("q", &q)
                    .finish()
            ))
            .bearer_auth(&station)
            .send()
            .await
            .unwrap();
        assert_no_server_error(search.status().as_u16(), "search", &json!(q));
    }

    // Every accepted command is processed (orders are their own commands), none dead-lettered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for (id, token) in &accepted {
        loop {
            let command = app.get_json(&format!("/api/v1/commands/{id}"), token).await;
            match command["status"].as_str() {
                Some("APPLIED") => break,
                Some("REJECTED") => {
                    assert!(command["problem"]["code"].is_string(), "{command}");
                    break;
                }
                Some("DEAD_LETTERED") => panic!("dead-lettered because of its content: {command}"),
                _ => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "never processed: {command}"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    assert_eq!(app.count("dead_letters").await, 0);
    println!(
        "{} hostile commands accepted, all processed",
        accepted.len()
    );
    app.cleanup().await;
}
