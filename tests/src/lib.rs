//! Test harness: spawns the real ingress and worker in-process against real PostgreSQL and
//! NATS JetStream. Each test gets its own database (a copy of a migrated, seeded template)
//! and its own NATS namespace (streams and subjects), so tests run in parallel.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use chrono::Datelike;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use uuid::Uuid;

use bluewhale::config::{Config, Secret};
use bluewhale::messaging::Namespace;

pub use bluewhale_seed::world;

pub mod browser;
pub mod faults;
pub mod logs;
pub mod mail;
pub mod nats_server;
pub mod receiver;

/// Password of every demo user in the template database.
pub const DEMO_PASSWORD: &str = "test-demo-password";
/// Key sealing webhook secrets in test apps (base64 of 32 bytes).
pub const WEBHOOK_SECRET_KEY: &str = "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=";
/// JWT secret of test apps (≥ 32 bytes).
pub const JWT_SECRET: &str = "integration-tests-jwt-secret-0123456789";

fn admin_url() -> String {
    std::env::var("BW_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// NATS server of the tests (≥ 2.10 with JetStream; `scripts/test.sh` provides it).
pub fn nats_url() -> String {
    std::env::var("BW_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:14222".to_owned())
}

fn database_url(name: &str) -> String {
    let admin = admin_url();
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// Template name: changes with the migrations, the seed and the year (contracts are valid for
/// the current year), so a stale template is never used.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    for migration in bluewhale::db::MIGRATOR.iter() {
        hasher.update(migration.checksum.as_ref());
    }
    hasher.update(include_str!("../../tools/seed/src/world.rs"));
    hasher.update(include_str!("../../tools/seed/src/lib.rs"));
    hasher.update(DEMO_PASSWORD);
    let hash: String = hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("bw_tpl_{}_{hash}", chrono::Utc::now().year())
}

/// Creates the template once per machine (an advisory lock serialises parallel test processes).
async fn ensure_template() -> String {
    let name = template_name();
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("connect to BW_TEST_PG_URL (is PostgreSQL running? scripts/test.sh starts it)");
    admin
        .execute("SELECT pg_advisory_lock(727274)")
        .await
        .expect("advisory lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .expect("query pg_database");
    if !exists {
        let building = format!("{name}_building");
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {building} WITH (FORCE)"
            )))
            .await
            .expect("drop stale template");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {building}")))
            .await
            .expect("create template");
        let pool = PgPool::connect(&database_url(&building))
            .await
            .expect("connect template");
        bluewhale::db::migrate(&pool)
            .await
            .expect("migrate template");
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::Paris)
            .date_naive();
        bluewhale_seed::run(&pool, &Secret::new(DEMO_PASSWORD), today)
            .await
            .expect("seed template");
        pool.close().await;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "ALTER DATABASE {building} RENAME TO {name}"
            )))
            .await
            .expect("publish template");
    }
    admin
        .execute("SELECT pg_advisory_unlock(727274)")
        .await
        .expect("advisory unlock");
    name
}

/// A fresh database copied from the template.
async fn create_test_database() -> String {
    let template = ensure_template().await;
    let name = format!("bw_test_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("connect admin");
    // Copying a template fails while another session touches it; retry briefly.
    for attempt in 0.. {
        let created = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {name} TEMPLATE {template}"
            )))
            .await;
        match created {
            Ok(_) => break,
            Err(error) if attempt < 50 => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("create test database: {error}"),
        }
    }
    name
}

/// Options of a test app.
#[derive(Default, Clone)]
pub struct Options {
    env: HashMap<String, String>,
    without_worker: bool,
    capture_logs: bool,
}

impl Options {
    /// Sets a configuration variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Starts no worker (commands stay pending until [`TestApp::start_worker`]).
    pub fn without_worker(mut self) -> Self {
        self.without_worker = true;
        self
    }

