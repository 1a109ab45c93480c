//! A real HTTP webhook receiver for the tests: it records every request and answers from a
//! script (status, headers, delay), then 200. Signatures are checked with the Standard
//! Webhooks reference library, never with the code under test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Notify;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`Retry-After`, `Location`).
    pub headers: Vec<(&'static str, String)>,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    /// Answers `status` at once.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// With a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// After a delay.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: String,
    /// When it arrived.
    pub at: DateTime<Utc>,
}

impl Received {
    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("webhook body is JSON")
    }

    /// Whether the request carries a valid signature by `secret` (`whsec_…`), as the
    /// reference library checks it (timestamp tolerance included).
    pub fn signed_by(&self, secret: &str) -> bool {
        standardwebhooks::Webhook::new(secret)
            .expect("secret")
            .verify(self.body.as_bytes(), &self.headers)
            .is_ok()
    }
}

#[derive(Default)]
struct Inner {
    script: Vec<Reply>,
    received: Vec<Received>,
    /// Requests whose answer is still being delayed.
    in_flight: usize,
    most_in_flight: usize,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<Notify>,
}

/// A receiver listening on loopback.
pub struct Receiver {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver answering `script` in order, then 200 to everything.
    pub async fn start(script: Vec<Reply>) -> Self {
        let shared = Shared {
            inner: Arc::new(Mutex::new(Inner {
                script: script.into_iter().rev().collect(),
                ..Inner::default()
            })),
            arrived: Arc::new(Notify::new()),
        };
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url,
            shared,
            task,
        }
    }

    /// The URL of a path on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.inner.lock().expect("lock").received.clone()
    }

    /// The most requests that were waiting for their answer at once.
    pub fn most_in_flight(&self) -> usize {
        self.shared.inner.lock().expect("lock").most_in_flight
    }

    /// Waits until at least `count` requests arrived (panics after `within`).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.shared.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "receiver got {} requests, expected {count} within {within:?}",
                    self.received().len()
                );
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let reply = {
        let mut inner = shared.inner.lock().expect("lock");
        inner.received.push(Received {
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Utc::now(),
        });
        inner.in_flight += 1;
        inner.most_in_flight = inner.most_in_flight.max(inner.in_flight);
        inner.script.pop().unwrap_or_else(|| Reply::status(200))
    };
    shared.arrived.notify_waiters();
    tokio::time::sleep(reply.delay).await;
    shared.inner.lock().expect("lock").in_flight -= 1;
    let mut response = (
        StatusCode::from_u16(reply.status).expect("status"),
        "received",
    )
        .into_response();
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}
