//! A worker survives what an operator does to NATS: its consumer or stream deleted, a shutdown
//! in the middle of a pull or of a batch, the server killed and restarted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bluewhale_tests::nats_server::NatsServer;
use bluewhale_tests::{TestApp, three_supplier_order, world};
use serde_json::Value;

/// Consumer name of the workers (nats/consumers/order-workers.json).
const CONSUMER: &str = "order-workers";

async fn consumer_exists(app: &TestApp) -> bool {
    match app.js.get_stream(app.ns.commands_stream()).await {
        Ok(stream) => stream.consumer_info(CONSUMER).await.is_ok(),
        Err(_) => false,
    }
}

/// Polls `condition` every 50 ms; false if it still does not hold after `within`.
async fn eventually<F, Fut>(within: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_worker_recreates_its_deleted_consumer_and_goes_on() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    app.priced_order("before-delete").await;

    let stream = app.js.get_stream(app.ns.commands_stream()).await.unwrap();
    stream
        .delete_consumer(CONSUMER)
        .await
        .expect("delete consumer");
    let id = app
        .accept_order(&token, "after-delete", &three_supplier_order())
        .await;
    let order = app
        .processed_within(&token, &id, Duration::from_secs(15))
        .await
        .expect("order priced after its consumer was deleted");
    assert_eq!(order["status"], "REGISTERED");
    assert!(consumer_exists(&app).await, "consumer recreated");
    assert!(app.worker_running(), "the worker is still running");
    app.cleanup().await;
}

#[tokio::test]
async fn a_worker_recreates_its_deleted_stream_and_goes_on() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    app.priced_order("before-delete").await;

    app.js
        .delete_stream(app.ns.commands_stream())
        .await
        .expect("delete COMMANDS");
    // The ingress cannot accept commands without the stream: wait until the worker put it back.
    assert!(
        eventually(Duration::from_secs(15), || consumer_exists(&app)).await,
        "stream and consumer recreated"
    );
    let id = app
        .accept_order(&token, "after-delete", &three_supplier_order())
        .await;
    let order = app
        .processed_within(&token, &id, Duration::from_secs(15))
        .await
        .expect("order priced after its stream was re-created");
    assert_eq!(order["status"], "REGISTERED");
    assert!(app.worker_running(), "the worker is still running");
    app.cleanup().await;
}

#[tokio::test]
async fn a_shutdown_during_an_idle_pull_returns_at_once() {
    let mut app = TestApp::spawn().await;
    app.priced_order("warm-up").await;
    // A pull request is waiting on the server (it expires only after many seconds).
    let stream = app.js.get_stream(app.ns.commands_stream()).await.unwrap();
    let mut waiting = false;
    for _ in 0..100 {
        let info = stream.consumer_info(CONSUMER).await.unwrap();
        if info.num_waiting > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(waiting, "the worker has a pull request waiting");
    let started = Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(5), app.stop_worker()).await;
    let took = started.elapsed();
    stopped
        .expect("worker stopped within 5 s")
        .expect("clean stop");
    assert!(
        took < Duration::from_secs(2),
        "idle worker stopped in {took:?}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_shutdown_abandons_a_stuck_batch_at_the_drain_deadline() {
    let mut app = TestApp::options()
        .env("BW_DRAIN_TIMEOUT_SECS", "2")
        .env("BW_ACK_WAIT_SECS", "2")
        .spawn()
        .await;
    let token = app.login(world::STATION_EMAIL).await;
    // Writes of orders wait behind this lock: the worker's batch cannot finish.
    let mut blocker = app.db.begin().await.unwrap();
    sqlx::query("LOCK TABLE master_orders IN SHARE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let id = app
        .accept_order(&token, "stuck", &three_supplier_order())
        .await;
    let stream = app.js.get_stream(app.ns.commands_stream()).await.unwrap();
    let mut delivered = false;
    for _ in 0..200 {
        let info = stream.consumer_info(CONSUMER).await.unwrap();
        if info.num_ack_pending > 0 {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(delivered, "the worker took the command");

    let started = Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.stop_worker()).await;
    let took = started.elapsed();
    stopped
        .expect("worker stopped although its batch is stuck")
        .expect("a stop at the deadline is still a clean stop");
    assert!(
        took < Duration::from_secs(4),
        "stopped {took:?} after the signal; drain deadline 2 s"
    );
    eprintln!("stuck worker stopped {took:?} after the shutdown signal");

    // The abandoned command was not acknowledged: the next worker gets it again.
    blocker.rollback().await.unwrap();
    let pending: Value = app.get_order(&token, &id).await;
    assert_eq!(pending["status"], "PENDING", "nothing committed");
    app.start_worker().await;
    let order = app
        .processed_within(&token, &id, Duration::from_secs(15))
        .await
        .expect("abandoned command redelivered and processed");
    assert_eq!(order["status"], "REGISTERED");
    app.cleanup().await;
}

/// Orders submitted by `SUBMITTERS` concurrent clients until told to stop: the ids of those
/// accepted (202), in order. Refusals while NATS is away are simply tried again.
struct Load {
    accepted: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    const SUBMITTERS: usize = 6;

    fn start(app: &Arc<TestApp>, token: &str) -> Self {
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..Self::SUBMITTERS)
            .map(|submitter| {
                let (app, token) = (app.clone(), token.to_owned());
                let (accepted, stop) = (accepted.clone(), stop.clone());
                tokio::spawn(async move {
                    let order = three_supplier_order();
                    for n in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let key = format!("load-{submitter}-{n}");
                        let response = app.submit_order(&token, &key, &order).await;
                        if response.status() == 202 {
                            let body: Value = response.json().await.expect("202 body");
                            let id = body["id"].as_str().expect("id").to_owned();
                            accepted.lock().unwrap().push(id);
                        }
                    }
                })
            })
            .collect();
        Self {
            accepted,
            stop,
            tasks,
        }
    }

    fn count(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }

    async fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("submitter");
        }
        self.accepted.lock().unwrap().clone()
    }
}