    /// Writes the log lines of this process as JSON into [`logs::LogCapture::global`] (only the
    /// first app of a test process sets up logging).
    pub fn capture_logs(mut self) -> Self {
        self.capture_logs = true;
        self.env("BW_LOG_FORMAT", "json")
    }

    /// Spawns the app.
    pub async fn spawn(self) -> TestApp {
        TestApp::spawn_with(self).await
    }
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// A running ingress (and usually a worker) on an isolated database and namespace.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// HTTP client.
    pub http: reqwest::Client,
    /// Pool on the test database.
    pub db: PgPool,
    /// NATS client.
    pub nats: async_nats::Client,
    /// JetStream.
    pub js: jetstream::Context,
    /// The test's namespace.
    pub ns: Namespace,
    /// The configuration both processes run with.
    pub config: Config,
    db_name: String,
    ingress: Option<Running>,
    worker: Option<Running>,
    notifiers: Vec<Running>,
    env: HashMap<String, String>,
    cleaned: bool,
}

impl TestApp {
    /// Ingress and worker with the default test configuration.
    pub async fn spawn() -> Self {
        Options::default().spawn().await
    }

    /// Builder for other configurations.
    pub fn options() -> Options {
        Options::default()
    }

    async fn spawn_with(options: Options) -> Self {
        // What `process::main` does first in every binary.
        bluewhale::allocator::return_large_buffers_to_the_system();
        let db_name = create_test_database().await;
        let namespace = format!("t{}", &Uuid::new_v4().simple().to_string()[..12]);
        let mut env: HashMap<String, String> = [
            ("DATABASE_URL", database_url(&db_name)),
            ("NATS_URL", nats_url()),
            ("BW_NAMESPACE", namespace.clone()),
            ("BW_JWT_SECRET", JWT_SECRET.to_owned()),
            ("BW_WEBHOOK_SECRET_KEY", WEBHOOK_SECRET_KEY.to_owned()),
            // Local receivers: plain http on loopback (SSRF tests take these away).
            ("BW_WEBHOOK_ALLOW_HTTP", "true".to_owned()),
            ("BW_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8".to_owned()),
            // Retries in tenths of seconds, so a whole schedule runs within a test.
            ("BW_WEBHOOK_RETRY_SCHEDULE", "0,0.2,0.2,0.2".to_owned()),
            ("BW_NOTIFIER_POLL_MS", "50".to_owned()),
            ("BW_SMTP_URL", mail::smtp_url()),
            // Every process's ops server on a free port (found with bluewhale::ops::server::bound).
            ("BW_OPS_ADDR", "127.0.0.1:0".to_owned()),
            ("BW_HTTP_ADDR", "127.0.0.1:0".to_owned()),
            ("BW_MIGRATE_ON_START", "false".to_owned()),
            ("BW_DB_MAX_CONNECTIONS", "5".to_owned()),
            ("BW_LOG_FORMAT", "pretty".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(options.env.clone());
        let config = Config::from_lookup(|name| env.get(name).cloned()).expect("test config");
        // On a thread of its own: an OTLP exporter (a test may ask for one) must not be built
        // inside the async runtime. The subscriber is global: the first app of a process sets it.
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let writer = if options.capture_logs {
                        BoxMakeWriter::new(logs::LogCapture::global())
                    } else {
                        BoxMakeWriter::new(std::io::stdout)
                    };
                    let lookup = |name: &str| env.get(name).cloned();
                    // The exporter, if any, lives as long as the global subscriber.
                    drop(
                        bluewhale::telemetry::init_with(
                            "bluewhale-tests",
                            config.log_format,
                            lookup,
                            writer,
                        )
                        .expect("telemetry"),
                    );
                })
                .join()
                .expect("telemetry set-up")
        });
        let db = PgPool::connect(&config.database.url)
            .await
            .expect("connect test db");
        let nats = async_nats::connect(&config.nats.url)
            .await
            .expect("connect NATS (BW_TEST_NATS_URL; scripts/test.sh starts one ≥ 2.10)");
        let js = jetstream::new(nats.clone());
        let ns = Namespace::new(namespace).expect("namespace");
        bluewhale::messaging::streams::ensure_streams(&js, &ns)
            .await
            .expect("streams");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = bluewhale::http::AppState::new(
            Arc::new(config.clone()),
            PgPool::connect(&config.database.url)
                .await
                .expect("ingress pool"),
            nats.clone(),
            ns.clone(),
        )
        .expect("ingress state");
        // The binary starts its ops server in main; the in-process ingress gets one here.
        let ops = bluewhale::ops::start(
            bluewhale::ops::Role::Ingress,
            &config,
            &bluewhale::bootstrap::Infrastructure {
                ns: ns.clone(),
                db: db.clone(),
                nats: nats.clone(),
                js: js.clone(),
            },
        )
        .await
        .expect("ingress ops server");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ops = ops;
            bluewhale::http::serve(listener, state, async {
                let _ = stopped.await;
            })
            .await
            .map_err(anyhow::Error::from)
        });
        let mut app = TestApp {
            base_url,
            http: {
                bluewhale::tls::install_crypto_provider();
                reqwest::Client::new()
            },
            db,
            nats,
            js,
            ns,
            config,
            db_name,
            ingress: Some(Running { stop, task }),
            worker: None,
            notifiers: Vec::new(),
            env,
            cleaned: false,
        };
        if !options.without_worker {
            app.start_worker().await;
        }
        app
    }

    /// Starts a worker on the app's database and namespace.
    pub async fn start_worker(&mut self) {
        assert!(self.worker.is_none(), "worker already running");
        let config = self.config.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            bluewhale_workers::run(config, async {
                let _ = stopped.await;
            })
            .await
        });
        self.worker = Some(Running { stop, task });
        // Wait until its durable consumer exists, so messages published now are consumed.
        let stream = self.ns.commands_stream();
        for _ in 0..100 {
            if let Ok(s) = self.js.get_stream(&stream).await
                && s.consumer_info("order-workers").await.is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("worker did not create its consumer");
    }

    /// Stops the worker gracefully (drain) and returns its result.
    pub async fn stop_worker(&mut self) -> anyhow::Result<()> {
        let running = self.worker.take().expect("no worker running");
        let _ = running.stop.send(());
        running.task.await.expect("worker task panicked")
    }

    /// Starts one more notifier on the app's database and namespace; returns its index.
    pub async fn start_notifier(&mut self) -> usize {
        self.start_notifier_with(&[]).await
    }

    /// A notifier whose settings differ from the app's by `overrides`.
    pub async fn start_notifier_with(&mut self, overrides: &[(&str, &str)]) -> usize {
        let config = if overrides.is_empty() {
            self.config.clone()
        } else {
            let base = self.env.clone();
            Config::from_lookup(|name| {
                overrides
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
                    .or_else(|| base.get(name).cloned())
            })
            .expect("notifier config")
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            bluewhale_notifier::run(config, async {
                let _ = stopped.await;
            })
            .await
        });
        self.notifiers.push(Running { stop, task });
        let stream = self.ns.events_stream();
        for _ in 0..100 {
            if let Ok(s) = self.js.get_stream(&stream).await
                && s.consumer_info("notifier").await.is_ok()
            {
                return self.notifiers.len() - 1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("notifier did not create its consumer");
    }

    /// `http://<addr>` of the ops server of the last started `role` (`ingress`, `worker`,
    /// `notifier`) in this test process.
    pub fn ops_url(&self, role: &str) -> String {
        let addr = bluewhale::ops::server::bound(role).expect("that process runs an ops server");
        format!("http://{addr}")
    }

    /// Stops notifier `index` gracefully (attempts in flight finish).
    pub async fn stop_notifier(&mut self, index: usize) -> anyhow::Result<()> {
        let running = self.notifiers.remove(index);
        let _ = running.stop.send(());
        running.task.await.expect("notifier task panicked")
    }

    /// Kills notifier `index` where it stands, as a kill -9 would: nothing it was doing
    /// finishes or is recorded.
    pub async fn kill_notifier(&mut self, index: usize) {
        let running = self.notifiers.remove(index);
        running.task.abort();
        let _ = running.task.await;
    }

    /// Stops the ingress gracefully (it finishes the requests in flight).
    pub async fn stop_ingress(&mut self) {
        let running = self.ingress.take().expect("no ingress running");
        let _ = running.stop.send(());
        running
            .task
            .await
            .expect("ingress task panicked")
            .expect("ingress stopped cleanly");
    }

    /// Logs in a demo user and returns the access token.
    pub async fn login(&self, email: &str) -> String {
        let response = self
            .post_json(
                "/api/v1/auth/login",
                None,
                &json!({"email": email, "password": DEMO_PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), 200, "login of {email}");
        let body: Value = response.json().await.expect("login body");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// POSTs JSON, with a bearer token if given.
    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// GETs with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Submits an order with an idempotency key.
    pub async fn submit_order(&self, token: &str, key: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/orders", self.base_url))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Submits an order that must be accepted (202) and returns its id.
    pub async fn accept_order(&self, token: &str, key: &str, body: &Value) -> String {
        let response = self.submit_order(token, key, body).await;
        assert_eq!(response.status(), 202, "order {key} accepted");
        let accepted: Value = response.json().await.expect("202 body");
        accepted["id"].as_str().expect("id").to_owned()
    }

    /// GETs an order that must be visible (200).
    pub async fn get_order(&self, token: &str, id: &str) -> Value {
        let response = self.get(&format!("/api/v1/orders/{id}"), token).await;
        assert_eq!(response.status(), 200, "GET order {id}");
        response.json().await.expect("order body")
    }

    /// Polls an order until it is no longer PENDING (or panics after 20 s).
    pub async fn wait_until_processed(&self, token: &str, id: &str) -> Value {
        for _ in 0..400 {
            let body = self.get_order(token, id).await;
            if body["status"] != "PENDING" {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("order {id} still pending after 20 s");
    }

    /// POSTs a write (`Idempotency-Key` and any extra headers such as `Prefer` or `If-Match`).
    pub async fn write(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        self.write_with(reqwest::Method::POST, path, token, key, body, headers)
            .await
    }

    /// A write with another method (PATCH, DELETE).
    pub async fn write_with(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        key: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// GETs JSON that must be there (200).
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self.get(path, token).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// Puts a second copy of a command in the stream under a fresh message id, as a
    /// redelivery after a crash or a missed duplicate window would.
    pub async fn publish_copy(&self, subject: String, payload: Vec<u8>) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", Uuid::new_v4().to_string().as_str());
        self.js
            .publish_with_headers(subject, headers, payload.into())
            .await
            .expect("publish")
            .await
            .expect("stored");
    }

    /// Polls `/commands/{id}` until the command is no longer PENDING (or panics after 20 s).
    pub async fn wait_for_command(&self, token: &str, id: &str) -> Value {
        for _ in 0..400 {
            let response = self.get(&format!("/api/v1/commands/{id}"), token).await;
            assert_eq!(response.status(), 200, "GET command {id}");
            let body: Value = response.json().await.expect("command body");
            if body["status"] != "PENDING" {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("command {id} still pending after 20 s");
    }

    /// Submits the three-supplier order as the demo station and waits until it is priced.
    pub async fn priced_order(&self, key: &str) -> Value {
        let token = self.login(world::STATION_EMAIL).await;
        let id = self
            .accept_order(&token, key, &three_supplier_order())
            .await;
        let order = self.wait_until_processed(&token, &id).await;
        assert_eq!(order["status"], "REGISTERED", "order {key} priced");
        order
    }

    /// Polls until the outbox is empty (every committed event published).
    pub async fn wait_until_outbox_empty(&self) {
        for _ in 0..400 {
            if self.count("outbox").await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("outbox not drained after 20 s");
    }

    /// A write by `email` with `Prefer: wait=10` (and `extra` headers): status, `ETag`, body.
    pub async fn write_waiting(
        &self,
        email: &str,
        (method, path): (reqwest::Method, &str),
        key: &str,
        body: &Value,
        extra: &[(&str, &str)],
    ) -> (u16, Option<String>, Value) {
        let token = self.login(email).await;
        let mut headers = vec![("Prefer", "wait=10")];
        headers.extend_from_slice(extra);
        let response = self
            .write_with(method, path, &token, key, body, &headers)
            .await;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().expect("etag").to_owned());
        (status, etag, response.json().await.unwrap_or(Value::Null))
    }

    /// The payloads of every message in one of the test's streams, as text.
    pub async fn stream_payloads(&self, stream: &str) -> Vec<String> {
        let stream = self
            .js
            .get_stream(self.ns.stream(stream))
            .await
            .expect("stream");
        let last = stream.get_info().await.expect("info").state.last_sequence;
        let mut payloads = Vec::new();
        for sequence in 1..=last {
            if let Ok(message) = stream.get_raw_message(sequence).await {
                payloads.push(String::from_utf8_lossy(&message.payload).into_owned());
            }
        }
        payloads
    }

    /// Rows in a table of the test database.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.db)
            .await
            .expect("count")
    }

    /// Messages in the test's EVENTS stream on subjects matching `filter` (without the
    /// namespace, e.g. `bw.evt.contract.expired.*`).
    pub async fn event_messages(&self, filter: &str) -> usize {
        let stream = self
            .js
            .get_stream(self.ns.events_stream())
            .await
            .expect("stream");
        let subjects = stream
            .info_with_subjects(self.ns.subject(filter))
            .await
            .expect("stream subjects");
        futures::StreamExt::fold(subjects, 0, |sum, subject| async move {
            sum + subject.map_or(0, |(_, count)| count)
        })
        .await
    }

    /// Messages currently stored in one of the test's streams (`COMMANDS`, `EVENTS`, `DLQ`).
    pub async fn stream_messages(&self, stream: &str) -> u64 {
        let mut stream = self
            .js
            .get_stream(self.ns.stream(stream))
            .await
            .expect("stream");
        stream.info().await.expect("stream info").state.messages
    }

    /// Stops everything and removes the test's database and streams.
    pub async fn cleanup(mut self) {
        while !self.notifiers.is_empty() {
            self.stop_notifier(0)
                .await
                .expect("notifier stopped cleanly");
        }
        if self.worker.is_some() {
            self.stop_worker().await.expect("worker stopped cleanly");
        }
        if let Some(ingress) = self.ingress.take() {
            let _ = ingress.stop.send(());
            let _ = ingress.task.await;
        }
        self.db.close().await;
        remove_resources(&self.js, &self.ns, &self.db_name).await;
        self.cleaned = true;
    }
}

impl Drop for TestApp {
    /// A failing test panics before [`TestApp::cleanup`]: remove its database and streams
    /// anyway, so failures leave nothing behind on a shared machine. Drop cannot await, so
    /// this runs on a thread with a runtime of its own.
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        let (ns, db_name) = (self.ns.clone(), self.db_name.clone());
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(nats) = async_nats::connect(nats_url()).await {
                    remove_resources(&jetstream::new(nats), &ns, &db_name).await;
                }
            });
        })
        .join();
    }
}

/// Deletes a test's streams and database.
async fn remove_resources(js: &jetstream::Context, ns: &Namespace, db_name: &str) {
    for stream in [ns.commands_stream(), ns.events_stream(), ns.dlq_stream()] {
        let _ = js.delete_stream(stream).await;
    }
    if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"
            )))
            .await;
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// `id:` (the EVENTS stream sequence).
    pub id: String,
    /// `event:` (the event type).
    pub event: String,
    /// `data:`, parsed.
    pub data: Value,
}

