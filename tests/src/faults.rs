//! Real faults in the real database: a trigger makes inserts into `master_orders` fail with a
//! chosen SQLSTATE, so the worker sees exactly what PostgreSQL would send.

use std::time::Duration;

use crate::TestApp;

/// Makes inserts into master_orders fail with `sqlstate` — every insert, or only the order
/// with `only_key` as idempotency key — until [`heal`].
pub async fn break_master_orders(app: &TestApp, sqlstate: &str, only_key: Option<&str>) {
    let condition = only_key.map_or("true".to_owned(), |key| {
        format!("NEW.idempotency_key = '{key}'")
    });
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF {condition} THEN RAISE EXCEPTION 'injected fault' USING ERRCODE = '{sqlstate}'; \
         END IF; RETURN NEW; END $$"
    )))
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER test_fault BEFORE INSERT ON master_orders \
         FOR EACH ROW EXECUTE FUNCTION test_fault()",
    )
    .execute(&app.db)
    .await
    .unwrap();
}

/// Removes the fault of [`break_master_orders`].
pub async fn heal(app: &TestApp) {
    sqlx::query("DROP TRIGGER test_fault ON master_orders")
        .execute(&app.db)
        .await
        .unwrap();
}

/// Polls `condition` every 50 ms until it holds (or panics after 15 s).
pub async fn wait_for(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}
