//! Revocable sessions (issue 9 §3): logout, a replayed refresh token, a password change and a
//! deactivation make the session's (or user's) access tokens refused within seconds on every
//! ingress, without a query per request.

use std::time::{Duration, Instant};

use bluewhale_tests::{DEMO_PASSWORD, TestApp, world};
use reqwest::Method;
use serde_json::{Value, json};

/// Within this, a revocation reaches every ingress.
const WITHIN: Duration = Duration::from_secs(5);

struct Session {
    access: String,
    refresh: String,
}

async fn login(app: &TestApp, email: &str) -> Session {
    let response = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": email, "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    Session {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

async fn me_status(app: &TestApp, base_url: &str, access: &str) -> u16 {
    app.http
        .get(format!("{base_url}/api/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Polls `/me` on `base_url` until the token is refused; how long that took.
async fn refused_within(app: &TestApp, base_url: &str, access: &str) -> Duration {
    let started = Instant::now();
    loop {
        match me_status(app, base_url, access).await {
            401 => return started.elapsed(),
            200 if started.elapsed() < WITHIN => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            status => panic!(
                "token still answered {status} after {:?}",
                started.elapsed()
            ),
        }
    }
}

async fn actions(app: &TestApp, user: uuid::Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE entity_type = 'user' AND entity_id = $1 \
         AND action <> 'CREATE' ORDER BY occurred_at, id",
    )
    .bind(user)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn logout_refuses_that_sessions_access_token_on_every_ingress() {
    let app = TestApp::options().without_worker().spawn().await;
    let (second, _stop, _task) = app.second_ingress().await;
    let ended = login(&app, world::STATION_EMAIL).await;
    let other = login(&app, world::STATION_EMAIL).await;
    for base in [&app.base_url, &second] {
        assert_eq!(me_status(&app, base, &ended.access).await, 200);
    }
    let response = app
        .post_json(
            "/api/v1/auth/logout",
            Some(&ended.access),
            &json!({"refresh_token": ended.refresh}),
        )
        .await;
    assert_eq!(response.status(), 204);
    // The ingress that ended the session refuses it at once; the others within moments.
    assert_eq!(me_status(&app, &app.base_url, &ended.access).await, 401);
    let took = refused_within(&app, &second, &ended.access).await;
    println!("logout reached the second ingress in {took:?}");
    // The user's other session goes on.
    for base in [&app.base_url, &second] {
        assert_eq!(me_status(&app, base, &other.access).await, 200);
    }
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": ended.refresh}),
        )
        .await;
    assert_eq!(refresh.status(), 401);
    let user = world::user_id(world::STATION_EMAIL);
    assert_eq!(
        actions(&app, user).await,
        ["LOGIN", "LOGIN", "LOGOUT"],
        "logout audited"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_replayed_refresh_token_ends_the_session_and_its_newest_access_token() {
    let app = TestApp::options().without_worker().spawn().await;
    let (second, _stop, _task) = app.second_ingress().await;
    let first = login(&app, world::SUPPLIER_EMAIL).await;
    let rotated = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first.refresh}),
        )
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let newest = rotated["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me_status(&app, &second, &newest).await, 200);
    // The stolen, spent token comes back: the whole session ends.
    let replay = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first.refresh}),
        )
        .await;
    assert_eq!(replay.status(), 401);
    refused_within(&app, &second, &newest).await;
    refused_within(&app, &app.base_url, &first.access).await;
    let user = world::user_id(world::SUPPLIER_EMAIL);
    assert_eq!(
        actions(&app, user).await,
        ["LOGIN", "TOKEN_REFRESHED", "REFRESH_TOKEN_REUSED"]
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_password_change_refuses_every_session_of_the_user() {
    let app = TestApp::options().without_worker().spawn().await;
    let (second, _stop, _task) = app.second_ingress().await;
    let one = login(&app, world::HANDLER_EMAIL).await;
    let two = login(&app, world::HANDLER_EMAIL).await;
    let bystander = login(&app, world::ADMIN_EMAIL).await;
    let changed = app
        .post_json(
            "/api/v1/me/password",
            Some(&one.access),
            &json!({"current_password": DEMO_PASSWORD,
                    "new_password": "a-new-long-passphrase-7731"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    refused_within(&app, &second, &one.access).await;
    refused_within(&app, &second, &two.access).await;
    assert_eq!(me_status(&app, &second, &bystander.access).await, 200);
    let user = world::user_id(world::HANDLER_EMAIL);
    assert_eq!(
        actions(&app, user).await.last().map(String::as_str),
        Some("PASSWORD_CHANGED")
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_deactivation_refuses_the_users_access_tokens() {
    let app = TestApp::spawn().await;
    let (second, _stop, _task) = app.second_ingress().await;
    let victim = login(&app, world::STATION2_EMAIL).await;
    assert_eq!(me_status(&app, &second, &victim.access).await, 200);
    let user = world::user_id(world::STATION2_EMAIL);
    let (status, _, patched) = app
        .write_waiting(
            world::ADMIN_EMAIL,
            (Method::PATCH, &format!("/api/v1/users/{user}")),
            "deactivate",
            &json!({"active": false}),
            &[],
        )
        .await;
    assert_eq!((status, patched["active"].as_bool()), (200, Some(false)));
    refused_within(&app, &second, &victim.access).await;
    assert_eq!(
        actions(&app, user).await.last().map(String::as_str),
        Some("USER_DEACTIVATED")
    );
    app.cleanup().await;
}
