//! The demo seed is idempotent: running it on a seeded database changes nothing.

use bluewhale::config::Secret;
use bluewhale_tests::{DEMO_PASSWORD, TestApp};

#[tokio::test]
async fn running_the_seed_again_changes_nothing() {
    let app = TestApp::options().without_worker().spawn().await;
    let tables = [
        "stations",
        "suppliers",
        "products",
        "master_contracts",
        "contract_lines",
        "users",
        "audit_log",
    ];
    let mut before = Vec::new();
    for table in tables {
        before.push(app.count(table).await);
    }
    let hashes_before: Vec<String> =
        sqlx::query_scalar("SELECT password_hash FROM users ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let report = bluewhale_seed::run(&app.db, &Secret::new(DEMO_PASSWORD), today)
        .await
        .unwrap();
    assert!(report.is_empty(), "a second seed inserted rows: {report}");
    for (table, count) in tables.iter().zip(before) {
        assert_eq!(app.count(table).await, count, "{table}");
    }
    let hashes_after: Vec<String> =
        sqlx::query_scalar("SELECT password_hash FROM users ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        hashes_before, hashes_after,
        "existing users are not re-hashed"
    );
    assert!(has_the_promised_world(&app).await);
    app.cleanup().await;
}

/// The world the issue asks for: ≥ 4 stations, 5 suppliers, 25 products, one ACTIVE contract
/// per supplier, a DRAFT and an EXPIRED one, seven demo users.
async fn has_the_promised_world(app: &TestApp) -> bool {
    let (active, draft, expired): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'ACTIVE'), count(*) FILTER (WHERE status = 'DRAFT'), \
         count(*) FILTER (WHERE status = 'EXPIRED') FROM master_contracts",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    app.count("stations").await >= 4
        && app.count("suppliers").await == 5
        && app.count("products").await >= 25
        && (active, draft, expired) == (5, 1, 1)
        && app.count("users").await == 7
}
