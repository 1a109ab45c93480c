//! The live event stream: each user sees exactly the events of what they may read, in stream
//! order, and resumes after a reconnect without losing or repeating any.

use std::time::Duration;

use bluewhale_tests::{SseClient, SseEvent, TestApp, three_supplier_order, world};
use serde_json::{Value, json};

const WITHIN: Duration = Duration::from_secs(10);

/// Reads events until one of type `kind` about `entity` arrives (panics after 10 s).
async fn until(stream: &mut SseClient, kind: &str, entity: &str) -> Vec<SseEvent> {
    let mut seen = Vec::new();
    loop {
        let event = stream
            .next_event(WITHIN)
            .await
            .unwrap_or_else(|| panic!("no {kind} event; got {:?}", kinds(&seen)));
        let done = event.event == kind && mentions(&event, entity);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

fn kinds(events: &[SseEvent]) -> Vec<String> {
    events.iter().map(|e| e.event.clone()).collect()
}

/// Whether an event's payload names this id anywhere.
fn mentions(event: &SseEvent, id: &str) -> bool {
    event.data.to_string().contains(id)
}

async fn confirm(app: &TestApp, order: &Value, supplier_code: &str, key: &str) -> String {
    let supplier = world::supplier_id(supplier_code).to_string();
    let po = order["purchase_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|po| po["supplier_id"] == supplier.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = app.login(world::SUPPLIER_EMAIL).await;
    let date = order["order_date"].as_str().unwrap();
    let response = app
        .write(
            &format!("/api/v1/purchase-orders/{po}/confirm"),
            &token,
            key,
            &json!({"confirmed_delivery_date": date}),
            &[("Prefer", "wait=10")],
        )
        .await;
    assert_eq!(response.status(), 200);
    po
}

#[tokio::test]
async fn each_user_sees_the_events_of_what_they_may_read_and_nothing_else() {
    let app = TestApp::spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let station2 = app.login(world::STATION2_EMAIL).await;
    let supplier = app.login(world::SUPPLIER_EMAIL).await;
    let handler = app.login(world::HANDLER_EMAIL).await;
    let mut station_stream = app.open_event_stream(&station, None).await;
    let mut station2_stream = app.open_event_stream(&station2, None).await;
    let mut supplier_stream = app.open_event_stream(&supplier, None).await;
    let mut staff_stream = app.open_event_stream(&handler, None).await;

    let order = app.priced_order("sse-first").await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let po = confirm(&app, &order, world::SUPPLIER_CODE, "sse-confirm").await;
    // Then station 2 orders: in stream order, its own events come after station 1's.
    let mut second = three_supplier_order();
    second["station_id"] = json!(world::station_id(world::STATION2_CODE));
    let second_id = app.accept_order(&station2, "sse-second", &second).await;
    app.wait_until_processed(&station2, &second_id).await;

    // Station 1: its order, its three purchase orders, the confirmation, the status change.
    let seen = until(&mut station_stream, "order.status_changed", &order_id).await;
    let mut got = kinds(&seen);
    got.sort();
    assert_eq!(
        got,
        [
            "order.priced",
            "order.status_changed",
            "purchase_order.confirmed",
            "purchase_order.created",
            "purchase_order.created",
            "purchase_order.created"
        ]
    );
    assert!(seen.iter().all(|e| mentions(e, &order_id)));
    let confirmed = seen
        .iter()
        .find(|e| e.event == "purchase_order.confirmed")
        .unwrap();
    assert_eq!(confirmed.data["data"]["purchase_order"]["id"], po.as_str());
    assert_eq!(confirmed.data["type"], "purchase_order.confirmed");
    // Ids are the stream sequence, increasing.
    let ids: Vec<u64> = seen.iter().map(|e| e.id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // Station 2: the first thing it sees is its own order, never station 1's.
    let seen2 = until(&mut station2_stream, "order.priced", &second_id).await;
    assert!(
        seen2.iter().all(|e| !mentions(e, &order_id)),
        "station 2 saw station 1's events: {:?}",
        kinds(&seen2)
    );
    assert!(seen2.iter().all(|e| mentions(e, &second_id)));

    // The supplier: its own purchase orders only, never the master order or another supplier's.
    let seen_supplier = until(&mut supplier_stream, "purchase_order.confirmed", &po).await;
    assert_eq!(
        kinds(&seen_supplier),
        ["purchase_order.created", "purchase_order.confirmed"]
    );
    let own = world::supplier_id(world::SUPPLIER_CODE).to_string();
    assert!(
        seen_supplier
            .iter()
            .all(|e| e.data["data"]["purchase_order"]["supplier_id"] == own.as_str())
    );

    // Staff: everything, both stations' orders.
    let seen_staff = until(&mut staff_stream, "order.priced", &second_id).await;
    assert!(
        seen_staff
            .iter()
            .any(|e| e.event == "order.priced" && mentions(e, &order_id))
    );
    assert_eq!(
        seen_staff
            .iter()
            .filter(|e| e.event == "purchase_order.created")
            .count(),
        6
    );
    assert!(
        seen_staff.iter().all(|e| !e.event.starts_with("audit.")),
        "audit events are not on users' streams"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_client_resumes_after_its_last_event_id_without_loss_or_repeat() {
    let mut app = TestApp::spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let mut reference = app.open_event_stream(&station, None).await;
    let mut first = app.open_event_stream(&station, None).await;
    let order = app.priced_order("sse-resume").await;
    let order_id = order["id"].as_str().unwrap().to_owned();

    // The first client reads two events and goes away; meanwhile the order moves on.
    let a = first.next_event(WITHIN).await.expect("first event");
    let b = first.next_event(WITHIN).await.expect("second event");
    drop(first);
    confirm(&app, &order, world::SUPPLIER_CODE, "sse-resume-confirm").await;

    let all = until(&mut reference, "order.status_changed", &order_id).await;
    assert_eq!(
        (all[0].id.as_str(), all[1].id.as_str()),
        (a.id.as_str(), b.id.as_str())
    );
    let mut resumed = app.open_event_stream(&station, Some(&b.id)).await;
    for expected in &all[2..] {
        let event = resumed.next_event(WITHIN).await.expect("resumed event");
        assert_eq!(
            (event.id.as_str(), event.event.as_str()),
            (expected.id.as_str(), expected.event.as_str())
        );
        assert_eq!(event.data, expected.data);
    }

    // A Last-Event-ID that is not one of ours is refused; no token, no stream.
    let bad = app
        .http
        .get(format!("{}/api/v1/events/stream", app.base_url))
        .bearer_auth(&station)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "Last-Event-ID");
    let anonymous = app
        .http
        .get(format!("{}/api/v1/events/stream", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // Shutting down ends open streams instead of waiting for them forever.
    tokio::time::timeout(WITHIN, app.stop_ingress())
        .await
        .expect("the ingress drains with an event stream open");
    assert!(
        resumed.next_event(WITHIN).await.is_none(),
        "the stream ended"
    );
    app.cleanup().await;
}
