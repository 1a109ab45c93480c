//! Dead-letter repair through the ops API: a dead-lettered order reads DEAD_LETTERED, operators
//! inspect it, replay it once (racing replays, a command processed meanwhile), discard it, and
//! resolve every open one matching a filter; nobody else may.

use bluewhale_tests::faults::{
    break_master_orders, dead_lettered_order, heal, wait_for, wait_for_letter,
};
use bluewhale_tests::{TestApp, three_supplier_order, world};
use serde_json::{Value, json};
use uuid::Uuid;

const WAIT: (&str, &str) = ("Prefer", "wait=10");

async fn replay(app: &TestApp, token: &str, letter: &str, key: &str) -> reqwest::Response {
    let path = format!("/api/v1/ops/dead-letters/{letter}/replay");
    app.write(&path, token, key, &json!({}), &[WAIT]).await
}

#[tokio::test]
async fn a_dead_lettered_order_reads_so_until_an_operator_replays_it_and_it_is_priced() {
    let app = TestApp::spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let handler = app.login(world::HANDLER_EMAIL).await;
    let (order_id, letter_id) = dead_lettered_order(&app, &station, "poisoned").await;

    // The station sees that it is stuck, not why; staff see the reason.
    let seen = app.get_order(&station, &order_id).await;
    assert_eq!(seen["status"], "DEAD_LETTERED");
    assert!(seen["dead_letter"].get("reason").is_none(), "{seen}");
    let staff_view = app.get_order(&handler, &order_id).await;
    assert_eq!(staff_view["dead_letter"]["reason"], "permanent_failure");
    assert_eq!(
        staff_view["dead_letter"]["dead_letter_id"],
        letter_id.as_str()
    );
    let command = app
        .get_json(&format!("/api/v1/commands/{order_id}"), &station)
        .await;
    assert_eq!(command["status"], "DEAD_LETTERED");

    // Operators find it, and everything they need to decide.
    let open = app
        .get_json("/api/v1/ops/dead-letters?status=OPEN", &handler)
        .await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    assert_eq!(open["items"][0]["id"], letter_id.as_str());
    assert_eq!(open["next_cursor"], Value::Null);
    let letter = app
        .get_json(&format!("/api/v1/ops/dead-letters/{letter_id}"), &handler)
        .await;
    assert_eq!(letter["status"], "OPEN");
    assert_eq!(letter["reason"], "permanent_failure");
    assert!(letter["error"].as_str().unwrap().contains("injected fault"));
    assert_eq!(letter["command_id"], order_id.as_str());
    assert_eq!(letter["command_status"], "DEAD_LETTERED");
    assert!(letter["subject"].as_str().unwrap().ends_with(&order_id));
    assert!(letter["payload"].as_str().unwrap().contains(&order_id));
    assert!(letter["headers"]["Nats-Msg-Id"].is_array(), "{letter}");
    assert_eq!(letter["delivery_count"], 1);

    // The replay answers with the dead letter as it now is, and the order is priced.
    let replayed = replay(&app, &handler, &letter_id, "replay-1").await;
    assert_eq!(replayed.status(), 200);
    let replayed: Value = replayed.json().await.unwrap();
    assert_eq!(replayed["status"], "REPLAYED");
    assert_eq!(
        replayed["resolved_by"],
        world::user_id(world::HANDLER_EMAIL).to_string()
    );
    assert!(replayed["replay_message_id"].is_string());
    let order = app.wait_until_processed(&station, &order_id).await;
    assert_eq!(order["status"], "REGISTERED");
    assert_eq!(order["total_including_tax"], "5051.40");
    let letter = app
        .get_json(&format!("/api/v1/ops/dead-letters/{letter_id}"), &handler)
        .await;
    assert_eq!(letter["command_status"], "APPLIED");

    // Audited with the operator and the change.
    let (actor, action, changes): (Option<Uuid>, String, Value) = sqlx::query_as(
        "SELECT actor_user_id, action, changes FROM audit_log \
         WHERE entity_type = 'dead_letter' AND entity_id = $1",
    )
    .bind(letter_id.parse::<Uuid>().unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(actor, Some(world::user_id(world::HANDLER_EMAIL)));
    assert_eq!(action, "TRANSITION");
    assert_eq!(changes["status"], json!({"old": "OPEN", "new": "REPLAYED"}));

    // Once resolved, never again; the same key answers the same.
    let again = replay(&app, &handler, &letter_id, "replay-2").await;
    assert_eq!(again.status(), 409);
    let problem: Value = again.json().await.unwrap();
    assert_eq!(problem["code"], "DEAD_LETTER_NOT_OPEN");
    let same = replay(&app, &handler, &letter_id, "replay-1").await;
    assert_eq!(same.status(), 200);
    assert_eq!(app.count("master_orders").await, 1);
    assert_eq!(app.count("purchase_orders").await, 3);
    app.cleanup().await;
}

#[tokio::test]
async fn racing_replays_of_a_command_processed_meanwhile_apply_it_once() {
    let app = TestApp::spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let admin = app.login(world::ADMIN_EMAIL).await;
    let handler = app.login(world::HANDLER_EMAIL).await;
    let (order_id, letter_id) = dead_lettered_order(&app, &station, "processed-meanwhile").await;

    // Meanwhile another copy of the command reaches the worker and is processed.
    let (subject, payload): (String, Vec<u8>) =
        sqlx::query_as("SELECT subject, payload FROM dead_letters WHERE id = $1")
            .bind(letter_id.parse::<Uuid>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    app.publish_copy(subject, payload).await;
    assert_eq!(
        app.wait_until_processed(&station, &order_id).await["status"],
        "REGISTERED"
    );

    // Two operators replay it at the same moment: one resolution, one refusal.
    let (first, second) = tokio::join!(
        replay(&app, &admin, &letter_id, "race-a"),
        replay(&app, &handler, &letter_id, "race-b"),
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let resolutions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE entity_type = 'dead_letter' AND entity_id = $1",
    )
    .bind(letter_id.parse::<Uuid>().unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(resolutions, 1);

    // The replayed copy is skipped as processed: one order, one set of purchase orders.
    wait_for("replay consumed", async || {
        app.count("outbox").await == 0 && app.stream_messages("COMMANDS").await == 0
    })
    .await;
    assert_eq!(app.count("master_orders").await, 1);
    assert_eq!(app.count("purchase_orders").await, 3);
    let commands: i64 = sqlx::query_scalar("SELECT count(*) FROM commands WHERE id = $1")
        .bind(order_id.parse::<Uuid>().unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(commands, 1);
    let letter = app
        .get_json(&format!("/api/v1/ops/dead-letters/{letter_id}"), &admin)
        .await;
    assert_eq!(
        (&letter["status"], &letter["command_status"]),
        (&json!("REPLAYED"), &json!("APPLIED"))
    );
    app.cleanup().await;
}

#[tokio::test]
async fn only_admins_and_handlers_operate_and_a_refusal_publishes_nothing() {
    let app = TestApp::spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let (_, letter_id) = dead_lettered_order(&app, &station, "forbidden").await;
    let before = app.stream_messages("COMMANDS").await;
    for email in [
        world::MANAGER_EMAIL,
        world::STATION_EMAIL,
        world::SUPPLIER_EMAIL,
    ] {
        let token = app.login(email).await;
        for path in [
            "/api/v1/ops/dead-letters".to_owned(),
            format!("/api/v1/ops/dead-letters/{letter_id}"),
        ] {
            assert_eq!(app.get(&path, &token).await.status(), 403, "{email} {path}");
        }
        let refused = replay(&app, &token, &letter_id, "not-mine").await;
        assert_eq!(refused.status(), 403, "{email}");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["code"], "FORBIDDEN");
        let bulk = app
            .write(
                "/api/v1/ops/dead-letters/discard",
                &token,
                "not-mine-bulk",
                &json!({"reason": "tidy"}),
                &[],
            )
            .await;
        assert_eq!(bulk.status(), 403, "{email}");
    }
    assert_eq!(app.stream_messages("COMMANDS").await, before);
    let status: String = sqlx::query_scalar("SELECT status FROM dead_letters")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "OPEN");
    app.cleanup().await;
}

#[tokio::test]
async fn operators_discard_one_and_replay_every_matching_one_in_bulk() {
    let app = TestApp::spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let admin = app.login(world::ADMIN_EMAIL).await;
    break_master_orders(&app, "22023", None).await;
    let mut orders = Vec::new();
    for key in ["bulk-1", "bulk-2", "bulk-3"] {
        let id = app
            .accept_order(&station, key, &three_supplier_order())
            .await;
        wait_for_letter(&app, &id).await;
        orders.push(id);
    }
    heal(&app).await;
    // An undecodable message can be discarded, never replayed.
    let garbage = app
        .ns
        .command_subject("order.submit", Uuid::new_v4(), Uuid::new_v4());
    app.js
        .publish(garbage, "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    wait_for("four dead letters", async || {
        app.count("dead_letters").await == 4
    })
    .await;

    // Paged newest first, two at a time, with a cursor; a forged cursor is a 422.
    let first = app
        .get_json("/api/v1/ops/dead-letters?limit=2", &admin)
        .await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get_json(
            &format!("/api/v1/ops/dead-letters?limit=2&cursor={cursor}"),
            &admin,
        )
        .await;
    let ids: Vec<&Value> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|item| &item["id"])
        .collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(first["items"][0]["reason"], "undecodable");
    assert_eq!(second["next_cursor"], Value::Null);
    let forged = app
        .get("/api/v1/ops/dead-letters?cursor=bm9wZQ", &admin)
        .await;
    assert_eq!(forged.status(), 422);
    let problem: Value = forged.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "cursor");
    let undecodable = first["items"][0]["id"].as_str().unwrap().to_owned();
    let refused = replay(&app, &admin, &undecodable, "replay-garbage").await;
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "DEAD_LETTER_NOT_REPLAYABLE");

    // A discard needs a reason, and keeps it.
    let path = format!("/api/v1/ops/dead-letters/{undecodable}/discard");
    let blank = app
        .write(&path, &admin, "discard-0", &json!({"reason": " "}), &[WAIT])
        .await;
    assert_eq!(blank.status(), 422);
    let problem: Value = blank.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "reason");
    let discarded = app
        .write(
            &path,
            &admin,
            "discard-1",
            &json!({"reason": "garbage from a test client"}),
            &[WAIT],
        )
        .await;
    assert_eq!(discarded.status(), 200);
    let discarded: Value = discarded.json().await.unwrap();
    assert_eq!(
        (&discarded["status"], &discarded["resolution_reason"]),
        (&json!("DISCARDED"), &json!("garbage from a test client"))
    );

    // Every open permanent failure replayed at once, answering how many.
    let bulk = app
        .write(
            "/api/v1/ops/dead-letters/replay",
            &admin,
            "bulk-replay",
            &json!({"filter": {"reason": "permanent_failure"}}),
            &[WAIT],
        )
        .await;
    assert_eq!(bulk.status(), 200);
    let bulk: Value = bulk.json().await.unwrap();
    assert_eq!(
        (
            &bulk["matched"],
            &bulk["applied"],
            &bulk["pending"],
            &bulk["more"]
        ),
        (&json!(3), &json!(3), &json!(0), &json!(false))
    );
    for id in &orders {
        assert_eq!(
            app.wait_until_processed(&station, id).await["status"],
            "REGISTERED"
        );
    }
    let none_left = app
        .write(
            "/api/v1/ops/dead-letters/discard",
            &admin,
            "bulk-discard",
            &json!({"reason": "nothing should match"}),
            &[WAIT],
        )
        .await;
    let none_left: Value = none_left.json().await.unwrap();
    assert_eq!(none_left["matched"], 0);
    let unknown = app
        .write(
            "/api/v1/ops/dead-letters/replay",
            &admin,
            "bulk-unknown",
            &json!({"filter": {"reason": "bad_luck"}}),
            &[],
        )
        .await;
    assert_eq!(unknown.status(), 422);
    let replayed = app
        .get_json("/api/v1/ops/dead-letters?status=REPLAYED", &admin)
        .await;
    assert_eq!(replayed["items"].as_array().unwrap().len(), 3);
    assert_eq!(app.count("master_orders").await, 3);
    app.cleanup().await;
}
