//! Authentication: login, throttling, audit, refresh-token rotation with reuse detection,
//! logout, the profile, and access-token verification (DESIGN.md §6, §7.7).

use std::collections::BTreeSet;

use bluewhale::config::Secret;
use bluewhale::domain::roles::{OrgType, Role};
use bluewhale::security::jwt::TokenKeys;
use bluewhale_tests::{DEMO_PASSWORD, TestApp, three_supplier_order, world};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http_errors::{assert_nothing_published_or_written, footprint, post_order_raw, problem};

const WRONG_PASSWORD: &str = "not-the-password-0451";

async fn login_raw(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/login",
        None,
        &json!({"email": email, "password": password}),
    )
    .await
}

async fn refresh_raw(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh_token}),
    )
    .await
}

/// Logs in and returns `(access_token, refresh_token)`.
async fn login_pair(app: &TestApp, email: &str) -> (String, String) {
    let response = login_raw(app, email, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

fn keys(body: &Value) -> BTreeSet<&str> {
    body.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn assert_no_credentials(text: &str, context: &str) {
    let lower = text.to_lowercase();
    // "password" may appear in prose ("The email or password is incorrect."), never as a key.
    for forbidden in [
        "$argon2",
        "\"password",
        "password_hash",
        DEMO_PASSWORD,
        WRONG_PASSWORD,
    ] {
        assert!(
            !lower.contains(&forbidden.to_lowercase()),
            "{context} contains {forbidden:?}: {text}"
        );
    }
}

// Minimal base64url (no padding), enough to read and tamper with a JWT.
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64url_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64url_decode(text: &str) -> Vec<u8> {
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.bytes() {
        let v = B64
            .iter()
            .position(|&x| x == c)
            .expect("base64url character") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(&b64url_decode(payload)).expect("JSON payload")
}

// ───────────────────────────── login ─────────────────────────────

#[tokio::test]
async fn login_returns_a_bearer_pair_and_never_a_credential() {
    let app = TestApp::options().without_worker().spawn().await;
    let response = login_raw(&app, world::STATION_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let text = response.text().await.unwrap();
    assert_no_credentials(&text, "login response");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        keys(&body),
        BTreeSet::from(["access_token", "refresh_token", "token_type", "expires_in"])
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);

    // The access token is a JWT for this user, valid for 15 minutes.
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3);
    let claims = jwt_payload(access);
    assert_eq!(
        claims["sub"],
        world::user_id(world::STATION_EMAIL).to_string().as_str()
    );
    assert_eq!(claims["role"], "STATION");
    assert_eq!(claims["org_type"], "STATION");
    assert_eq!(
        claims["org_id"],
        world::station_id(world::STATION_CODE).to_string().as_str()
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert_no_credentials(&claims.to_string(), "access-token claims");
    assert_eq!(app.get("/api/v1/me", access).await.status(), 200);

    // Only the refresh token's hash is stored.
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(refresh.len() >= 32);
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT token_hash FROM refresh_tokens WHERE user_id = $1")
            .bind(world::user_id(world::STATION_EMAIL))
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], refresh.as_bytes());
    assert_eq!(stored[0].len(), 32, "a SHA-256");

    // Emails match case-insensitively and around blanks.
    let upper = login_raw(
        &app,
        &format!("  {}  ", world::STATION_EMAIL.to_uppercase()),
        DEMO_PASSWORD,
    )
    .await;
    assert_eq!(upper.status(), 200);
    app.cleanup().await;
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_byte_identical_401s() {
    let app = TestApp::options().without_worker().spawn().await;
    let unknown = login_raw(&app, "nobody@demo.bluewhale.test", WRONG_PASSWORD).await;
    let wrong = login_raw(&app, world::STATION_EMAIL, WRONG_PASSWORD).await;
    for response in [&unknown, &wrong] {
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert!(response.headers().get("retry-after").is_none());
    }
    let unknown = unknown.bytes().await.unwrap();
    let wrong = wrong.bytes().await.unwrap();
    assert_eq!(
        unknown, wrong,
        "the answer must not reveal whether the account exists"
    );
    let body: Value = serde_json::from_slice(&wrong).unwrap();
    assert_eq!(body["code"], "INVALID_CREDENTIALS");
    assert_no_credentials(&String::from_utf8_lossy(&wrong), "401 body");

    // Missing or empty fields are a validation problem, not a login attempt.
    let empty = login_raw(&app, "", "").await;
    let refused = problem(empty, 422, "VALIDATION_FAILED").await;
    let fields: Vec<_> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    assert_eq!(fields, [json!("email"), json!("password")]);
    let extra = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": world::STATION_EMAIL, "password": DEMO_PASSWORD, "role": "ADMIN"}),
        )
        .await;
    let refused = problem(extra, 422, "VALIDATION_FAILED").await;
    assert_eq!(refused["errors"][0]["field"], "role");
    app.cleanup().await;
}

#[tokio::test]
async fn an_inactive_user_cannot_log_in_refresh_or_read_its_profile() {
    let app = TestApp::options().without_worker().spawn().await;
    let (access, refresh) = login_pair(&app, world::STATION_EMAIL).await;
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(world::user_id(world::STATION_EMAIL))
        .execute(&app.db)
        .await
        .unwrap();
    let inactive = login_raw(&app, world::STATION_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(inactive.status(), 401);
    let unknown = login_raw(&app, "nobody@demo.bluewhale.test", DEMO_PASSWORD).await;
    assert_eq!(
        inactive.bytes().await.unwrap(),
        unknown.bytes().await.unwrap(),
        "same answer as an unknown user"
    );

    problem(
        refresh_raw(&app, &refresh).await,
        401,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
    problem(app.get("/api/v1/me", &access).await, 401, "UNAUTHENTICATED").await;
    let revoked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(world::user_id(world::STATION_EMAIL))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(revoked, 0, "the inactive user's sessions are revoked");
    app.cleanup().await;
}

#[derive(Debug, sqlx::FromRow)]
struct AuditRow {
    action: String,
    entity_type: String,
    entity_id: Option<Uuid>,
    actor_user_id: Option<Uuid>,
    actor_role: Option<String>,
    request_id: Option<String>,
    client_address: Option<String>,
    changes: Value,
    /// The whole row as JSON text.
    whole: String,
}

#[tokio::test]
async fn logins_are_audited_without_credentials() {
    let app = TestApp::options().without_worker().spawn().await;
    let user = world::user_id(world::SUPPLIER_EMAIL);
    let login = |email: &'static str, password: &'static str, request_id: &'static str| {
        app.http
            .post(format!("{}/api/v1/auth/login", app.base_url))
            .header("x-request-id", request_id)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    assert_eq!(
        login(world::SUPPLIER_EMAIL, DEMO_PASSWORD, "req-login-ok")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        login(world::SUPPLIER_EMAIL, WRONG_PASSWORD, "req-login-bad")
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        login(
            "nobody@demo.bluewhale.test",
            WRONG_PASSWORD,
            "req-login-ghost"
        )
        .await
        .unwrap()
        .status(),
        401
    );

    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT action, entity_type, entity_id, actor_user_id, actor_role, request_id, \
         c.client_address, changes, row_to_json(a)::text AS whole \
         FROM audit_log a LEFT JOIN audit_clients c ON c.audit_id = a.id WHERE action IN ('LOGIN', 'LOGIN_FAILED') ORDER BY a.occurred_at, a.id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let by_request = |id: &str| {
        rows.iter()
            .find(|r| r.request_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no audit row for request {id}"))
    };

    let ok = by_request("req-login-ok");
    assert_eq!(
        (
            ok.action.as_str(),
            ok.entity_type.as_str(),
            ok.entity_id,
            ok.actor_user_id
        ),
        ("LOGIN", "user", Some(user), Some(user))
    );
    assert_eq!(ok.actor_role.as_deref(), Some("SUPPLIER"));
    assert_eq!(ok.client_address.as_deref(), Some("127.0.0.1"));
    let bad = by_request("req-login-bad");
    assert_eq!(
        (
            bad.action.as_str(),
            bad.entity_type.as_str(),
            bad.entity_id,
            bad.actor_user_id
        ),
        ("LOGIN_FAILED", "user", Some(user), Some(user))
    );
    let ghost = by_request("req-login-ghost");
    assert_eq!(
        (ghost.action.as_str(), ghost.entity_id, ghost.actor_user_id),
        ("LOGIN_FAILED", None, None)
    );
    for row in &rows {
        assert_eq!(row.changes, json!({}), "no changes recorded on a login");
        assert_no_credentials(&row.whole, "audit row");
    }
    // The audit events waiting in the outbox carry no credentials either.
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT e::text FROM outbox, json_array_elements(events) AS e \
         WHERE e->>'subject' LIKE '%bw.evt.audit.user'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(events.len(), 3);
    for event in events {
        assert_no_credentials(&event, "audit event");
    }
    // Nor does the password hash leave the users table.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(&app.db)
        .await
        .unwrap();
    for row in &rows {
        assert!(!row.whole.contains(&hash));
    }
    app.cleanup().await;
}

// ───────────────────────────── refresh and logout ─────────────────────────────

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_its_whole_family() {
    let app = TestApp::options().without_worker().spawn().await;
    let (_, first) = login_pair(&app, world::STATION_EMAIL).await;
    let (_, other_session) = login_pair(&app, world::STATION_EMAIL).await;

    let rotated = refresh_raw(&app, &first).await;
    assert_eq!(rotated.status(), 200);
    let text = rotated.text().await.unwrap();
    assert_no_credentials(&text, "refresh response");
    let pair: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        keys(&pair),
        BTreeSet::from(["access_token", "refresh_token", "token_type", "expires_in"])
    );
    assert_eq!(
        (pair["token_type"].as_str(), pair["expires_in"].as_u64()),
        (Some("Bearer"), Some(900))
    );
    let second = pair["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let me: Value = app
        .get("/api/v1/me", pair["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], world::STATION_EMAIL);

    // The first token is spent: replaying it fails…
    problem(
        refresh_raw(&app, &first).await,
        401,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
    // …and revokes the family, so the newer token fails too.
    problem(
        refresh_raw(&app, &second).await,
        401,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM refresh_tokens WHERE family_id = \
         (SELECT family_id FROM refresh_tokens WHERE spent_at IS NOT NULL) AND revoked_at IS NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(live, 0);

    // Another login of the same user (another family) is unaffected.
    assert_eq!(refresh_raw(&app, &other_session).await.status(), 200);
    // Unknown tokens are refused alike.
    problem(
        refresh_raw(&app, "not-a-refresh-token").await,
        401,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
    app.cleanup().await;
}

#[tokio::test]
async fn logout_ends_the_session_of_its_refresh_token() {
    let app = TestApp::options().without_worker().spawn().await;
    let (access, refresh) = login_pair(&app, world::STATION_EMAIL).await;
    // Logout ends the session of the access token presented too: the foreign-token attempt
    // spends a session of its own.
    let (spent_access, _) = login_pair(&app, world::STATION_EMAIL).await;
    let (_, other_refresh) = login_pair(&app, world::STATION2_EMAIL).await;

    // Logout needs an access token.
    let anonymous = app
        .post_json(
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    problem(anonymous, 401, "UNAUTHENTICATED").await;

    // Another user's refresh token is left alone (and the answer does not tell).
    let foreign = app
        .post_json(
            "/api/v1/auth/logout",
            Some(&spent_access),
            &json!({"refresh_token": other_refresh}),
        )
        .await;
    assert_eq!(foreign.status(), 204);

    let response = app
        .post_json(
            "/api/v1/auth/logout",
            Some(&access),
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    problem(
        refresh_raw(&app, &refresh).await,
        401,
        "INVALID_REFRESH_TOKEN",
    )
    .await;

    let still: Value = refresh_raw(&app, &other_refresh)
        .await
        .json()
        .await
        .unwrap();
    assert!(still["access_token"].is_string(), "{still}");
    app.cleanup().await;
}

// ───────────────────────────── profile ─────────────────────────────

#[tokio::test]
async fn me_describes_the_user_and_nothing_else() {
    let app = TestApp::options().without_worker().spawn().await;
    let cases = [
        (
            world::STATION_EMAIL,
            "Mathieu Garnier",
            "STATION",
            "STATION",
            Some(world::station_id(world::STATION_CODE)),
            "Station fruitière du Calavon",
        ),
        (
            world::SUPPLIER_EMAIL,
            "Nadia Berthier",
            "SUPPLIER",
            "SUPPLIER",
            Some(world::supplier_id(world::SUPPLIER_CODE)),
            "Emballages du Sud-Est",
        ),
        (
            world::ADMIN_EMAIL,
            "Hélène Marchetti",
            "ADMIN",
            "BLUEWHALE",
            None,
            "Blue Whale",
        ),
        (
            world::HANDLER_EMAIL,
            "Camille Fabre",
            "HANDLER",
            "BLUEWHALE",
            None,
            "Blue Whale",
        ),
    ];
    for (email, full_name, role, org_type, org_id, org_name) in cases {
        let token = app.login(email).await;
        let response = app.get("/api/v1/me", &token).await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        assert_no_credentials(&text, "profile");
        let me: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            keys(&me),
            BTreeSet::from(["id", "email", "full_name", "role", "organization"]),
            "{email}"
        );
        assert_eq!(
            keys(&me["organization"]),
            BTreeSet::from(["type", "id", "name"]),
            "{email}"
        );
        assert_eq!(
            me,
            json!({
                "id": world::user_id(email),
                "email": email,
                "full_name": full_name,
                "role": role,
                "organization": {"type": org_type, "id": org_id, "name": org_name},
            })
        );
    }
    problem(get_me_anonymous(&app).await, 401, "UNAUTHENTICATED").await;
    app.cleanup().await;
}

async fn get_me_anonymous(app: &TestApp) -> reqwest::Response {
    crate::http_errors::get_anonymous(app, "/api/v1/me").await
}

// ───────────────────────────── access tokens ─────────────────────────────

#[tokio::test]
async fn bad_access_tokens_get_401_with_a_bearer_challenge_and_publish_nothing() {
    let app = TestApp::options().without_worker().spawn().await;
    let station_user = world::user_id(world::STATION_EMAIL);
    let station = Some(world::station_id(world::STATION_CODE));
    let now = chrono::Utc::now();
    let ours = TokenKeys::new(&app.config.auth);
    let with_config = |change: &dyn Fn(&mut bluewhale::config::AuthConfig)| {
        let mut config = app.config.auth.clone();
        change(&mut config);
        TokenKeys::new(&config)
    };
    let issue = |keys: &TokenKeys, at: chrono::DateTime<chrono::Utc>| {
        keys.issue(
            station_user,
            Role::Station,
            OrgType::Station,
            station,
            uuid::Uuid::nil(),
            at,
        )
        .unwrap()
    };

    let good = issue(&ours, now);
    let forged = issue(
        &with_config(&|c| c.jwt_secret = Secret::new("another-secret-of-sufficient-length-0123")),
        now,
    );
    let expired = issue(&ours, now - chrono::Duration::hours(2));
    let wrong_audience = issue(&with_config(&|c| c.audience = "another-api".into()), now);
    let wrong_issuer = issue(&with_config(&|c| c.issuer = "someone-else".into()), now);
    let tampered = {
        let parts: Vec<&str> = good.split('.').collect();
        let payload = String::from_utf8(b64url_decode(parts[1])).unwrap();
        let admin = payload.replace(r#""role":"STATION""#, r#""role":"ADMIN""#);
        assert_ne!(admin, payload, "the role was flipped");
        format!(
            "{}.{}.{}",
            parts[0],
            b64url_encode(admin.as_bytes()),
            parts[2]
        )
    };
    let alg_none = {
        let parts: Vec<&str> = good.split('.').collect();
        format!(
            "{}.{}.",
            b64url_encode(br#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        )
    };
    let body = serde_json::to_vec(&three_supplier_order()).unwrap();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing header", None),
        ("empty bearer", Some("Bearer ".into())),
        ("malformed", Some("Bearer not-a-jwt".into())),
        ("wrong scheme", Some(format!("Basic {good}"))),
        (
            "forged with another secret",
            Some(format!("Bearer {forged}")),
        ),
        (
            "tampered payload (role ADMIN)",
            Some(format!("Bearer {tampered}")),
        ),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        ("expired", Some(format!("Bearer {expired}"))),
        ("wrong audience", Some(format!("Bearer {wrong_audience}"))),
        ("wrong issuer", Some(format!("Bearer {wrong_issuer}"))),
    ];
    let before = footprint(&app).await;
    for (name, authorization) in &cases {
        let response = post_order_raw(
            &app,
            authorization.as_deref(),
            Some(name),
            Some("application/json"),
            body.clone(),
        )
        .await;
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{name}"
        );
        let refused = problem(response, 401, "UNAUTHENTICATED").await;
        assert!(refused.get("errors").is_none(), "{name}: {refused}");
        assert_nothing_published_or_written(&app, &before, name).await;
        // Reads are guarded the same way.
        let mut me = app.http.get(format!("{}/api/v1/me", app.base_url));
        if let Some(authorization) = authorization {
            me = me.header("authorization", authorization);
        }
        assert_eq!(me.send().await.unwrap().status(), 401, "{name} on /me");
    }

    // Control: the same order with a token from our keys is accepted, so each refusal above
    // was the token's doing.
    let accepted = post_order_raw(
        &app,
        Some(&format!("Bearer {good}")),
        Some("good-token"),
        Some("application/json"),
        body,
    )
    .await;
    assert_eq!(accepted.status(), 202);
    assert_eq!(app.stream_messages("COMMANDS").await, 1);
    app.cleanup().await;
}
