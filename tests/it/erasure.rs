//! GDPR (issue 9 §5): a person's data exported, and erased — the user who ordered,
//! confirmed and logged in is pseudonymised, their sessions end, and afterwards no API
//! answer, log line, audit row or published event holds their e-mail or name, while the
//! business records and the audit trail (under a stable pseudonym) remain.

use bluewhale_tests::logs::LogCapture;
use bluewhale_tests::{TestApp, three_supplier_order, world};
use reqwest::Method;
use serde_json::{Value, json};

use crate::http_errors::problem;

const EMAIL: &str = "Erin.Erasable@bluewhale.example";
const NAME: &str = "Erin Erasable";
const PASSWORD: &str = "rowan-kettle-58-plover";

/// Whether `text` holds the person's e-mail or name, in any case.
fn mentions_person(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains(&EMAIL.to_lowercase()) || lower.contains(&NAME.to_lowercase())
}

async fn erase(app: &TestApp, id: &str, token: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/api/v1/users/{id}/erase"), Some(token), &body)
        .await
}

async fn text_of(app: &TestApp, path: &str, token: &str) -> String {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn an_erased_user_leaves_no_trace_of_their_email_or_name() {
    let app = TestApp::options().capture_logs().spawn().await;
    // A handler who is created, logs in, orders for a station and confirms a purchase order.
    let (status, _, created) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::POST, "/api/v1/users"),
            "create-erin",
            &json!({"email": EMAIL, "full_name": NAME, "role": "HANDLER"}),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["password_reset"]["token"].as_str().unwrap();
    let set = app
        .post_json(
            "/api/v1/auth/password-reset",
            None,
            &json!({"token": token, "new_password": PASSWORD}),
        )
        .await;
    assert_eq!(set.status(), 204);
    let login = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 200);
    let erin: Value = login.json().await.unwrap();
    let erin = erin["access_token"].as_str().unwrap().to_owned();
    let order_id = app
        .accept_order(&erin, "erin-order", &three_supplier_order())
        .await;
    let order = app.wait_until_processed(&erin, &order_id).await;
    let po = order["purchase_orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let date = (chrono::Utc::now().date_naive() + chrono::Duration::days(7)).to_string();
    let confirmed = app
        .write(
            &format!("/api/v1/purchase-orders/{po}/confirm"),
            &erin,
            "erin-confirm",
            &json!({"confirmed_delivery_date": date}),
            &[("Prefer", "wait=10")],
        )
        .await;
    assert_eq!(confirmed.status(), 200);

    // Her export holds her account, sessions, login history and what she did, in the clear.
    let export = app.get_json("/api/v1/me/personal-data", &erin).await;
    assert_eq!(export["account"]["email"], EMAIL);
    assert_eq!(export["sessions"].as_array().unwrap().len(), 1);
    let history: Vec<&str> = export["login_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        history.contains(&"LOGIN") && history.contains(&"CREATE"),
        "{history:?}"
    );
    let created_entry = export["login_history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "CREATE")
        .unwrap();
    assert_eq!(
        created_entry["changes"]["email"]["new"], EMAIL,
        "opened with her key"
    );
    assert!(!export["audit_entries"].as_array().unwrap().is_empty());
    // At rest, the audit rows hold her e-mail and name sealed only.
    let audit_text: String = sqlx::query_scalar(
        "SELECT coalesce(string_agg(row_to_json(a)::text, ' '), '') FROM audit_log a",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        !mentions_person(&audit_text),
        "plain personal data in audit rows"
    );

    // Only administrators erase, with a reason.
    let admin = app.login(world::ADMIN_EMAIL).await;
    let manager = app.login(world::MANAGER_EMAIL).await;
    problem(
        erase(&app, &id, &manager, json!({"reason": "asked"})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    let refused = problem(
        erase(&app, &id, &admin, json!({"reason": " "})).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "reason");
    app.wait_until_outbox_empty().await;
    let events_before = app.stream_payloads("EVENTS").await.len();
    let logs_before = LogCapture::global().lines().len();
    let erased = erase(
        &app,
        &id,
        &admin,
        json!({"reason": "GDPR art. 17 request #4411"}),
    )
    .await;
    assert_eq!(erased.status(), 204);

    // Her sessions ended, her password is gone.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while app.get("/api/v1/me", &erin).await.status() != 401 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "her token still works"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let relogin = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(relogin.status(), 401);

    // Every API answer, after: none mentions her.
    let mut answers = Vec::new();
    for path in [
        format!("/api/v1/users/{id}"),
        "/api/v1/users?per_page=100".to_owned(),
        "/api/v1/audit?limit=100".to_owned(),
        format!("/api/v1/audit?entity_id={id}"),
        format!("/api/v1/users/{id}/personal-data"),
        format!("/api/v1/orders/{order_id}"),
        format!("/api/v1/orders/{order_id}/audit?limit=100"),
        format!("/api/v1/purchase-orders/{po}"),
        format!("/api/v1/purchase-orders/{po}/history"),
        format!("/api/v1/purchase-orders/{po}/audit"),
    ] {
        answers.push((path.clone(), text_of(&app, &path, &admin).await));
    }
    for (path, text) in &answers {
        assert!(!mentions_person(text), "{path} still names her: {text}");
    }
    // The business records and the trail remain, under her stable pseudonym (her id).
    let user = app.get_json(&format!("/api/v1/users/{id}"), &admin).await;
    assert_eq!(user["active"], false);
    assert_eq!(user["full_name"], "Erased user");
    let trail = app
        .get_json(&format!("/api/v1/audit?actor_id={id}&limit=100"), &admin)
        .await;
    assert!(
        trail["items"].as_array().unwrap().len() >= 2,
        "her actions are still audited"
    );
    let created_after = app
        .get_json(
            &format!("/api/v1/audit?entity_id={id}&action=CREATE"),
            &admin,
        )
        .await;
    assert_eq!(
        created_after["items"][0]["changes"]["email"]["new"],
        "[ERASED]"
    );
    let order_after = app
        .get_json(&format!("/api/v1/orders/{order_id}"), &admin)
        .await;
    assert_eq!(order_after["id"], order_id.as_str());

    // Audit rows (all of them), their client details, events published since, log lines since.
    let audit_text: String = sqlx::query_scalar(
        "SELECT string_agg(row_to_json(a)::text || coalesce(row_to_json(c)::text, ''), ' ') \
         FROM audit_log a LEFT JOIN audit_clients c ON c.audit_id = a.id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(!mentions_person(&audit_text), "audit rows name her");
    let clients: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_clients c JOIN audit_log a ON a.id = c.audit_id \
         WHERE a.actor_user_id = $1::uuid AND a.action <> 'USER_ERASED'",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(clients, 0, "her addresses and user agents are gone");
    app.wait_until_outbox_empty().await;
    let events = app.stream_payloads("EVENTS").await;
    assert!(
        events.len() > events_before,
        "the erasure itself was published"
    );
    for event in &events[events_before..] {
        assert!(!mentions_person(event), "an event names her: {event}");
    }
    for line in &LogCapture::global().lines()[logs_before..] {
        assert!(
            !mentions_person(&line.to_string()),
            "a log line names her: {line}"
        );
    }
    app.cleanup().await;
}

/// `(version, full_name, active)` of user `id` as stored.
async fn stored_user(app: &TestApp, id: &str) -> (i32, String, bool) {
    sqlx::query_as("SELECT version, full_name, active FROM users WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// How many one-time password tokens user `id` was ever issued.
async fn reset_tokens(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM password_reset_tokens WHERE user_id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// `PATCH path` with `body`, waiting for the outcome.
async fn patch(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: Value,
) -> reqwest::Response {
    app.write_with(
        Method::PATCH,
        path,
        token,
        key,
        &body,
        &[("Prefer", "wait=10")],
    )
    .await
}

#[tokio::test]
async fn an_erased_account_takes_no_change_and_an_administrator_cannot_lock_themself_out() {
    let app = TestApp::spawn().await;
    let admin = app.login(world::ADMIN_EMAIL).await;
    let (status, _, created) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::POST, "/api/v1/users"),
            "create-gone",
            &json!({"email": "gone@bluewhale.example", "full_name": "Gone", "role": "HANDLER"}),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let reason = json!({"reason": "GDPR art. 17"});
    assert_eq!(erase(&app, &id, &admin, reason.clone()).await.status(), 204);
    let erased = stored_user(&app, &id).await;
    let tokens_before = reset_tokens(&app, &id).await;

    // No patch revives the pseudonym, no reset hands it a password.
    let user = format!("/api/v1/users/{id}");
    for (key, body) in [
        ("revive", json!({"active": true})),
        ("rename", json!({"full_name": "Back again"})),
    ] {
        problem(
            patch(&app, &user, &admin, key, body).await,
            409,
            "USER_ERASED",
        )
        .await;
    }
    let reset = app
        .write(
            &format!("{user}/password-reset"),
            &admin,
            "reset-gone",
            &json!({}),
            &[("Prefer", "wait=10")],
        )
        .await;
    problem(reset, 409, "USER_ERASED").await;
    let after = stored_user(&app, &id).await;
    assert_eq!(after, erased);
    let tokens_after = reset_tokens(&app, &id).await;
    assert_eq!(tokens_after, tokens_before, "no token issued");
    // Erasing again asks for what holds already.
    assert_eq!(erase(&app, &id, &admin, reason.clone()).await.status(), 204);

    // An administrator may rename themself, but not deactivate, demote or erase themself.
    let me = app.get_json("/api/v1/me", &admin).await;
    let me_id = me["id"].as_str().unwrap().to_owned();
    let own = format!("/api/v1/users/{me_id}");
    for (key, body) in [
        ("self-deactivate", json!({"active": false})),
        ("self-demote", json!({"role": "MANAGER"})),
    ] {
        let response = patch(&app, &own, &admin, key, body).await;
        let refused = problem(response, 403, "OWN_ACCOUNT_PROTECTED").await;
        assert!(
            refused["detail"]
                .as_str()
                .unwrap()
                .contains("another administrator"),
            "{refused}"
        );
    }
    problem(
        erase(&app, &me_id, &admin, reason).await,
        403,
        "OWN_ACCOUNT_PROTECTED",
    )
    .await;
    let mine: (String, bool) = sqlx::query_as("SELECT role, active FROM users WHERE id = $1::uuid")
        .bind(&me_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(mine, ("ADMIN".to_owned(), true));
    assert_eq!(
        app.get("/api/v1/me", &admin).await.status(),
        200,
        "still in"
    );
    let renamed = patch(
        &app,
        &own,
        &admin,
        "self-rename",
        json!({"full_name": "Ada"}),
    )
    .await;
    assert_eq!(renamed.status(), 200);
    app.cleanup().await;
}
