//! Login limits (issue 9 §3): no third party can lock a user out; addresses are limited;
//! accounts are slowed down, never locked; known and unknown e-mails are alike; the counters
//! hold across ingresses. Each client below connects from its own loopback address.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use bluewhale_tests::{DEMO_PASSWORD, TestApp, world};
use serde_json::{Value, json};

use crate::http_errors::problem;

const WRONG_PASSWORD: &str = "not-the-password-0451";

/// A client whose connections come from `127.0.0.<last>`.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap()
}

async fn login_at(
    client: &reqwest::Client,
    base_url: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    login_with(
        client,
        base_url,
        (email, password),
        ("user-agent", "limits-test/1.0"),
    )
    .await
}

/// A login from `client` with one extra header.
async fn login_with(
    client: &reqwest::Client,
    base_url: &str,
    (email, password): (&str, &str),
    (name, value): (&str, &str),
) -> reqwest::Response {
    client
        .post(format!("{base_url}/api/v1/auth/login"))
        .header(name, value)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// A 429 problem with a `Retry-After` within `1..=window_secs`; returns the body.
async fn assert_throttled(response: reqwest::Response, window_secs: u64) -> Value {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("429 carries Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!(
        (1..=window_secs).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    problem(response, 429, "TOO_MANY_REQUESTS").await
}

async fn audit_clients(app: &TestApp, action: &str) -> Vec<(Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT c.client_address, c.user_agent FROM audit_log a \
         JOIN audit_clients c ON c.audit_id = a.id WHERE a.action = $1 ORDER BY a.occurred_at",
    )
    .bind(action)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn wrong_passwords_from_one_address_never_lock_the_real_user_out() {
    let app = TestApp::options()
        .env("BW_LOGIN_MAX_FAILURES", "3")
        .env("BW_LOGIN_FAILURE_WINDOW_SECS", "600")
        .env("BW_LOGIN_SLOWDOWN_AFTER", "100")
        .without_worker()
        .spawn()
        .await;
    let (attacker, user) = (client_from(66), client_from(1));
    for attempt in 1..=3 {
        let response = login_at(
            &attacker,
            &app.base_url,
            world::STATION_EMAIL,
            WRONG_PASSWORD,
        );
        assert_eq!(response.await.status(), 401, "attempt {attempt}");
    }
    // That address is refused now, even with the right password…
    let refused = login_at(
        &attacker,
        &app.base_url,
        world::STATION_EMAIL,
        DEMO_PASSWORD,
    )
    .await;
    assert_throttled(refused, 600).await;
    assert_eq!(app.count("refresh_tokens").await, 0, "no session opened");
    // …while the real user, from their own address, logs in.
    let ok = login_at(&user, &app.base_url, world::STATION_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(ok.status(), 200);
    // The throttle's start is audited once, with the client it refused.
    assert_eq!(
        audit_clients(&app, "ACCOUNT_THROTTLED").await,
        [(
            Some("127.0.0.66".to_owned()),
            Some("limits-test/1.0".to_owned())
        )]
    );
    let failed = audit_clients(&app, "LOGIN_FAILED").await;
    assert_eq!(failed.len(), 3);
    assert!(
        failed
            .iter()
            .all(|(a, _)| a.as_deref() == Some("127.0.0.66"))
    );
    // Only digests are stored: neither the address nor the e-mail.
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM login_limits")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| !k.contains("127.") && !k.contains('@')));
    app.cleanup().await;
}

#[tokio::test]
async fn failures_slow_every_attempt_on_the_account_down_but_never_refuse_it() {
    let app = TestApp::options()
        .env("BW_LOGIN_MAX_FAILURES", "100")
        .env("BW_LOGIN_SLOWDOWN_AFTER", "2")
        .env("BW_LOGIN_SLOWDOWN_BASE_MS", "300")
        .env("BW_LOGIN_SLOWDOWN_MAX_MS", "600")
        .without_worker()
        .spawn()
        .await;
    let ghost = "ghost@demo.bluewhale.test";
    // Four failures each, from four addresses (a spraying attacker).
    for email in [world::HANDLER_EMAIL, ghost] {
        for last in 2..=5 {
            let client = client_from(last);
            let response = login_at(&client, &app.base_url, email, WRONG_PASSWORD).await;
            assert_eq!(response.status(), 401);
        }
    }
    // Both accounts are now slowed by the cap (2 free failures, then 300, 600, capped 600 ms),
    // the unknown one exactly like the known one; the right password still succeeds.
    let timed = |email: &'static str, password: &'static str| {
        let base = app.base_url.clone();
        async move {
            let started = Instant::now();
            let response = login_at(&client_from(1), &base, email, password).await;
            (response.status().as_u16(), started.elapsed())
        }
    };
    let (status, known) = timed(world::HANDLER_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(status, 200, "slowed, not locked out");
    let (status, unknown) = timed(ghost, WRONG_PASSWORD).await;
    assert_eq!(status, 401);
    for elapsed in [known, unknown] {
        assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    }
    // An account without failures is not slowed.
    let (status, fresh) = timed(world::STATION_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(status, 200);
    assert!(fresh < Duration::from_millis(600), "{fresh:?}");
    app.cleanup().await;
}

#[tokio::test]
async fn unknown_and_known_emails_are_limited_alike() {
    let app = TestApp::options()
        .env("BW_LOGIN_MAX_FAILURES", "3")
        .env("BW_LOGIN_FAILURE_WINDOW_SECS", "600")
        .env("BW_LOGIN_SLOWDOWN_AFTER", "100")
        .without_worker()
        .spawn()
        .await;
    let client = client_from(1);
    let ghost = "ghost@demo.bluewhale.test";
    for email in [ghost, world::HANDLER_EMAIL] {
        for attempt in 1..=3 {
            let response = login_at(&client, &app.base_url, email, WRONG_PASSWORD).await;
            assert_eq!(response.status(), 401, "{email} attempt {attempt}");
        }
    }
    let unknown = login_at(&client, &app.base_url, ghost, DEMO_PASSWORD).await;
    let unknown = assert_throttled(unknown, 600).await;
    let known = login_at(&client, &app.base_url, world::HANDLER_EMAIL, DEMO_PASSWORD).await;
    let known = assert_throttled(known, 600).await;
    for key in ["type", "title", "status", "code"] {
        assert_eq!(unknown[key], known[key], "{key}");
    }
    // E-mails are compared case-insensitively, like accounts.
    let upper = ghost.to_uppercase();
    let upper = login_at(&client, &app.base_url, &upper, WRONG_PASSWORD).await;
    assert_throttled(upper, 600).await;
    app.cleanup().await;
}

#[tokio::test]
async fn address_limits_on_login_and_refresh_hold_across_ingresses() {
    let app = TestApp::options()
        .env("BW_LOGIN_ADDRESS_LIMIT", "3")
        .env("BW_REFRESH_ADDRESS_LIMIT", "2")
        .env("BW_LOGIN_ADDRESS_WINDOW_SECS", "120")
        .without_worker()
        .spawn()
        .await;
    let (second, _stop, _task) = app.second_ingress().await;
    let sprayer = client_from(77);
    // Password spraying: one address, a different e-mail each time, across two ingresses.
    for (i, base) in [&app.base_url, &second, &app.base_url]
        .into_iter()
        .enumerate()
    {
        let email = format!("user{i}@demo.bluewhale.test");
        let response = login_at(&sprayer, base, &email, WRONG_PASSWORD).await;
        assert_eq!(response.status(), 401);
    }
    let fourth = login_at(&sprayer, &second, world::ADMIN_EMAIL, DEMO_PASSWORD).await;
    assert_throttled(fourth, 120).await;
    // Another address is not affected.
    let other = login_at(&client_from(1), &second, world::ADMIN_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(other.status(), 200);

    let refresh = |base: String| {
        let client = sprayer.clone();
        async move {
            client
                .post(format!("{base}/api/v1/auth/refresh"))
                .json(&json!({"refresh_token": "guessed"}))
                .send()
                .await
                .unwrap()
        }
    };
    problem(
        refresh(app.base_url.clone()).await,
        401,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
    problem(refresh(second.clone()).await, 401, "INVALID_REFRESH_TOKEN").await;
    assert_throttled(refresh(app.base_url.clone()).await, 120).await;
    app.cleanup().await;
}

/// A wrong login (of an e-mail of its own, so no account slows down) from `client`
/// carrying `X-Forwarded-For: forwarded`.
async fn forwarded_login(
    client: &reqwest::Client,
    base_url: &str,
    forwarded: &str,
) -> reqwest::Response {
    let email = format!("{}@demo.bluewhale.test", uuid::Uuid::new_v4());
    let credentials = (email.as_str(), WRONG_PASSWORD);
    login_with(
        client,
        base_url,
        credentials,
        ("x-forwarded-for", forwarded),
    )
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_limited_and_nobody_else_can_forge_it() {
    let app = TestApp::options()
        .env("BW_TRUSTED_PROXIES", "127.0.0.95/32")
        .env("BW_LOGIN_ADDRESS_LIMIT", "2")
        .env("BW_LOGIN_ADDRESS_WINDOW_SECS", "120")
        .without_worker()
        .spawn()
        .await;
    let proxy = client_from(95);
    // Through the proxy: the client's forged first entry is ignored, the entry the proxy
    // appended is the client, and its limit is its own.
    for _ in 0..2 {
        let response = forwarded_login(&proxy, &app.base_url, "10.9.9.9, 198.51.100.1").await;
        assert_eq!(response.status(), 401);
    }
    let third = forwarded_login(&proxy, &app.base_url, "10.9.9.9, 198.51.100.1").await;
    assert_throttled(third, 120).await;
    let neighbour = forwarded_login(&proxy, &app.base_url, "198.51.100.2").await;
    assert_eq!(neighbour.status(), 401, "another client behind the proxy");
    let failed = audit_clients(&app, "LOGIN_FAILED").await;
    let addresses: Vec<_> = failed.iter().map(|(a, _)| a.as_deref()).collect();
    assert_eq!(
        addresses,
        [
            Some("198.51.100.1"),
            Some("198.51.100.1"),
            Some("198.51.100.2")
        ]
    );

    // Not through the proxy: the header is the client's own claim, never believed, so a new
    // forged address per attempt does not escape the limit of the real one.
    let direct = client_from(96);
    for forged in ["203.0.113.1", "203.0.113.2"] {
        let response = forwarded_login(&direct, &app.base_url, forged).await;
        assert_eq!(response.status(), 401);
    }
    let third = forwarded_login(&direct, &app.base_url, "203.0.113.3").await;
    assert_throttled(third, 120).await;
    let failed = audit_clients(&app, "LOGIN_FAILED").await;
    assert_eq!(failed.len(), 5);
    assert!(
        failed[3..]
            .iter()
            .all(|(a, _)| a.as_deref() == Some("127.0.0.96"))
    );
    app.cleanup().await;
}
