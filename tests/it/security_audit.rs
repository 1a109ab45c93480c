//! Security events in the audit trail (issue 9 §4): every 403 is audited as ACCESS_DENIED
//! with who, what and from where; other refusals are not.

use bluewhale_tests::{TestApp, world};

/// Actor, role, reason, request id, client address, user agent.
type DeniedRow = (
    Option<uuid::Uuid>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[tokio::test]
async fn every_403_is_audited_with_the_actor_the_request_and_the_client() {
    let app = TestApp::options().without_worker().spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let denied = app
        .http
        .get(format!("{}/api/v1/ops/overview", app.base_url))
        .bearer_auth(&station)
        .header("x-request-id", "req-denied-1")
        .header("user-agent", "curious-client/2")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    // Not 403s: no token (401), another organisation's resource (404).
    let anonymous = app
        .http
        .get(format!("{}/api/v1/ops/overview", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let missing = app
        .get(
            &format!("/api/v1/orders/{}", uuid::Uuid::new_v4()),
            &station,
        )
        .await;
    assert_eq!(missing.status(), 404);

    let rows: Vec<DeniedRow> = sqlx::query_as(
        "SELECT a.actor_user_id, a.actor_role, a.reason, a.request_id, c.client_address, \
             c.user_agent FROM audit_log a LEFT JOIN audit_clients c ON c.audit_id = a.id \
             WHERE a.action = 'ACCESS_DENIED'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [(
            Some(world::user_id(world::STATION_EMAIL)),
            Some("STATION".to_owned()),
            Some("GET /api/v1/ops/overview".to_owned()),
            Some("req-denied-1".to_owned()),
            Some("127.0.0.1".to_owned()),
            Some("curious-client/2".to_owned()),
        )]
    );
    app.cleanup().await;
}
