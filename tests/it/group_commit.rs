//! Group commit in the ingress: concurrent submissions are stored as atomic batches, each
//! answered with its own command, a retried key among them still de-duplicated.

use std::collections::{HashMap, HashSet};

use std::time::Duration;

use bluewhale::group_commit::GroupSettings;
use bluewhale::messaging::group_publish::{GroupPublisher, Outgoing};
use bluewhale_tests::{TestApp, three_supplier_order, world};
use serde_json::Value;
use uuid::Uuid;

#[tokio::test]
async fn concurrent_submissions_are_stored_in_batches_each_once_with_its_own_answer() {
    let app = TestApp::options().without_worker().spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let body = three_supplier_order();
    // 60 distinct keys, and every tenth key sent twice at the same time: the copies meet in
    // one group (an atomic batch refuses a repeated message id as a whole) or in two.
    let keys: Vec<String> = (0..60)
        .flat_map(|i| {
            let key = format!("burst-{i}");
            let copies = if i % 10 == 0 { 2 } else { 1 };
            std::iter::repeat_n(key, copies)
        })
        .collect();
    let answers = futures::future::join_all(keys.iter().map(|key| {
        let (app, token, body) = (&app, &token, &body);
        async move {
            let response = app.submit_order(token, key, body).await;
            assert_eq!(response.status(), 202, "{key}");
            let accepted: Value = response.json().await.unwrap();
            (key.clone(), accepted["id"].as_str().unwrap().to_owned())
        }
    }))
    .await;
    let mut ids: HashMap<String, HashSet<String>> = HashMap::new();
    for (key, id) in answers {
        ids.entry(key).or_default().insert(id);
    }
    assert_eq!(ids.len(), 60);
    assert!(ids.values().all(|set| set.len() == 1), "one id per key");

    // Each command stored once.
    let stream = app.js.get_stream(app.ns.stream("COMMANDS")).await.unwrap();
    assert_eq!(app.stream_messages("COMMANDS").await, 60);
    let mut stored = HashSet::new();
    for seq in 1..=stream.clone().info().await.unwrap().state.last_sequence {
        let Ok(message) = stream.get_raw_message(seq).await else {
            continue;
        };
        let envelope: Value = serde_json::from_slice(&message.payload).unwrap();
        assert!(stored.insert(envelope["id"].as_str().unwrap().to_owned()));
    }
    let answered: HashSet<String> = ids.into_values().flatten().collect();
    assert_eq!(stored, answered);
    app.cleanup().await;
}

#[tokio::test]
async fn publishes_queued_behind_a_group_go_out_as_one_atomic_batch() {
    let app = TestApp::options().without_worker().spawn().await;
    // One group at a time: the first publish holds the slot, the others queue behind it and
    // form the next group.
    let publisher = GroupPublisher::spawn(
        app.js.clone(),
        GroupSettings {
            linger: Duration::ZERO,
            max: 1_000,
            in_flight: 1,
        },
    );
    let subject = app.ns.subject("bw.cmd.test.group");
    let ids: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();
    // The last id twice: its copy must be answered as a duplicate, not stored again.
    let messages: Vec<Uuid> = ids.iter().copied().chain([ids[49]]).collect();
    let results = futures::future::join_all(messages.iter().map(|id| {
        publisher.publish(Outgoing {
            subject: subject.clone(),
            message_id: *id,
            headers: async_nats::HeaderMap::new(),
            payload: id.to_string().into(),
        })
    }))
    .await;
    let results: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|p| p.duplicate).count(), 1);
    assert_eq!(app.stream_messages("COMMANDS").await, 50);
    let stream = app.js.get_stream(app.ns.stream("COMMANDS")).await.unwrap();
    let mut batches = HashMap::<String, usize>::new();
    for published in results.iter().filter(|p| !p.duplicate) {
        let message = stream.get_raw_message(published.sequence).await.unwrap();
        if let Some(batch) = message.headers.get("Nats-Batch-Id") {
            *batches.entry(batch.to_string()).or_default() += 1;
        }
    }
    assert!(
        batches.values().any(|n| *n > 1),
        "queued publishes shared no batch: {batches:?}"
    );
    app.cleanup().await;
}
