//! The HTTP load: `POST /api/v1/orders`, closed loop (C in flight) or open model (R starts/s).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use hdrhistogram::Histogram;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Client, StatusCode};
use serde::Deserialize;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::plan::PlannedLine;

/// Upper bound of every latency histogram, in microseconds (one hour).
pub const HISTOGRAM_MAX_US: u64 = 3_600_000_000;

/// An order the ingress accepted, and when its 202 was read.
#[derive(Debug, Clone, Copy)]
pub struct Accepted {
    /// Order id from the 202 body.
    pub order_id: Uuid,
    /// When the 202 body had been read.
    pub at: Instant,
}

/// How the load is shaped.
#[derive(Debug, Clone, Copy)]
pub struct LoadShape {
    /// Orders to submit.
    pub orders: u64,
    /// In-flight requests (closed loop).
    pub concurrency: usize,
    /// Requests started per second (open model), replacing the closed loop.
    pub rate: Option<f64>,
}

/// What the load produced.
pub struct LoadOutcome {
    /// Request latencies in microseconds.
    pub latency_us: Histogram<u64>,
    /// Requests answered 202 with a usable body.
    pub accepted: u64,
    /// Failed requests by kind (`http_503`, `timeout`, ...).
    pub errors: BTreeMap<String, u64>,
    /// When the first request was started.
    pub started: Instant,
    /// When the last answer arrived.
    pub finished: Instant,
}

/// The prepared request every submission sends (only the idempotency key differs).
pub struct OrderRequest {
    client: Client,
    url: String,
    auth: HeaderValue,
    body: Bytes,
}

#[derive(Deserialize)]
struct AcceptedBody {
    id: Uuid,
    #[serde(default)]
    status: String,
}

/// An empty latency histogram in microseconds, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // Provably safe: constant bounds with low ≥ 1, high ≥ 2·low and sigfig ≤ 5 never fail.
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, 3).expect("valid constant histogram bounds")
}

impl OrderRequest {
    /// Serialises the order body once, so the load spends its CPU on requests, not on JSON.
    pub fn new(
        client: Client,
        base_url: &str,
        token: &str,
        station_id: Uuid,
        lines: &[PlannedLine],
    ) -> Result<Self> {
        let lines: Vec<_> = lines
            .iter()
            .map(|l| {
                serde_json::json!({
                    "product_id": l.product_id,
                    "supplier_id": l.supplier_id,
                    "quantity": l.quantity,
                })
            })
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({
            "station_id": station_id,
            "lines": lines,
        }))?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .context("access token is not a valid header value")?;
        auth.set_sensitive(true);
        Ok(Self {
            client,
            url: format!("{base_url}/api/v1/orders"),
            auth,
            body: Bytes::from(body),
        })
    }

    /// Submits one order with a fresh idempotency key; `Err` carries the error kind.
    async fn submit(&self) -> std::result::Result<Uuid, String> {
        let key = Uuid::new_v4().to_string();
        let resp = self
            .client
            .post(&self.url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("Idempotency-Key", key)
            .body(self.body.clone())
            .send()
            .await
            .map_err(|e| error_kind(&e))?;
        let status = resp.status();
        // Read the body even on errors so the connection goes back to the pool.
        let body = resp.bytes().await.map_err(|e| error_kind(&e))?;
        if status != StatusCode::ACCEPTED {
            return Err(format!("http_{}", status.as_u16()));
        }
        let parsed: AcceptedBody =
            serde_json::from_slice(&body).map_err(|_| "bad_202_body".to_string())?;
        if parsed.status != "PENDING" {
            return Err(format!("202_status_{}", parsed.status));
        }
        Ok(parsed.id)
    }
}

/// Classifies a transport error.
fn error_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else if e.is_body() || e.is_decode() {
        "body".into()
    } else {
        "transport".into()
    }
}

/// Per-task tallies, merged at the end (no shared lock on the closed-loop hot path).
struct Recorder {
    latency_us: Histogram<u64>,
    accepted: u64,
    errors: BTreeMap<String, u64>,
}

impl Recorder {
    fn new() -> Self {
        Self {
            latency_us: new_histogram(),
            accepted: 0,
            errors: BTreeMap::new(),
        }
    }

    fn record(
        &mut self,
        latency: Duration,
        result: std::result::Result<Uuid, String>,
        sink: Option<&UnboundedSender<Accepted>>,
    ) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_us.saturating_record(us.max(1));
        match result {
            Ok(order_id) => {
                self.accepted += 1;
                if let Some(tx) = sink {
                    // A closed receiver only means nobody waits for events any more.
                    let _ = tx.send(Accepted {
                        order_id,
                        at: Instant::now(),
                    });
                }
            }
            Err(kind) => *self.errors.entry(kind).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Recorder) -> Result<()> {
        self.latency_us
            .add(&other.latency_us)
            .context("merging latency histograms")?;
        self.accepted += other.accepted;
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        Ok(())
    }
}