/// A client reading `GET /api/v1/events/stream`.
pub struct SseClient {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl SseClient {
    /// The next event (comments such as heartbeats skipped), or `None` if none arrives within
    /// `within` or the stream ends.
    pub async fn next_event(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a comment (heartbeat)
                }
                let data = serde_json::from_str(&data).expect("event data is JSON");
                return Some(SseEvent { id, event, data });
            }
            let chunk = tokio::time::timeout_at(deadline, futures::StreamExt::next(&mut self.body))
                .await
                .ok()??
                .expect("event stream readable");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }
}

impl TestApp {
    /// Opens the event stream as `token`'s user, resuming after `last_event_id` if given. The
    /// server's consumer exists once this returns: later events are delivered.
    pub async fn open_event_stream(&self, token: &str, last_event_id: Option<&str>) -> SseClient {
        let mut request = self
            .http
            .get(format!("{}/api/v1/events/stream", self.base_url))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("event stream");
        assert_eq!(response.status(), 200, "event stream opened");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        SseClient {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }
}

/// A 3-supplier order of the demo world whose amounts the tests know by hand:
/// EMBALSUD (a 3 % break with half-cent rounding, and a 5.5 % VAT line), PLASTIVAL
/// (a 7.5 % break and a minimum-quantity line), ETIQLYON (a 10 % break).
pub fn three_supplier_order() -> Value {
    json!({
        "station_id": world::station_id(world::STATION_CODE),
        "requested_delivery_date": null,
        "notes": "integration test",
        "lines": [
            {"product_id": world::product_id("BW-TRAY-0400"), "supplier_id": world::supplier_id("EMBALSUD"), "quantity": 50},
            {"product_id": world::product_id("BW-FILM-0300"), "supplier_id": world::supplier_id("PLASTIVAL"), "quantity": 60},
            {"product_id": world::product_id("BW-LABL-0100"), "supplier_id": world::supplier_id("ETIQLYON"), "quantity": 200},
            {"product_id": world::product_id("BW-COAT-0020"), "supplier_id": world::supplier_id("EMBALSUD"), "quantity": 3},
            {"product_id": world::product_id("BW-PUNN-0250"), "supplier_id": world::supplier_id("PLASTIVAL"), "quantity": 10},
            {"product_id": world::product_id("BW-LABL-0110"), "supplier_id": world::supplier_id("ETIQLYON"), "quantity": 1},
        ]
    })
}

impl TestApp {
    /// Runs another worker on the app's database and namespace until the sender is dropped
    /// (or sent to): two workers racing for the same commands.
    pub fn second_worker(&self) -> (oneshot::Sender<()>, JoinHandle<anyhow::Result<()>>) {
        let config = self.config.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(bluewhale_workers::run(config, async {
            let _ = stopped.await;
        }));
        (stop, task)
    }

    /// Runs another ingress on the app's database and namespace until the sender is dropped
    /// (or sent to); returns its base URL: limits and revocations must hold across ingresses.
    pub async fn second_ingress(
        &self,
    ) -> (String, oneshot::Sender<()>, JoinHandle<anyhow::Result<()>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = bluewhale::http::AppState::new(
            Arc::new(self.config.clone()),
            PgPool::connect(&self.config.database.url)
                .await
                .expect("second ingress pool"),
            self.nats.clone(),
            self.ns.clone(),
        )
        .expect("second ingress state");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            bluewhale::http::serve(listener, state, async {
                let _ = stopped.await;
            })
            .await
            .map_err(anyhow::Error::from)
        });
        (base_url, stop, task)
    }

    /// Whether the worker started by [`TestApp::start_worker`] is still running (has not
    /// returned, with an error or otherwise).
    pub fn worker_running(&self) -> bool {
        self.worker.as_ref().is_some_and(|w| !w.task.is_finished())
    }

    /// Polls an order until it is no longer PENDING; `None` if it still is after `within`.
    pub async fn processed_within(&self, token: &str, id: &str, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let body = self.get_order(token, id).await;
            if body["status"] != "PENDING" {
                return Some(body);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
