//! End-to-end measurement: match `order.priced` / `order.rejected` events to accepted orders.
//!
//! The collector task owns all matching state, fed by two inputs: the accepted orders (an mpsc
//! from the HTTP tasks) and an ordered JetStream consumer of the EVENTS stream. An event may beat its own 202 to the
//! collector (the worker can be faster than our HTTP task is scheduled), so such events are
//! parked until their 202 arrives.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde_json::Value;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

use bluewhale::messaging::events::DomainEvent;

use crate::http_load::{Accepted, new_histogram};

/// How a processed order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `order.priced`: the order was split and priced.
    Priced,
    /// `order.rejected`: the order was refused as a whole.
    Rejected,
}

/// The state of the matching, independent of NATS so it can be unit-tested.
pub struct Matcher {
    /// Accepted orders still waiting for their event, with their 202 instant.
    pending: HashMap<Uuid, Instant>,
    /// Events that arrived before their order's 202 was recorded.
    early: HashMap<Uuid, (Outcome, Instant)>,
    /// Orders whose event has been matched (for duplicate detection).
    done: HashSet<Uuid>,
    /// End-to-end latencies (event receipt − 202), microseconds.
    pub latency_us: Histogram<u64>,
    /// Matched priced events.
    pub priced: u64,
    /// Matched rejected events.
    pub rejected: u64,
    /// Events seen again for an already matched order.
    pub duplicates: u64,
    /// Events matched after being parked (they beat their 202).
    pub early_matches: u64,
    /// Payloads that could not be decoded.
    pub decode_errors: u64,
    /// Receipt instant of the last matched event.
    pub last_event: Option<Instant>,
    /// `data` of the first rejection, to show why orders are refused.
    pub first_rejection: Option<Value>,
}

/// Final counts of the end-to-end measurement.
pub struct E2eOutcome {
    /// The matcher as it stood at the end.
    pub matcher: Matcher,
    /// Accepted orders without an event at the end.
    pub missing: u64,
    /// Events for unknown orders (another client's, or a 202 we never read).
    pub unmatched: u64,
    /// Slow-consumer notifications: the client dropped events, counts are then unreliable.
    pub slow_consumer: u64,
    /// Whether the wait ended by timeout rather than by seeing every order.
    pub timed_out: bool,
}

impl Default for Matcher {
    fn default() -> Self {
        Self {
            pending: HashMap::new(),
            early: HashMap::new(),
            done: HashSet::new(),
            latency_us: new_histogram(),
            priced: 0,
            rejected: 0,
            duplicates: 0,
            early_matches: 0,
            decode_errors: 0,
            last_event: None,
            first_rejection: None,
        }
    }
}

impl Matcher {
    /// Records an accepted order; matches it at once if its event already came.
    pub fn on_accepted(&mut self, a: Accepted) {
        match self.early.remove(&a.order_id) {
            Some((outcome, at)) => {
                self.early_matches += 1;
                self.complete(a.order_id, outcome, a.at, at);
            }
            None => {
                self.pending.insert(a.order_id, a.at);
            }
        }
    }

    /// Records an event received at `at`.
    pub fn on_event(&mut self, order_id: Uuid, outcome: Outcome, at: Instant) {
        if let Some(accepted_at) = self.pending.remove(&order_id) {
            self.complete(order_id, outcome, accepted_at, at);
        } else if self.done.contains(&order_id) || self.early.contains_key(&order_id) {
            self.duplicates += 1;
        } else {
            self.early.insert(order_id, (outcome, at));
        }
    }

    /// Decodes one event message and records it; `station` filters out other stations' orders.
    pub fn on_message(&mut self, payload: &[u8], station: Uuid, at: Instant) {
        let processed = match DomainEvent::decode_message(payload) {
            Ok((_, DomainEvent::OrderProcessed(processed))) => processed,
            Ok(_) => return,
            Err(_) => {
                self.decode_errors += 1;
                return;
            }
        };
        if processed.station_id != station {
            return;
        }
        let outcome = if processed.rejection.is_some() {
            Outcome::Rejected
        } else {
            Outcome::Priced
        };
        if outcome == Outcome::Rejected && self.first_rejection.is_none() {
            self.first_rejection = serde_json::to_value(&processed.rejection).ok();
        }
        self.on_event(processed.order_id, outcome, at);
    }

    /// Orders accepted and not yet matched.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Every accepted order seen so far, matched or not.
    pub fn accepted_ids(&self) -> impl Iterator<Item = &Uuid> {
        self.done.iter().chain(self.pending.keys())
    }

    /// Events still parked without a 202.
    pub fn unmatched_len(&self) -> usize {
        self.early.len()
    }

