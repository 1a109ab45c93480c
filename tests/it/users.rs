//! Users and passwords: an admin creates, updates and deactivates users (their sessions end in
//! the same transaction) and issues one-time password tokens; a token sets a password once and
//! not after it expired; a user changes their own password; the policy's refusals; and no
//! token, token hash or password hash in audit rows, events or the commands table.

use bluewhale_tests::{TestApp, world};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const NEW_EMAIL: &str = "Camille.Roux@station.example";
const NEW_PASSWORD: &str = "orchard-ladder-42-quince";

fn new_user() -> Value {
    json!({
        "email": NEW_EMAIL,
        "full_name": "Camille Roux",
        "role": "STATION",
        "org_id": world::station_id(world::STATION_CODE),
    })
}

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    let response = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await;
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn set_with_token(app: &TestApp, token: &str, password: &str) -> (u16, Value) {
    let response = app
        .post_json(
            "/api/v1/auth/password-reset",
            None,
            &json!({"token": token, "new_password": password}),
        )
        .await;
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

fn first_error(problem: &Value) -> (String, String) {
    let e = &problem["errors"][0];
    (
        e["field"].as_str().unwrap_or("").to_owned(),
        e["code"].as_str().unwrap_or("").to_owned(),
    )
}

/// Creates the new user as the admin: their id and first one-time token.
async fn create_user(app: &TestApp) -> (String, String) {
    let (status, _, created) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::POST, "/api/v1/users"),
            "create-user",
            &new_user(),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["org_type"], "STATION");
    assert!(created.get("password_hash").is_none(), "{created}");
    let token = created["password_reset"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(created["password_reset"]["expires_at"].is_string());
    (created["id"].as_str().unwrap().to_owned(), token)
}

