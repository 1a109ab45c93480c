//! Supplier notifications end to end: real notifier processes consume real events, deliver to
//! real HTTP receivers (signatures checked with the Standard Webhooks reference library) and
//! to the real mail catcher.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use bluewhale_tests::mail::{unique_address, wait_for_mail};
use bluewhale_tests::receiver::{Receiver, Reply};
use bluewhale_tests::{TestApp, world};

const WAIT: (&str, &str) = ("Prefer", "wait=10");
const WITHIN: Duration = Duration::from_secs(20);

fn endpoints_path(code: &str) -> String {
    format!(
        "/api/v1/suppliers/{}/webhook-endpoints",
        world::supplier_id(code)
    )
}

/// Registers an endpoint of supplier `code` (as its own user); returns `(id, secret)`.
async fn register(
    app: &TestApp,
    code: &str,
    url: &str,
    event_types: Option<&[&str]>,
) -> (String, String) {
    let email = if code == world::SUPPLIER_CODE {
        world::SUPPLIER_EMAIL
    } else {
        world::ADMIN_EMAIL
    };
    let token = app.login(email).await;
    let mut body = json!({"url": url});
    if let Some(types) = event_types {
        body["event_types"] = json!(types);
    }
    let response = app
        .write(
            &endpoints_path(code),
            &token,
            &format!("register-{url}"),
            &body,
            &[WAIT],
        )
        .await;
    assert_eq!(response.status(), 201, "register {url}");
    let created: Value = response.json().await.expect("body");
    (
        created["id"].as_str().expect("id").to_owned(),
        created["secret"].as_str().expect("secret").to_owned(),
    )
}

/// The purchase order of supplier `code` in a priced order.
fn po_of(order: &Value, code: &str) -> Value {
    let supplier = world::supplier_id(code).to_string();
    order["purchase_orders"]
        .as_array()
        .expect("purchase orders")
        .iter()
        .find(|po| po["supplier_id"] == supplier.as_str())
        .cloned()
        .expect("a purchase order of that supplier")
}

async fn message_rows(app: &TestApp, endpoint_id: &str) -> Vec<(String, String, i32)> {
    sqlx::query_as(
        "SELECT event_type, status, attempts FROM notification_messages
         WHERE endpoint_id = $1::uuid ORDER BY created_at",
    )
    .bind(endpoint_id)
    .fetch_all(&app.db)
    .await
    .expect("messages")
}

/// Polls until the endpoint's messages all reach `status` (and there are `count`).
async fn wait_for_status(app: &TestApp, endpoint_id: &str, count: usize, status: &str) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let rows = message_rows(app, endpoint_id).await;
        if rows.len() == count && rows.iter().all(|(_, s, _)| s == status) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "messages stuck: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Gives the demo supplier an order contact no other test uses; returns it.
async fn fresh_contact(app: &TestApp, label: &str) -> String {
    let contact = unique_address(label);
    sqlx::query("UPDATE suppliers SET order_contact_email = $1 WHERE id = $2")
        .bind(&contact)
        .bind(world::supplier_id(world::SUPPLIER_CODE))
        .execute(&app.db)
        .await
        .expect("contact set");
    contact
}