/// Runs the load; `sink` receives every accepted order, `done` counts finished requests.
pub async fn run(
    request: Arc<OrderRequest>,
    shape: LoadShape,
    sink: Option<UnboundedSender<Accepted>>,
    done: Arc<AtomicU64>,
) -> Result<LoadOutcome> {
    let started = Instant::now();
    let mut total = match shape.rate {
        None => closed_loop(request, shape, sink, &done).await?,
        Some(rate) => open_model(request, shape.orders, rate, sink, &done, started).await?,
    };
    let finished = Instant::now();
    if total.accepted + total.errors.values().sum::<u64>() < shape.orders {
        *total.errors.entry("not_sent".into()).or_default() +=
            shape.orders - total.accepted - total.errors.values().sum::<u64>();
    }
    Ok(LoadOutcome {
        latency_us: total.latency_us,
        accepted: total.accepted,
        errors: total.errors,
        started,
        finished,
    })
}

/// C tasks, each taking the next order number from a shared counter until none are left.
async fn closed_loop(
    request: Arc<OrderRequest>,
    shape: LoadShape,
    sink: Option<UnboundedSender<Accepted>>,
    done: &Arc<AtomicU64>,
) -> Result<Recorder> {
    let next = Arc::new(AtomicU64::new(0));
    let tasks = usize::try_from(shape.orders)
        .unwrap_or(usize::MAX)
        .min(shape.concurrency);
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        let (request, sink, next, done) =
            (request.clone(), sink.clone(), next.clone(), done.clone());
        set.spawn(async move {
            let mut rec = Recorder::new();
            while next.fetch_add(1, Ordering::Relaxed) < shape.orders {
                let t0 = Instant::now();
                let result = request.submit().await;
                rec.record(t0.elapsed(), result, sink.as_ref());
                done.fetch_add(1, Ordering::Relaxed);
            }
            rec
        });
    }
    let mut total = Recorder::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(rec) => total.merge(rec)?,
            Err(_) => *total.errors.entry("task_panic".into()).or_default() += 1,
        }
    }
    Ok(total)
}

/// One task started every 1/R s whatever the answers; latency counts from the scheduled start,
/// so a stalled server is charged for the queueing it causes (no coordinated omission).
async fn open_model(
    request: Arc<OrderRequest>,
    orders: u64,
    rate: f64,
    sink: Option<UnboundedSender<Accepted>>,
    done: &Arc<AtomicU64>,
    started: Instant,
) -> Result<Recorder> {
    let shared = Arc::new(Mutex::new(Recorder::new()));
    let mut set = JoinSet::new();
    let mut panics = 0u64;
    for i in 0..orders {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (request, sink, shared, done) =
            (request.clone(), sink.clone(), shared.clone(), done.clone());
        set.spawn(async move {
            let result = request.submit().await;
            let latency = due.elapsed();
            // A poisoned lock only means another task panicked; its tallies are still valid.
            let mut rec = shared.lock().unwrap_or_else(PoisonError::into_inner);
            rec.record(latency, result, sink.as_ref());
            done.fetch_add(1, Ordering::Relaxed);
        });
        // Reap finished tasks as we go so the set does not grow with the run.
        while let Some(joined) = set.try_join_next() {
            panics += u64::from(joined.is_err());
        }
    }
    while let Some(joined) = set.join_next().await {
        panics += u64::from(joined.is_err());
    }
    let mut rec = std::mem::replace(
        &mut *shared.lock().unwrap_or_else(PoisonError::into_inner),
        Recorder::new(),
    );
    if panics > 0 {
        *rec.errors.entry("task_panic".into()).or_default() += panics;
    }
    Ok(rec)
}

/// The HTTP client: one pool, keep-alive, enough idle connections for every in-flight request.
pub fn client(concurrency: usize) -> Result<Client> {
    bluewhale::tls::install_crypto_provider();
    Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency.max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .context("building the HTTP client")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_merges_tallies() {
        let mut a = Recorder::new();
        a.record(Duration::from_millis(2), Ok(Uuid::nil()), None);
        a.record(Duration::from_millis(4), Err("http_503".into()), None);
        let mut b = Recorder::new();
        b.record(Duration::from_micros(0), Err("http_503".into()), None);
        b.record(Duration::from_millis(1), Err("timeout".into()), None);
        a.merge(b).unwrap();
        assert_eq!(a.accepted, 1);
        assert_eq!(a.errors.get("http_503"), Some(&2));
        assert_eq!(a.errors.get("timeout"), Some(&1));
        assert_eq!(a.latency_us.len(), 4);
        // A zero duration is recorded as 1 µs, not dropped.
        assert_eq!(a.latency_us.min(), 1);
    }

    #[tokio::test]
    async fn accepted_orders_reach_the_sink() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut r = Recorder::new();
        let id = Uuid::new_v4();
        r.record(Duration::from_millis(1), Ok(id), Some(&tx));
        assert_eq!(rx.recv().await.map(|a| a.order_id), Some(id));
    }
}
