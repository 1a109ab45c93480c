//! Real faults in the real database: a trigger makes inserts into `master_orders` fail with a
//! chosen SQLSTATE, so the worker sees exactly what PostgreSQL would send.

use std::time::Duration;

use uuid::Uuid;

use crate::{TestApp, three_supplier_order};

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

/// Removes the fault of [`break_master_orders`] (the function too, so it can break again).
pub async fn heal(app: &TestApp) {
    for statement in [
        "DROP TRIGGER test_fault ON master_orders",
        "DROP FUNCTION test_fault()",
    ] {
        sqlx::query(statement).execute(&app.db).await.unwrap();
    }
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

/// An order dead-lettered at once by a permanent database failure (SQLSTATE 22023): its id
/// and its dead letter's.
pub async fn dead_lettered_order(app: &TestApp, station: &str, key: &str) -> (String, String) {
    break_master_orders(app, "22023", Some(key)).await;
    let order_id = app
        .accept_order(station, key, &three_supplier_order())
        .await;
    let letter_id = wait_for_letter(app, &order_id).await;
    heal(app).await;
    (order_id, letter_id)
}

/// The id of the dead letter of `command_id`, once recorded.
pub async fn wait_for_letter(app: &TestApp, command_id: &str) -> String {
    let command_id: Uuid = command_id.parse().unwrap();
    let mut found = None;
    wait_for("dead letter", async || {
        found = sqlx::query_scalar::<_, Uuid>("SELECT id FROM dead_letters WHERE command_id = $1")
            .bind(command_id)
            .fetch_optional(&app.db)
            .await
            .unwrap();
        found.is_some()
    })
    .await;
    found.unwrap().to_string()
}
