//! Personal-data retention (issue 9 §5): client addresses and user agents older than the
//! setting, dead login counters and old revocations are deleted by a job that runs once
//! across workers; the audit rows themselves stay.

use std::time::Duration;

use bluewhale_tests::{DEMO_PASSWORD, TestApp, world};
use serde_json::json;

#[tokio::test]
async fn client_details_past_retention_are_deleted_and_the_audit_rows_stay() {
    let mut app = TestApp::options()
        .env("BW_RETENTION_INTERVAL_SECS", "1")
        .env("BW_CLIENT_DATA_RETENTION_DAYS", "90")
        .without_worker()
        .spawn()
        .await;
    for (email, password) in [
        (world::STATION_EMAIL, DEMO_PASSWORD),
        (world::STATION_EMAIL, "a-wrong-password-991"),
        (world::SUPPLIER_EMAIL, DEMO_PASSWORD),
    ] {
        app.post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await;
    }
    let token = app.login(world::ADMIN_EMAIL).await;
    assert_eq!(app.get("/api/v1/me", &token).await.status(), 200);
    let audit_rows = app.count("audit_log").await;
    assert_eq!(app.count("audit_clients").await, 4);
    // The station's two events are 91 days old; the rest is recent.
    sqlx::query(
        "UPDATE audit_clients c SET occurred_at = now() - interval '91 days' FROM audit_log a \
         WHERE a.id = c.audit_id AND a.entity_id = $1",
    )
    .bind(world::user_id(world::STATION_EMAIL))
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE login_limits SET window_start = now() - interval '3 days'")
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO revoked_sessions VALUES (gen_random_uuid(), $1, now() - interval '3 days'), \
         (gen_random_uuid(), $1, now())",
    )
    .bind(world::user_id(world::SUPPLIER_EMAIL))
    .execute(&app.db)
    .await
    .unwrap();

    app.start_worker().await;
    let (_stop, _second) = app.second_worker();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app.count("audit_clients").await != 2 || app.count("login_limits").await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "retention never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let station_left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_clients c JOIN audit_log a ON a.id = c.audit_id \
         WHERE a.entity_id = $1",
    )
    .bind(world::user_id(world::STATION_EMAIL))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        station_left, 0,
        "the old client details went, the recent two stay"
    );
    assert_eq!(
        app.count("revoked_sessions").await,
        1,
        "the old revocation went"
    );
    assert_eq!(
        app.count("audit_log").await,
        audit_rows,
        "audit rows untouched"
    );
    app.cleanup().await;
}
