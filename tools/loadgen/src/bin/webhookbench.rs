//! `webhookbench`: webhook deliveries per second to a local receiver, and the notifier's memory
//! while it drains a backlog. Run by `scripts/bench.sh --webhooks N` with the ingress and a
//! worker running and no notifier: it registers an endpoint of the demo supplier pointing at a
//! receiver of its own, queues N `webhook.test` events (so N messages wait for a notifier),
//! then starts the notifier binary and times the drain.

// The loadgen's memory sampler; its CPU-time helpers serve the loadgen only.
#[path = "../rss.rs"]
#[allow(dead_code)]
mod rss;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// The demo supplier user (EMBALSUD).
const SUPPLIER_EMAIL: &str = "supplier@demo.bluewhale.test";

struct Args {
    base_url: String,
    messages: u64,
    concurrency: usize,
    notifier_bin: String,
    notifier_log: Option<String>,
    password: String,
}

fn parse() -> Result<Args> {
    let mut args = Args {
        base_url: "http://127.0.0.1:8080".into(),
        messages: 1000,
        concurrency: 32,
        notifier_bin: "target/release/notifier".into(),
        notifier_log: None,
        password: std::env::var("BLUEWHALE_DEMO_PASSWORD")
            .unwrap_or_else(|_| "bluewhale-demo".into()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--base-url" => args.base_url = value()?,
            "--messages" => args.messages = value()?.parse().context("--messages")?,
            "--concurrency" => args.concurrency = value()?.parse().context("--concurrency")?,
            "--notifier-bin" => args.notifier_bin = value()?,
            "--notifier-log" => args.notifier_log = Some(value()?),
            other => bail!(
                "unknown flag {other}; flags: --base-url URL --messages N --concurrency C \
                 --notifier-bin PATH --notifier-log PATH"
            ),
        }
    }
    Ok(args)
}

/// Counts deliveries; rings when the expected number has arrived.
struct Counter {
    received: AtomicU64,
    first_at: std::sync::Mutex<Option<Instant>>,
    last_at: std::sync::Mutex<Option<Instant>>,
    expected: u64,
    done: Notify,
}

async fn receive(
    axum::extract::State(counter): axum::extract::State<Arc<Counter>>,
) -> &'static str {
    let now = Instant::now();
    counter.first_at.lock().expect("lock").get_or_insert(now);
    *counter.last_at.lock().expect("lock") = Some(now);
    if counter.received.fetch_add(1, Ordering::SeqCst) + 1 >= counter.expected {
        counter.done.notify_one();
    }
    "ok"
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Result<Value> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .header("Prefer", "wait=30")
        .json(body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("POST {url}: {status} {body}");
    }
    Ok(body)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse()?;
    bluewhale::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    let run = uuid::Uuid::new_v4().simple().to_string();

    let counter = Arc::new(Counter {
        received: AtomicU64::new(0),
        first_at: std::sync::Mutex::new(None),
        last_at: std::sync::Mutex::new(None),
        expected: args.messages,
        done: Notify::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver_url = format!("http://{}/bench", listener.local_addr()?);
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(counter.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let base = args.base_url.trim_end_matches('/');
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": SUPPLIER_EMAIL, "password": args.password}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"].as_str().context("login")?.to_owned();
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let supplier = me["organization"]["id"]
        .as_str()
        .context("supplier id")?
        .to_owned();
    let endpoints = format!("{base}/api/v1/suppliers/{supplier}/webhook-endpoints");
    let endpoint = post(
        &client,
        &endpoints,
        &token,
        &format!("bench-{run}"),
        &json!({"url": receiver_url}),
    )
    .await?;
    let test_url = format!(
        "{endpoints}/{}/test",
        endpoint["id"].as_str().context("endpoint id")?
    );

    // Queue the backlog: every test event is committed (and soon published) before the
    // notifier starts.
    let queued = Instant::now();
    futures::stream::iter(0..args.messages)
        .map(|i| {
            let (client, token, url, run) = (&client, &token, &test_url, &run);
            async move { post(client, url, token, &format!("bench-{run}-{i}"), &json!({})).await }
        })
        .buffer_unordered(args.concurrency)
        .for_each(|result| async move {
            if let Err(error) = result {
                eprintln!("webhookbench: {error:#}");
            }
        })
        .await;
    println!(
        "queued {} webhook.test events in {:.1} s (ingress → worker → outbox)",
        args.messages,
        queued.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let log = match &args.notifier_log {
        Some(path) => {
            Stdio::from(std::fs::File::create(path).with_context(|| format!("creating {path}"))?)
        }
        None => Stdio::null(),
    };
    let mut notifier = tokio::process::Command::new(&args.notifier_bin)
        .stdin(Stdio::null())
        .stdout(log)
        .spawn()
        .with_context(|| format!("starting {}", args.notifier_bin))?;
    let pid = notifier.id().context("notifier pid")?;
    let sampler = rss::start(vec![rss::Watched {
        role: "notifier",
        pid,
    }]);
    let drained = tokio::time::timeout(Duration::from_secs(300), counter.done.notified()).await;
    let drain = started.elapsed();
    let memory = sampler.finish().await;
    // SIGTERM: the notifier drains and exits.
    let _ = tokio::process::Command::new("kill")
        .arg(pid.to_string())
        .status()
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(30), notifier.wait()).await;

    let received = counter.received.load(Ordering::SeqCst);
    let first = counter.first_at.lock().expect("lock").map(|t| t - started);
    let last = counter.last_at.lock().expect("lock").map(|t| t - started);
    let rate = match (first, last) {
        (Some(first), Some(last)) if last > first => {
            (received.saturating_sub(1)) as f64 / (last - first).as_secs_f64()
        }
        _ => 0.0,
    };
    let peak = memory.first().and_then(|m| m.peak_rss_kib).unwrap_or(0);
    println!(
        "notifier: {received}/{} delivered in {:.2} s from its start (first after {:.2} s), \
         {rate:.0} deliveries/s between the first and the last; peak RSS {:.1} MiB",
        args.messages,
        drain.as_secs_f64(),
        first.unwrap_or_default().as_secs_f64(),
        peak as f64 / 1024.0
    );
    println!(
        "RESULT_JSON {}",
        json!({"ok": drained.is_ok() && received == args.messages, "messages": args.messages,
            "delivered": received, "deliveries_per_sec": rate, "drain_secs": drain.as_secs_f64(),
            "notifier_peak_rss_kib": peak})
    );
    if drained.is_err() {
        bail!(
            "only {received} of {} deliveries within 300 s",
            args.messages
        );
    }
    Ok(())
}
