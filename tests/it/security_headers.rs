//! HSTS behind TLS and CORS from an allow-list (issue 9 §3); neither by default.

use bluewhale_tests::TestApp;
use reqwest::Method;

const ALLOWED: &str = "https://app.example.test";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(Method::OPTIONS, format!("{}/api/v1/orders", app.base_url))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn hsts_and_cors_follow_their_settings() {
    let app = TestApp::options()
        .env("BW_HSTS_MAX_AGE_SECS", "31536000")
        .env("BW_CORS_ALLOWED_ORIGINS", ALLOWED)
        .without_worker()
        .spawn()
        .await;
    let health = app
        .http
        .get(format!("{}/health", app.base_url))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(health.headers()["access-control-allow-origin"], ALLOWED);
    assert!(
        health.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-request-id")
    );

    let allowed = preflight(&app, ALLOWED).await;
    assert_eq!(allowed.headers()["access-control-allow-origin"], ALLOWED);
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );
    let headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(headers.contains("idempotency-key"), "{headers}");

    let foreign = preflight(&app, "https://evil.example").await;
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "an origin off the list gets no grant"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn by_default_there_is_no_hsts_and_no_cross_origin_grant() {
    let app = TestApp::options().without_worker().spawn().await;
    let health = app
        .http
        .get(format!("{}/health", app.base_url))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert!(health.headers().get("strict-transport-security").is_none());
    assert!(
        health
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let refused = preflight(&app, ALLOWED).await;
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(
        refused.status(),
        405,
        "no preflight handling without an allow-list"
    );
    app.cleanup().await;
}