/// Whether the relay holds outbox rows (claimed, being published): some are locked.
async fn relay_holds_rows(app: &TestApp) -> bool {
    let mut tx = app.db.begin().await.unwrap();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let free: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM outbox FOR UPDATE SKIP LOCKED) AS free",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    total > free
}

#[tokio::test]
async fn after_a_nats_kill_and_restart_processing_and_relay_resume_within_seconds() {
    const RESUME_BOUND: Duration = Duration::from_secs(10);
    let mut server = NatsServer::start().await;
    let app = Arc::new(
        TestApp::options()
            .env("NATS_URL", &server.url())
            .spawn()
            .await,
    );
    let token = app.login(world::STATION_EMAIL).await;
    app.priced_order("warm-up").await;

    // Under load: orders are being accepted, pulled, committed and relayed when the server dies.
    let load = Load::start(&app, &token);
    assert!(
        eventually(Duration::from_secs(20), || async { load.count() >= 40 }).await,
        "load running"
    );
    // The server hangs, then dies: the relay's publishes in flight get no ack, ever.
    server.freeze();
    assert!(
        eventually(Duration::from_secs(10), || relay_holds_rows(&app)).await,
        "the relay is publishing while the server hangs"
    );
    server.kill();
    let killed_at = load.count();
    assert!(
        eventually(Duration::from_secs(10), || async {
            app.nats.connection_state() != async_nats::connection::State::Connected
        })
        .await,
        "clients noticed the server is gone"
    );
    server.restart().await;
    let restarted = Instant::now();
    // The load goes on until clearly more orders were accepted after the restart.
    assert!(
        eventually(RESUME_BOUND, || async { load.count() >= killed_at + 40 }).await,
        "orders accepted again after the restart ({} before the kill, {} now)",
        killed_at,
        load.count()
    );
    let accepted_again = restarted.elapsed();
    let ids = load.finish().await;

    let token = &token;
    let app_ref = &app;
    for id in &ids {
        let left = RESUME_BOUND.saturating_sub(restarted.elapsed());
        let order = app_ref
            .processed_within(token, id, left)
            .await
            .unwrap_or_else(|| {
                panic!(
                    "order {id} still pending {:?} after the restart",
                    restarted.elapsed()
                )
            });
        assert_eq!(order["status"], "REGISTERED", "order {id}");
    }
    let priced = restarted.elapsed();
    let relayed = eventually(RESUME_BOUND.saturating_sub(priced), || async {
        app.count("outbox").await == 0
    })
    .await;
    let resumed = restarted.elapsed();
    assert!(
        relayed,
        "outbox still holds {} rows {resumed:?} after the restart",
        app.count("outbox").await
    );
    eprintln!(
        "after the NATS restart: orders accepted again within {accepted_again:?}, all {} \
         orders priced within {priced:?}, outbox empty within {resumed:?}",
        ids.len()
    );
    assert!(app.worker_running(), "the worker is still running");
    let app = Arc::into_inner(app).expect("submitters finished");
    app.cleanup().await;
}