    fn complete(&mut self, order_id: Uuid, outcome: Outcome, accepted: Instant, event: Instant) {
        // An event read before its 202 means the true latency is below our resolution: 0.
        let us = u64::try_from(event.saturating_duration_since(accepted).as_micros())
            .unwrap_or(u64::MAX);
        self.latency_us.saturating_record(us.max(1));
        match outcome {
            Outcome::Priced => self.priced += 1,
            Outcome::Rejected => self.rejected += 1,
        }
        self.done.insert(order_id);
        self.last_event = Some(self.last_event.map_or(event, |l| l.max(event)));
    }
}

/// A running collector: send accepted orders to `sink`, then call `finish`.
pub struct Collector {
    /// Where the HTTP tasks report accepted orders.
    pub sink: UnboundedSender<Accepted>,
    /// Orders matched so far (progress display).
    pub matched: Arc<AtomicU64>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Matcher>,
    slow_consumer: Arc<AtomicU64>,
}

/// Reads the priced and rejected events through an ordered JetStream consumer of the EVENTS
/// stream, and starts the collector task.
///
/// A core subscription would miss whatever the relay publishes while the client reconnects
/// (a NATS restart): the ordered consumer resumes from the last stream sequence it delivered,
/// so every event the stream stores is seen once. It starts at the stream's end (deliver
/// policy "new") and returns only once the consumer exists, so no event of the run is missed.
pub async fn start(nats_url: &str, namespace: &str, station: Uuid) -> Result<Collector> {
    let slow_consumer = Arc::new(AtomicU64::new(0));
    let slow = slow_consumer.clone();
    let client = async_nats::ConnectOptions::new()
        // Generous buffer: at ~1 000 events/s a short stall of the collector must not drop any.
        .subscription_capacity(1 << 20)
        // A NATS restart must not end the run: keep reconnecting.
        .max_reconnects(None)
        .event_callback(move |event| {
            let slow = slow.clone();
            async move {
                if matches!(event, async_nats::Event::SlowConsumer(_)) {
                    slow.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .connect(nats_url)
        .await
        .with_context(|| format!("connecting to NATS at {nats_url}"))?;
    let ns = bluewhale::messaging::Namespace::new(namespace).map_err(anyhow::Error::msg)?;
    let js = async_nats::jetstream::new(client.clone());
    let stream_name = ns.events_stream();
    let stream = js
        .get_stream(&stream_name)
        .await
        .with_context(|| format!("opening the {stream_name} stream"))?;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            description: Some("loadgen: order.priced / order.rejected matching".into()),
            filter_subjects: vec![
                ns.event("order.priced", "*"),
                ns.event("order.rejected", "*"),
            ],
            deliver_policy: DeliverPolicy::New,
            ..Default::default()
        })
        .await
        .context("creating the ordered consumer of order events")?;
    let events = consumer
        .messages()
        .await
        .context("reading the ordered consumer of order events")?;

    let (sink, accepted) = unbounded_channel();
    let (stop, stopped) = oneshot::channel();
    let matched = Arc::new(AtomicU64::new(0));
    let task = tokio::spawn(collect(
        client,
        events,
        accepted,
        stopped,
        station,
        matched.clone(),
    ));
    Ok(Collector {
        sink,
        matched,
        stop,
        task,
        slow_consumer,
    })
}

/// The collector loop: ends when every accepted order is matched (after the load closed the
/// channel), when told to stop, or when the subscriptions end.
async fn collect(
    client: async_nats::Client,
    mut events: pull::Ordered,
    mut accepted: UnboundedReceiver<Accepted>,
    mut stopped: oneshot::Receiver<()>,
    station: Uuid,
    matched: Arc<AtomicU64>,
) -> Matcher {
    let mut m = Matcher::default();
    let mut load_running = true;
    loop {
        tokio::select! {
            // Stop first, then drain 202s before events so early parking stays rare.
            biased;
            _ = &mut stopped => break,
            a = accepted.recv(), if load_running => match a {
                Some(a) => m.on_accepted(a),
                None => load_running = false,
            },
            msg = events.next() => match msg {
                Some(Ok(msg)) => m.on_message(&msg.payload, station, Instant::now()),
                // The ordered consumer recreates itself after a gap or a reconnect; an error
                // it reports is transient (the stream goes on), so it is noted, not fatal.
                Some(Err(error)) => eprintln!("loadgen: event consumer: {error}"),
                None => break,
            },
        }
        matched.store(m.priced + m.rejected, Ordering::Relaxed);
        if !load_running && m.pending_len() == 0 {
            break;
        }
    }
    // Keeping the client alive until here keeps the consumer's connection alive.
    drop(client);
    m
}

impl Collector {
    /// Waits for the remaining events (the load must be over) at most `timeout`, printing
    /// progress on stderr, and returns the counts.
    pub async fn finish(self, timeout: Duration, accepted: u64) -> Result<E2eOutcome> {
        let Collector {
            sink,
            matched,
            stop,
            mut task,
            slow_consumer,
        } = self;
        // Dropping our sender closes the channel once the HTTP tasks' clones are gone too.
        drop(sink);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.tick().await;
        let mut timed_out = false;
        let matcher = loop {
            tokio::select! {
                joined = &mut task => break joined.context("event collector task")?,
                _ = tokio::time::sleep_until(deadline), if !timed_out => {
                    timed_out = true;
                    // The task may already be finishing; a failed send is then harmless.
                    let _ = stop.send(());
                    break task.await.context("event collector task")?;
                }
                _ = tick.tick() => eprintln!(
                    "loadgen: waiting for events: {} / {accepted} orders processed",
                    matched.load(Ordering::Relaxed)
                ),
            }
        };
        Ok(E2eOutcome {
            missing: matcher.pending_len() as u64,
            unmatched: matcher.unmatched_len() as u64,
            slow_consumer: slow_consumer.load(Ordering::Relaxed),
            timed_out,
            matcher,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(id: Uuid, at: Instant) -> Accepted {
        Accepted { order_id: id, at }
    }

    #[test]
    fn event_after_202_measures_the_gap() {
        let mut m = Matcher::default();
        let t0 = Instant::now();
        let id = Uuid::new_v4();
        m.on_accepted(accepted(id, t0));
        m.on_event(id, Outcome::Priced, t0 + Duration::from_millis(40));
        assert_eq!((m.priced, m.rejected, m.pending_len()), (1, 0, 0));
        let p = m.latency_us.value_at_quantile(0.5);
        assert!((39_900..=40_100).contains(&p), "{p}");
        assert_eq!(m.last_event, Some(t0 + Duration::from_millis(40)));
    }

    #[test]
    fn event_before_202_is_parked_then_matched() {
        let mut m = Matcher::default();
        let t0 = Instant::now();
        let id = Uuid::new_v4();
        m.on_event(id, Outcome::Rejected, t0);
        assert_eq!(m.unmatched_len(), 1);
        m.on_accepted(accepted(id, t0 + Duration::from_millis(1)));
        assert_eq!((m.rejected, m.early_matches, m.unmatched_len()), (1, 1, 0));
        assert_eq!(m.pending_len(), 0);
        // Negative gaps are recorded as the minimum, not dropped.
        assert_eq!(m.latency_us.len(), 1);
    }

    #[test]
    fn duplicates_and_strangers_are_counted_not_matched() {
        let mut m = Matcher::default();
        let t0 = Instant::now();
        let id = Uuid::new_v4();
        m.on_accepted(accepted(id, t0));
        m.on_event(id, Outcome::Priced, t0);
        m.on_event(id, Outcome::Priced, t0);
        m.on_event(Uuid::new_v4(), Outcome::Priced, t0);
        assert_eq!((m.priced, m.duplicates, m.unmatched_len()), (1, 1, 1));
        let missing = Uuid::new_v4();
        m.on_accepted(accepted(missing, t0));
        assert_eq!(m.pending_len(), 1);
    }

    #[test]
    fn decodes_payloads_and_filters_stations() {
        let mut m = Matcher::default();
        let station = Uuid::new_v4();
        let t0 = Instant::now();
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        for id in [a, b, c] {
            m.on_accepted(accepted(id, t0));
        }
        let event = |id: Uuid, st: Uuid, rejected: bool| {
            use bluewhale::domain::rejection::{LineRejection, Rejection, RejectionCode};
            use bluewhale::messaging::events::{OrderProcessed, OutboxEvent};
            let payload = OrderProcessed {
                order_id: id,
                reference: "MO-2026-000001".into(),
                station_id: st,
                status: if rejected { "REJECTED" } else { "REGISTERED" }.into(),
                order_date: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
                total_excluding_tax: rust_decimal::Decimal::ZERO,
                tax_amount: rust_decimal::Decimal::ZERO,
                total_including_tax: rust_decimal::Decimal::ZERO,
                rejection: rejected.then(|| {
                    Rejection::from_lines(vec![LineRejection::line(
                        0,
                        RejectionCode::NoActiveContract,
                        "no contract",
                    )])
                    .unwrap()
                }),
                purchase_orders: Vec::new(),
                sales_order: None,
            };
            let ns = bluewhale::messaging::Namespace::default();
            let out = OutboxEvent::new(&ns, Uuid::new_v4(), chrono::Utc::now(), None, &payload);
            serde_json::to_vec(&out.unwrap().event).unwrap()
        };
        m.on_message(&event(a, station, false), station, t0);
        m.on_message(&event(b, station, true), station, t0);
        m.on_message(&event(c, Uuid::new_v4(), false), station, t0);
        m.on_message(b"not json", station, t0);
        m.on_message(br#"{"data":{}}"#, station, t0);
        assert_eq!((m.priced, m.rejected, m.decode_errors), (1, 1, 2));
        assert_eq!(m.pending_len(), 1);
        assert!(m.first_rejection.is_some());
    }
}