#[tokio::test]
async fn users_are_managed_by_admins_and_set_their_password_with_a_one_time_token() {
    let app = TestApp::spawn().await;
    let post = (Method::POST, "/api/v1/users");
    let (status, _, problem) = app
        .write_waiting(world::MANAGER_EMAIL, post.clone(), "m", &new_user(), &[])
        .await;
    assert_eq!(status, 403, "{problem}");
    let mut no_org = new_user();
    no_org["org_id"] = Value::Null;
    let (status, _, problem) = app
        .write_waiting(world::ADMIN_EMAIL, post.clone(), "no-org", &no_org, &[])
        .await;
    assert_eq!(
        (status, first_error(&problem)),
        (422, ("org_id".into(), "REQUIRED".into()))
    );
    let mut taken = new_user();
    taken["email"] = json!(world::STATION_EMAIL.to_uppercase());
    let (status, _, problem) = app
        .write_waiting(world::ADMIN_EMAIL, post.clone(), "taken", &taken, &[])
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("USER_EMAIL_TAKEN")),
        "{problem}"
    );

    let (id, token) = create_user(&app).await;
    // No password yet: nothing logs in.
    assert_eq!(login(&app, NEW_EMAIL, NEW_PASSWORD).await.0, 401);

    // The policy, each failure on new_password with its own code; the token is still good.
    for (password, code) in [
        ("short-one", "PASSWORD_TOO_SHORT"),
        ("camille.roux@station.example", "PASSWORD_IS_EMAIL"),
        ("Unbelievable", "PASSWORD_TOO_COMMON"),
    ] {
        let (status, problem) = set_with_token(&app, &token, password).await;
        assert_eq!(
            (status, first_error(&problem)),
            (422, ("new_password".into(), code.into())),
            "{password}"
        );
    }
    assert_eq!(set_with_token(&app, &token, NEW_PASSWORD).await.0, 204);
    let (status, problem) = set_with_token(&app, &token, "another-fine-password").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("PASSWORD_TOKEN_USED"))
    );
    let (status, problem) = set_with_token(&app, "no-such-token", NEW_PASSWORD).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("PASSWORD_TOKEN_INVALID"))
    );
    let (status, session) = login(&app, NEW_EMAIL, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{session}");

    // A reset: the older unused token stops working; an expired one is refused.
    let reset = format!("/api/v1/users/{id}/password-reset");
    let (status, _, first) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::POST, &reset),
            "r1",
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let first = first["password_reset"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, second) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::POST, &reset),
            "r2",
            &json!({}),
            &[],
        )
        .await;
    let second = second["password_reset"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // A replay of the request answers without a token (it showed once).
    let (status, _, replay) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::POST, &reset),
            "r2",
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{replay}");
    assert!(replay.get("password_reset").is_none(), "{replay}");
    assert_eq!(
        set_with_token(&app, &first, "a-newer-fine-password")
            .await
            .1["code"],
        "PASSWORD_TOKEN_USED"
    );
    sqlx::query("UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL AND revoked_at IS NULL")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        set_with_token(&app, &second, "a-newer-fine-password")
            .await
            .1["code"],
        "PASSWORD_TOKEN_EXPIRED"
    );

    // A manager may not reset; another id: 404.
    let (status, _, _) = app
        .write_waiting(
            world::MANAGER_EMAIL,
            (Method::POST, &reset),
            "m-reset",
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(status, 403);
    let elsewhere = format!("/api/v1/users/{}/password-reset", uuid::Uuid::now_v7());
    let (status, _, _) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::POST, &elsewhere),
            "nobody",
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(status, 404);

    // Updated with If-Match; stale → 412.
    let one = format!("/api/v1/users/{id}");
    let version = app
        .get_json(&one, &app.login(world::ADMIN_EMAIL).await)
        .await["version"]
        .to_string();
    let if_match = format!("\"{version}\"");
    let (status, _, patched) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::PATCH, &one),
            "rename",
            &json!({"full_name": "Camille Roux-Martin"}),
            &[("If-Match", &if_match)],
        )
        .await;
    assert_eq!(
        (status, patched["full_name"].as_str()),
        (200, Some("Camille Roux-Martin")),
        "{patched}"
    );
    let (status, _, _) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::PATCH, &one),
            "stale",
            &json!({"full_name": "x"}),
            &[("If-Match", &if_match)],
        )
        .await;
    assert_eq!(status, 412);

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE entity_type = 'user' AND entity_id::text = $1 AND command_id IS NOT NULL ORDER BY occurred_at",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(actions, ["CREATE", "UPDATE", "UPDATE", "UPDATE"]);
    assert_no_secret(&app, &id, &[token, first, second]).await;
    app.cleanup().await;
}

/// No token, SHA-256 of a token, or password hash in the audit trail, the events or the
/// commands table.
async fn assert_no_secret(app: &TestApp, user_id: &str, tokens: &[String]) {
    app.wait_until_outbox_empty().await;
    let password_hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1::uuid")
            .bind(user_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(password_hash.starts_with("$argon2id$"));
    let mut secrets = vec![password_hash];
    for token in tokens {
        secrets.push(token.clone());
        secrets.push(
            Sha256::digest(token.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        );
    }
    let audit: Vec<String> = sqlx::query_scalar("SELECT to_jsonb(a)::text FROM audit_log a")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let commands: Vec<String> = sqlx::query_scalar("SELECT to_jsonb(c)::text FROM commands c")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let events = app.stream_payloads("EVENTS").await;
    assert!(!events.is_empty() && !audit.is_empty());
    for text in audit.iter().chain(&commands).chain(&events) {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret leaked into {text}"
            );
        }
    }
}