/// Polls the endpoint until it reads disabled; returns it.
async fn wait_until_disabled(app: &TestApp, path: &str, token: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let endpoint = app.get_json(path, token).await;
        if endpoint["enabled"] == false {
            return endpoint;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still enabled: {endpoint}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn attempts(app: &TestApp, code: &str, endpoint_id: &str, event_id: &str) -> Vec<Value> {
    let token = app.login(world::ADMIN_EMAIL).await;
    let body = app
        .get_json(
            &format!(
                "{}/{endpoint_id}/messages/{event_id}/attempts",
                endpoints_path(code)
            ),
            &token,
        )
        .await;
    body.as_array().expect("attempts").clone()
}

#[tokio::test]
async fn a_new_purchase_order_reaches_its_suppliers_endpoints_only_signed_and_complete() {
    let mut app = TestApp::spawn().await;
    app.start_notifier().await;
    let own = Receiver::start(Vec::new()).await;
    let other = Receiver::start(Vec::new()).await;
    let (own_id, secret) = register(&app, world::SUPPLIER_CODE, &own.url("/hook"), None).await;
    // The second supplier subscribes to confirmations only.
    let (other_id, _) = register(
        &app,
        world::SUPPLIER2_CODE,
        &other.url("/hook"),
        Some(&["purchase_order.confirmed"]),
    )
    .await;
    let order = app.priced_order("notified").await;
    let po = po_of(&order, world::SUPPLIER_CODE);

    let received = own.wait_for(1, WITHIN).await;
    let delivery = &received[0];
    assert!(
        delivery.signed_by(&secret),
        "signature: {}",
        delivery.header("webhook-signature")
    );
    let body = delivery.json();
    assert_eq!(body["type"], "purchase_order.created");
    let sent = &body["data"]["purchase_order"];
    assert_eq!(sent["id"], po["id"]);
    assert_eq!(sent["number"], po["number"]);
    assert_eq!(sent["status"], "REGISTERED");
    assert_eq!(sent["buyer"]["name"], "Blue Whale");
    assert_eq!(
        sent["deliver_to"]["station_id"],
        world::station_id(world::STATION_CODE).to_string()
    );
    assert!(
        sent["deliver_to"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert!(sent["deliver_to"]["city"].is_string());
    assert_eq!(sent["currency"], "EUR");
    assert_eq!(sent["total_including_tax"], po["total_including_tax"]);
    let lines = sent["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), po["lines"].as_array().unwrap().len());
    for line in lines {
        for field in [
            "line_number",
            "product_code",
            "product_name",
            "conditioning_unit",
            "quantity",
            "unit_price",
            "tax_rate",
            "line_total",
        ] {
            assert!(!line[field].is_null(), "{field} in {line}");
        }
    }
    assert_eq!(sent["lines_complete"], true);
    assert!(delivery.body.len() < 20 * 1024);
    // webhook-id is the event id: the same one the EVENTS stream carries.
    let event_id = delivery.header("webhook-id").to_owned();
    let stored: String = sqlx::query_scalar(
        "SELECT event_id::text FROM notification_messages WHERE endpoint_id = $1::uuid",
    )
    .bind(&own_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(event_id, stored);
    wait_for_status(&app, &own_id, 1, "DELIVERED").await;

    // The other supplier's confirmation reaches its endpoint; its creation never did.
    let supplier2 = app.login(world::SUPPLIER2_EMAIL).await;
    let po2 = po_of(&order, world::SUPPLIER2_CODE);
    let confirm = app
        .write(
            &format!(
                "/api/v1/purchase-orders/{}/confirm",
                po2["id"].as_str().unwrap()
            ),
            &supplier2,
            "confirm",
            &json!({"confirmed_delivery_date": po2["order_date"]}),
            &[WAIT],
        )
        .await;
    assert_eq!(confirm.status(), 200);
    let got = other.wait_for(1, WITHIN).await;
    assert_eq!(got[0].json()["type"], "purchase_order.confirmed");
    assert_eq!(got[0].json()["data"]["purchase_order"]["id"], po2["id"]);
    assert_eq!(got[0].json()["data"]["previous_status"], "REGISTERED");
    wait_for_status(&app, &other_id, 1, "DELIVERED").await;
    assert_eq!(
        other.received().len(),
        1,
        "no creation event for a confirmations-only endpoint"
    );
    assert_eq!(own.received().len(), 1);
    app.cleanup().await;
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_the_same_id_and_fresh_signatures() {
    let mut app = TestApp::spawn().await;
    app.start_notifier().await;
    let receiver = Receiver::start(vec![Reply::status(500), Reply::status(503)]).await;
    let (id, secret) = register(&app, world::SUPPLIER_CODE, &receiver.url("/flaky"), None).await;
    app.priced_order("flaky").await;
    let received = receiver.wait_for(3, WITHIN).await;
    wait_for_status(&app, &id, 1, "DELIVERED").await;
    let ids: Vec<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    for request in &received {
        assert!(request.signed_by(&secret));
        let timestamp: i64 = request.header("webhook-timestamp").parse().unwrap();
        assert!(
            (timestamp - request.at.timestamp()).abs() <= 1,
            "timestamp of this attempt"
        );
    }
    let log = attempts(&app, world::SUPPLIER_CODE, &id, ids[0]).await;
    let statuses: Vec<_> = log
        .iter()
        .map(|a| (a["http_status"].clone(), a["succeeded"].clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (json!(500), json!(false)),
            (json!(503), json!(false)),
            (json!(200), json!(true))
        ]
    );
    assert_eq!(log[2]["response_excerpt"], "received");
    app.cleanup().await;
}

#[tokio::test]
async fn a_410_disables_the_endpoint_audits_it_and_mails_the_supplier() {
    let mut app = TestApp::spawn().await;
    let contact = fresh_contact(&app, "gone").await;
    app.start_notifier().await;
    let receiver = Receiver::start(vec![Reply::status(410)]).await;
    let (id, _) = register(&app, world::SUPPLIER_CODE, &receiver.url("/gone"), None).await;
    app.priced_order("gone").await;
    receiver.wait_for(1, WITHIN).await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    let path = format!("{}/{id}", endpoints_path(world::SUPPLIER_CODE));
    let endpoint = wait_until_disabled(&app, &path, &token).await;
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410")
    );
    wait_for_status(&app, &id, 1, "FAILED").await;
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE entity_id = $1::uuid AND actor_user_id IS NULL
         AND reason LIKE '%410%'",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    let mail = wait_for_mail(&contact, "Webhook endpoint disabled", WITHIN).await;
    assert!(mail.text.contains(&receiver.url("/gone")), "{}", mail.text);
    assert!(mail.text.contains("410"));
    assert_eq!(
        receiver.received().len(),
        1,
        "nothing more goes to a disabled endpoint"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn redirects_are_not_followed_slow_answers_time_out_and_retry_after_is_honoured() {
    let mut app = TestApp::options()
        .env("BW_WEBHOOK_TIMEOUT_SECS", "1")
        .spawn()
        .await;
    app.start_notifier().await;
    let elsewhere = Receiver::start(Vec::new()).await;
    let receiver = Receiver::start(vec![
        Reply::status(302).header("location", elsewhere.url("/stolen")),
        Reply::status(200).after(Duration::from_secs(3)),
        Reply::status(429).header("retry-after", "2"),
    ])
    .await;
    let (id, _) = register(&app, world::SUPPLIER_CODE, &receiver.url("/hook"), None).await;
    app.priced_order("semantics").await;
    let received = receiver.wait_for(4, WITHIN).await;
    wait_for_status(&app, &id, 1, "DELIVERED").await;
    assert!(
        elsewhere.received().is_empty(),
        "a redirect is never followed"
    );
    let log = attempts(
        &app,
        world::SUPPLIER_CODE,
        &id,
        received[0].header("webhook-id"),
    )
    .await;
    assert_eq!(log[0]["http_status"], 302);
    assert_eq!(log[0]["succeeded"], false);
    assert_eq!(log[1]["http_status"], Value::Null);
    assert!(
        log[1]["error"].as_str().unwrap().contains("timed out"),
        "{}",
        log[1]
    );
    assert_eq!(log[2]["http_status"], 429);
    assert_eq!(log[3]["succeeded"], true);
    // The schedule says 0.2 s; the receiver asked for 2 s.
    let gap = received[3].at - received[2].at;
    assert!(gap >= chrono::Duration::milliseconds(1900), "{gap}");
    app.cleanup().await;
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_new_one_until_its_overlap_ends() {
    let mut app = TestApp::options()
        .env("BW_WEBHOOK_SECRET_OVERLAP_SECS", "2")
        .spawn()
        .await;
    app.start_notifier().await;
    let receiver = Receiver::start(Vec::new()).await;
    let (id, old) = register(&app, world::SUPPLIER_CODE, &receiver.url("/r"), None).await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    let path = format!("{}/{id}", endpoints_path(world::SUPPLIER_CODE));
    let rotated: Value = app
        .write(
            &format!("{path}/rotate-secret"),
            &token,
            "rotate",
            &json!({}),
            &[WAIT],
        )
        .await
        .json()
        .await
        .unwrap();
    let new = rotated["key"].as_str().unwrap().to_owned();
    let test = app
        .write(&format!("{path}/test"), &token, "t1", &json!({}), &[WAIT])
        .await;
    assert_eq!(test.status(), 200);
    let first = receiver.wait_for(1, WITHIN).await;
    assert_eq!(first[0].json()["type"], "webhook.test");
    assert_eq!(first[0].header("webhook-signature").split(' ').count(), 2);
    assert!(first[0].signed_by(&old) && first[0].signed_by(&new));

    let expires: chrono::DateTime<chrono::Utc> = rotated["previous_key_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let left = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(100)).await; // until the overlap's end
    app.write(&format!("{path}/test"), &token, "t2", &json!({}), &[WAIT])
        .await;
    let second = receiver.wait_for(2, WITHIN).await;
    assert_eq!(second[1].header("webhook-signature").split(' ').count(), 1);
    assert!(second[1].signed_by(&new) && !second[1].signed_by(&old));
    let secrets = app.get_json(&format!("{path}/secret"), &token).await;
    assert_eq!(secrets["previous_key"], Value::Null);
    app.cleanup().await;
}

#[tokio::test]
async fn a_notifier_killed_mid_delivery_leaves_exactly_one_recorded_success() {
    let mut app = TestApp::options()
        .env("BW_WEBHOOK_TIMEOUT_SECS", "2")
        .spawn()
        .await;
    let first = app.start_notifier().await;
    let receiver = Receiver::start(vec![Reply::status(200).after(Duration::from_secs(1))]).await;
    let (id, _) = register(&app, world::SUPPLIER_CODE, &receiver.url("/slow"), None).await;
    app.priced_order("killed").await;
    receiver.wait_for(1, WITHIN).await; // the first notifier is mid-delivery
    app.kill_notifier(first).await;
    app.start_notifier().await;
    let received = receiver.wait_for(2, WITHIN).await;
    wait_for_status(&app, &id, 1, "DELIVERED").await;
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    let successes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_attempts a JOIN notification_messages m ON m.id = a.message_id
         WHERE m.endpoint_id = $1::uuid AND a.succeeded",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(successes, 1);
    app.cleanup().await;
}

#[tokio::test]
async fn two_notifiers_never_deliver_one_message_twice() {
    let mut app = TestApp::spawn().await;
    app.start_notifier().await;
    app.start_notifier().await;
    let receiver = Receiver::start(Vec::new()).await;
    let (id, _) = register(&app, world::SUPPLIER_CODE, &receiver.url("/twice"), None).await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    let path = format!("{}/{id}", endpoints_path(world::SUPPLIER_CODE));
    const TESTS: usize = 30;
    for i in 0..TESTS {
        let sent = app
            .write(
                &format!("{path}/test"),
                &token,
                &format!("t{i}"),
                &json!({}),
                &[],
            )
            .await;
        assert_eq!(sent.status(), 202);
    }
    wait_for_status(&app, &id, TESTS, "DELIVERED").await;
    let received = receiver.received();
    let mut ids: Vec<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((received.len(), ids.len()), (TESTS, TESTS));
    app.cleanup().await;
}

#[tokio::test]
async fn failed_messages_can_be_recovered_and_any_message_resent() {
    let mut app = TestApp::spawn().await;
    app.start_notifier().await;
    // Four failures: the whole test schedule, then FAILED.
    let receiver = Receiver::start(vec![Reply::status(500); 4]).await;
    let (id, _) = register(&app, world::SUPPLIER_CODE, &receiver.url("/later"), None).await;
    let since = chrono::Utc::now();
    app.priced_order("recover").await;
    wait_for_status(&app, &id, 1, "FAILED").await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    let path = format!("{}/{id}", endpoints_path(world::SUPPLIER_CODE));
    let failed = app
        .get_json(&format!("{path}/messages?status=FAILED"), &token)
        .await;
    assert_eq!(failed["total"], 1);
    assert_eq!(failed["items"][0]["attempts"], 4);
    let event_id = failed["items"][0]["event_id"].as_str().unwrap().to_owned();

    let recovered = app
        .write(
            &format!("{path}/recover"),
            &token,
            "recover",
            &json!({"since": since}),
            &[WAIT],
        )
        .await;
    assert_eq!(recovered.status(), 200);
    assert_eq!(recovered.json::<Value>().await.unwrap()["recovered"], 1);
    wait_for_status(&app, &id, 1, "DELIVERED").await;
    assert_eq!(receiver.received().len(), 5);

    let resent = app
        .write(
            &format!("{path}/messages/{event_id}/resend"),
            &token,
            "resend",
            &json!({}),
            &[WAIT],
        )
        .await;
    assert_eq!(resent.status(), 200);
    let received = receiver.wait_for(6, WITHIN).await;
    assert_eq!(received[5].header("webhook-id"), event_id);
    wait_for_status(&app, &id, 1, "DELIVERED").await;
    let unknown = app
        .write(
            &format!("{path}/messages/{}/resend", uuid::Uuid::new_v4()),
            &token,
            "resend-unknown",
            &json!({}),
            &[WAIT],
        )
        .await;
    assert_eq!(unknown.status(), 404);
    let log = attempts(&app, world::SUPPLIER_CODE, &id, &event_id).await;
    assert_eq!(log.len(), 6);
    app.cleanup().await;
}

#[tokio::test]
async fn without_the_allow_list_the_notifier_refuses_to_connect_to_loopback() {
    let mut app = TestApp::spawn().await;
    let receiver = Receiver::start(Vec::new()).await;
    let (id, _) = register(&app, world::SUPPLIER_CODE, &receiver.url("/internal"), None).await;
    app.start_notifier_with(&[("BW_WEBHOOK_ALLOWED_NETWORKS", "")])
        .await;
    app.priced_order("ssrf").await;
    wait_for_status(&app, &id, 1, "FAILED").await;
    assert!(receiver.received().is_empty());
    let error: String = sqlx::query_scalar(
        "SELECT a.error FROM notification_attempts a JOIN notification_messages m ON m.id = a.message_id
         WHERE m.endpoint_id = $1::uuid ORDER BY a.attempt LIMIT 1",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(error.contains("loopback"), "{error}");
    app.cleanup().await;
}

#[tokio::test]
async fn the_supplier_contact_is_mailed_new_and_cancelled_purchase_orders() {
    let mut app = TestApp::spawn().await;
    let contact = fresh_contact(&app, "orders").await;
    app.start_notifier().await;
    let order = app.priced_order("mailed").await;
    let po = po_of(&order, world::SUPPLIER_CODE);
    let number = po["number"].as_str().unwrap();
    let mail = wait_for_mail(&contact, number, WITHIN).await;
    assert!(
        mail.subject.starts_with("New purchase order"),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains("Buyer of record: Blue Whale"));
    for line in po["lines"].as_array().unwrap() {
        let code = line["product_code"].as_str().unwrap();
        assert!(
            mail.text.contains(code) && mail.html.contains(code),
            "{code}"
        );
        assert!(mail.text.contains(line["line_total"].as_str().unwrap()));
    }
    assert!(
        mail.text
            .contains(po["total_including_tax"].as_str().unwrap())
    );
    assert!(mail.html.contains("<table"));

    let station = app.login(world::STATION_EMAIL).await;
    let cancelled = app
        .write_with(
            Method::POST,
            &format!(
                "/api/v1/purchase-orders/{}/cancel",
                po["id"].as_str().unwrap()
            ),
            &station,
            "cancel",
            &json!({"reason": "ordered twice"}),
            &[WAIT],
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    let mail = wait_for_mail(&contact, "Cancelled", WITHIN).await;
    assert!(mail.text.contains(number) && mail.text.contains("ordered twice"));

    // The e-mail delivery log, as the supplier sees it.
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let log_path = format!(
        "/api/v1/suppliers/{}/email-messages",
        world::supplier_id(world::SUPPLIER_CODE)
    );
    let deadline = tokio::time::Instant::now() + WITHIN;
    let log = loop {
        let log = app
            .get_json(&format!("{log_path}?status=DELIVERED"), &supplier)
            .await;
        if log["total"] == 2 {
            break log;
        }
        assert!(tokio::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let types: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["purchase_order.cancelled", "purchase_order.created"]
    );
    assert_eq!(log["items"][0]["recipient"], contact.as_str());
    let event_id = log["items"][0]["event_id"].as_str().unwrap();
    let attempts = app
        .get_json(&format!("{log_path}/{event_id}/attempts"), &supplier)
        .await;
    assert_eq!(attempts[0]["succeeded"], true);
    let other = app.login(world::SUPPLIER2_EMAIL).await;
    assert_eq!(app.get(&log_path, &other).await.status(), 404);
    app.cleanup().await;
}

#[tokio::test]
async fn a_slow_endpoint_holds_only_its_own_slots() {
    let mut app = TestApp::options()
        .env("BW_WEBHOOK_ENDPOINT_CONCURRENCY", "2")
        .spawn()
        .await;
    app.start_notifier().await;
    let slow = Receiver::start(vec![Reply::status(200).after(Duration::from_secs(2)); 6]).await;
    let fast = Receiver::start(Vec::new()).await;
    let (slow_id, _) = register(&app, world::SUPPLIER_CODE, &slow.url("/slow"), None).await;
    let (fast_id, _) = register(&app, world::SUPPLIER_CODE, &fast.url("/fast"), None).await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    for i in 0..6 {
        let path = format!("{}/{slow_id}/test", endpoints_path(world::SUPPLIER_CODE));
        app.write(&path, &token, &format!("slow{i}"), &json!({}), &[WAIT])
            .await;
    }
    slow.wait_for(1, WITHIN).await;
    let path = format!("{}/{fast_id}/test", endpoints_path(world::SUPPLIER_CODE));
    app.write(&path, &token, "fast", &json!({}), &[WAIT]).await;
    fast.wait_for(1, WITHIN).await;
    // The fast endpoint was served while the slow one still had messages waiting.
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_messages WHERE endpoint_id = $1::uuid AND status = 'PENDING'",
    )
    .bind(&slow_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(waiting >= 2, "{waiting} slow messages pending");
    wait_for_status(&app, &slow_id, 6, "DELIVERED").await;
    assert_eq!(
        slow.most_in_flight(),
        2,
        "at most two deliveries at once per endpoint"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn an_endpoint_failing_for_longer_than_the_limit_is_disabled() {
    let mut app = TestApp::options()
        .env("BW_WEBHOOK_DISABLE_AFTER_SECS", "1")
        .env("BW_WEBHOOK_RETRY_SCHEDULE", "0,0.4,0.4,0.4,0.4,0.4")
        .spawn()
        .await;
    app.start_notifier().await;
    let receiver = Receiver::start(vec![Reply::status(500); 10]).await;
    let (id, _) = register(&app, world::SUPPLIER_CODE, &receiver.url("/down"), None).await;
    app.priced_order("down").await;
    let token = app.login(world::SUPPLIER_EMAIL).await;
    let path = format!("{}/{id}", endpoints_path(world::SUPPLIER_CODE));
    let endpoint = wait_until_disabled(&app, &path, &token).await;
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("every delivery failed"),
        "{endpoint}"
    );
    // Re-enabled by its owner, it is healthy again (the failing mark is cleared).
    let enabled = app
        .write_with(
            Method::PATCH,
            &path,
            &token,
            "enable",
            &json!({"enabled": true}),
            &[WAIT],
        )
        .await;
    assert_eq!(enabled.status(), 200);
    let failing: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT failing_since FROM webhook_endpoints WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(failing, None);
    app.cleanup().await;
}

#[tokio::test]
async fn contract_changes_reach_the_supplier_by_webhook_and_e_mail_without_blue_whales_fee() {
    let mut app = TestApp::spawn().await;
    app.start_notifier().await;
    let contact = fresh_contact(&app, "contracts").await;
    let hook = Receiver::start(Vec::new()).await;
    let (_, secret) = register(
        &app,
        world::SUPPLIER_CODE,
        &hook.url("/contracts"),
        Some(&["contract.activated", "contract.suspended"]),
    )
    .await;
    let manager = app.login(world::MANAGER_EMAIL).await;
    let today = chrono::Utc::now().date_naive();
    let body = json!({
        "supplier_id": world::supplier_id(world::SUPPLIER_CODE),
        "valid_from": today, "valid_until": today + chrono::Duration::days(90),
        "platform_fee_percent": "6.50", "notes": "margin negotiated",
        "lines": [{"product_id": world::product_id("BW-LABL-0028"), "unit_price": "11.90"}],
    });
    let response = app
        .write("/api/v1/contracts", &manager, "contract", &body, &[WAIT])
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let (id, number) = (
        created["id"].as_str().unwrap(),
        created["number"].as_str().unwrap(),
    );
    let admin = app.login(world::ADMIN_EMAIL).await;
    for (verb, body, token) in [
        ("activate", json!({}), &admin),
        ("suspend", json!({"reason": "quality audit"}), &manager),
    ] {
        let response = app
            .write(
                &format!("/api/v1/contracts/{id}/{verb}"),
                token,
                verb,
                &body,
                &[WAIT],
            )
            .await;
        assert_eq!(response.status(), 200, "{verb}");
    }

    let received = hook.wait_for(2, WITHIN).await;
    let mut types = Vec::new();
    for delivery in &received {
        assert!(delivery.signed_by(&secret));
        assert!(!delivery.body.contains("6.50") && !delivery.body.contains("margin"));
        let sent = delivery.json();
        assert_eq!(sent["data"]["number"], number);
        assert_eq!(sent["data"]["lines"][0]["unit_price"], "11.90");
        types.push(sent["type"].as_str().unwrap().to_owned());
    }
    types.sort();
    assert_eq!(types, ["contract.activated", "contract.suspended"]);
    assert_eq!(received[1].json()["data"]["reason"], "quality audit");

    let mail = wait_for_mail(&contact, &format!("Contract {number} is suspended"), WITHIN).await;
    assert!(mail.text.contains("quality audit"), "{}", mail.text);
    assert!(!mail.text.contains("6.50"));
    wait_for_mail(
        &contact,
        &format!("Contract {number} is now in force"),
        WITHIN,
    )
    .await;
    app.cleanup().await;
}