#[tokio::test]
async fn a_deactivated_user_can_neither_refresh_nor_log_in() {
    let app = TestApp::spawn().await;
    let (id, token) = create_user(&app).await;
    assert_eq!(set_with_token(&app, &token, NEW_PASSWORD).await.0, 204);
    let (status, session) = login(&app, NEW_EMAIL, NEW_PASSWORD).await;
    assert_eq!(status, 200);
    let refresh = session["refresh_token"].as_str().unwrap().to_owned();

    let one = format!("/api/v1/users/{id}");
    let (status, _, patched) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::PATCH, &one),
            "off",
            &json!({"active": false}),
            &[],
        )
        .await;
    assert_eq!(
        (status, patched["active"].as_bool()),
        (200, Some(false)),
        "{patched}"
    );
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM refresh_tokens WHERE user_id = $1::uuid AND revoked_at IS NULL",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(live, 0, "revoked in the deactivation's transaction");
    let reason: Option<String> = sqlx::query_scalar(
        "SELECT reason FROM audit_log WHERE entity_id::text = $1 AND command_id IS NOT NULL ORDER BY occurred_at DESC LIMIT 1",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(reason.unwrap_or_default().contains("session"));
    let refreshed = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(refreshed.status(), 401);
    assert_eq!(login(&app, NEW_EMAIL, NEW_PASSWORD).await.0, 401);
    app.cleanup().await;
}

#[tokio::test]
async fn users_change_their_own_password_knowing_the_current_one() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let post = |body: Value| {
        let token = token.clone();
        let app = &app;
        async move {
            let response = app
                .post_json("/api/v1/me/password", Some(&token), &body)
                .await;
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, problem) = post(change("not-the-password", NEW_PASSWORD)).await;
    assert_eq!(
        (status, first_error(&problem)),
        (422, ("current_password".into(), "INCORRECT".into()))
    );
    let (status, problem) = post(change(bluewhale_tests::DEMO_PASSWORD, "tiny")).await;
    assert_eq!(
        (status, first_error(&problem)),
        (422, ("new_password".into(), "PASSWORD_TOO_SHORT".into()))
    );
    let (status, problem) =
        post(change(bluewhale_tests::DEMO_PASSWORD, world::STATION_EMAIL)).await;
    assert_eq!(
        (status, first_error(&problem)),
        (422, ("new_password".into(), "PASSWORD_IS_EMAIL".into()))
    );
    // Nothing changed so far.
    assert_eq!(
        login(&app, world::STATION_EMAIL, bluewhale_tests::DEMO_PASSWORD)
            .await
            .0,
        200
    );

    let (status, _) = post(change(bluewhale_tests::DEMO_PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(status, 204);
    assert_eq!(
        login(&app, world::STATION_EMAIL, bluewhale_tests::DEMO_PASSWORD)
            .await
            .0,
        401
    );
    assert_eq!(login(&app, world::STATION_EMAIL, NEW_PASSWORD).await.0, 200);
    let reason: Option<String> = sqlx::query_scalar(
        "SELECT reason FROM audit_log WHERE entity_id = $1 AND action = 'PASSWORD_CHANGED' ORDER BY occurred_at DESC LIMIT 1",
    )
    .bind(world::user_id(world::STATION_EMAIL))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("own password changed"));
    assert_no_secret(&app, &world::user_id(world::STATION_EMAIL).to_string(), &[]).await;
    app.cleanup().await;
}

#[tokio::test]
async fn admins_list_users_by_role_search_and_sort() {
    let app = TestApp::spawn().await;
    let token = app.login(world::ADMIN_EMAIL).await;
    let stations = app
        .get_json("/api/v1/users?role=STATION&sort=-email", &token)
        .await;
    let emails: Vec<&str> = stations["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&world::STATION_EMAIL), "{stations}");
    assert!(
        stations["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["role"] == "STATION" && u.get("password_hash").is_none())
    );
    let mut sorted = emails.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(emails, sorted);
    let found = app.get_json("/api/v1/users?q=MANAGER@", &token).await;
    assert_eq!(found["items"][0]["email"], world::MANAGER_EMAIL, "{found}");
    assert_eq!(
        app.get("/api/v1/users?role=KING", &token).await.status(),
        422
    );
    assert_eq!(
        app.get("/api/v1/users?sort=code", &token).await.status(),
        422
    );
    let manager = app.login(world::MANAGER_EMAIL).await;
    assert_eq!(app.get("/api/v1/users", &manager).await.status(), 403);
    app.cleanup().await;
}
