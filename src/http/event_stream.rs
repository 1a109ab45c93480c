//! `GET /api/v1/events/stream`: Server-Sent Events of the events the caller may see, read from
//! the EVENTS stream by an ordered ephemeral consumer. `id:` is the stream sequence, so a client
//! that reconnects with `Last-Event-ID` resumes exactly after the last event it received.

use std::convert::Infallible;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;

use super::error::{ApiError, ApiResult, FieldError};
use super::extract::AuthUser;
use super::state::AppState;
use crate::domain::roles::Scope;
use crate::messaging::events::DomainEvent;

/// A comment line is sent this often, so proxies keep the connection open.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Events buffered per connection; a client further behind is disconnected (it resumes with
/// `Last-Event-ID`), so a slow client costs bounded memory.
pub const BUFFERED_EVENTS: usize = 256;

/// The live events of the caller's organisation (staff: all), as `text/event-stream`.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events",
    params(("Last-Event-ID" = Option<u64>, Header, nullable = false, minimum = 0,
        maximum = 9_223_372_036_854_775_807_i64,
        description = "Resume after this event (the `id:` of the last event received)")),
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/event-stream",
        description = "`id:` stream sequence, `event:` type, `data:` the event as published"),
        (status = 401, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn stream(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let deliver_policy = match last_event_id(&headers)? {
        Some(sequence) => DeliverPolicy::ByStartSequence {
            start_sequence: sequence + 1,
        },
        None => DeliverPolicy::New,
    };
    let unavailable = |e: &dyn std::fmt::Display| ApiError::Unavailable(format!("nats: {e}"));
    let events = state
        .js
        .get_stream_no_info(state.ns.events_stream())
        .await
        .map_err(|e| unavailable(&e))?;
    // Only order and purchase-order events can be visible to a user: the server leaves the
    // rest (audit events) out before they reach us.
    let consumer = events
        .create_consumer(OrderedConfig {
            filter_subjects: vec![
                state.ns.subject("bw.evt.order.>"),
                state.ns.subject("bw.evt.purchase_order.>"),
            ],
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(|e| unavailable(&e))?;
    let messages = consumer
        .messages()
        .await
        .map_err(|e| unavailable(&e))?
        .map(|item| {
            item.map_err(|e| e.to_string()).and_then(|message| {
                let sequence = message.info().map_err(|e| e.to_string())?.stream_sequence;
                // Bytes: a reference-counted clone, not a copy.
                Ok((sequence, message.payload.clone()))
            })
        });
    let (sender, receiver) = mpsc::channel(BUFFERED_EVENTS);
    let closing = state.closing.subscribe();
    let (scope, user_id) = (user.scope(), user.user_id);
    tokio::spawn(async move {
        let stopped = pump(messages, scope, sender, closing).await;
        tracing::debug!(%user_id, ?stopped, "event stream ended");
    });
    let events = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|visible| {
            let event = Event::default()
                .id(visible.sequence.to_string())
                .event(visible.kind)
                .data(visible.data);
            (Ok(event), receiver)
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}

/// Why a connection's event pump stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stopped {
    /// The ingress is shutting down.
    Closing,
    /// The client went away.
    ClientGone,
    /// The client fell [`BUFFERED_EVENTS`] behind: disconnected, it resumes with Last-Event-ID.
    SlowClient,
    /// The consumer failed (the client reconnects and resumes).
    ConsumerFailed(String),
}

/// Moves the visible events of `messages` (`(stream sequence, payload)`) to the connection's
/// bounded buffer until the client leaves, falls too far behind, or the ingress closes.
async fn pump(
    messages: impl futures::Stream<Item = Result<(u64, bytes::Bytes), String>>,
    scope: Scope,
    sender: mpsc::Sender<Visible>,
    mut closing: tokio::sync::watch::Receiver<bool>,
) -> Stopped {
    let mut messages = std::pin::pin!(messages);
    loop {
        let next = tokio::select! {
            _ = closing.wait_for(|closing| *closing) => return Stopped::Closing,
            () = sender.closed() => return Stopped::ClientGone,
            next = messages.next() => next,
        };
        let (sequence, payload) = match next {
            Some(Ok(message)) => message,
            Some(Err(error)) => return Stopped::ConsumerFailed(error),
            None => return Stopped::ConsumerFailed("the consumer ended".to_owned()),
        };
        let Some(event) = visible(scope, sequence, &payload) else {
            continue;
        };
        match sender.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => return Stopped::SlowClient,
            Err(mpsc::error::TrySendError::Closed(_)) => return Stopped::ClientGone,
        }
    }
}

/// An event the caller may see, as the stream sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Visible {
    /// EVENTS stream sequence (`id:`).
    sequence: u64,
    /// Event type (`event:`).
    kind: String,
    /// The event as published (`data:`): compact JSON, one line as an SSE data field needs.
    data: String,
}

/// The published event `payload` if the caller may see it.
fn visible(scope: Scope, sequence: u64, payload: &[u8]) -> Option<Visible> {
    let (event, decoded) = DomainEvent::decode_message(payload).ok()?;
    if !decoded.visible_to(scope) {
        return None;
    }
    Some(Visible {
        sequence,
        kind: event.kind,
        data: String::from_utf8(payload.to_vec()).ok()?,
    })
}

/// `Last-Event-ID`: the stream sequence of the last event the client received.
fn last_event_id(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        // Stream sequences are u64 but never pass i64's range, which the document declares.
        .and_then(|v| v.trim().parse::<i64>().ok())
        .and_then(|v| u64::try_from(v).ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "Last-Event-ID",
                "INVALID",
                "Last-Event-ID must be the id of an event received from this stream",
            )])
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::Namespace;
    use crate::messaging::events::{OrderProcessed, OutboxEvent};
    use rust_decimal::Decimal;
    use uuid::Uuid;

    const OWN: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);

    fn priced(station_id: Uuid) -> bytes::Bytes {
        let payload = OrderProcessed {
            order_id: Uuid::new_v4(),
            reference: "MO-2026-000001".into(),
            station_id,
            status: "REGISTERED".into(),
            order_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            total_excluding_tax: Decimal::ONE,
            tax_amount: Decimal::ZERO,
            total_including_tax: Decimal::ONE,
            rejection: None,
            purchase_orders: Vec::new(),
            sales_order: None,
        };
        let event = OutboxEvent::new(
            &Namespace::default(),
            Uuid::new_v4(),
            chrono::Utc::now(),
            None,
            &payload,
        )
        .unwrap()
        .event;
        serde_json::to_vec(&event).unwrap().into()
    }

    fn messages(
        stations: impl IntoIterator<Item = Uuid>,
    ) -> impl futures::Stream<Item = Result<(u64, bytes::Bytes), String>> {
        let items: Vec<_> = (1..)
            .zip(stations)
            .map(|(seq, s)| Ok((seq, priced(s))))
            .collect();
        // The consumer then waits for more, as a live one does.
        futures::stream::iter(items).chain(futures::stream::pending())
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_disconnected_after_a_bounded_buffer() {
        let (sender, _receiver_never_read) = mpsc::channel(BUFFERED_EVENTS);
        let (_closing, watch) = tokio::sync::watch::channel(false);
        let live = messages(std::iter::repeat_n(OWN, BUFFERED_EVENTS + 50));
        assert_eq!(
            pump(live, Scope::Station(OWN), sender, watch).await,
            Stopped::SlowClient
        );
    }

    #[tokio::test]
    async fn only_visible_events_reach_the_client_with_their_sequence() {
        let (sender, mut receiver) = mpsc::channel(BUFFERED_EVENTS);
        let (closing, watch) = tokio::sync::watch::channel(false);
        let live = messages([OTHER, OWN, OTHER, OWN]);
        let pumped = tokio::spawn(pump(live, Scope::Station(OWN), sender, watch));
        let mut sequences = Vec::new();
        for _ in 0..2 {
            let event = receiver.recv().await.unwrap();
            assert_eq!(event.kind, "order.priced");
            assert!(event.data.contains(&OWN.to_string()));
            sequences.push(event.sequence);
        }
        assert_eq!(sequences, [2, 4]);
        closing.send_replace(true);
        assert_eq!(pumped.await.unwrap(), Stopped::Closing);
        assert!(receiver.try_recv().is_err(), "nothing else was sent");
    }

    #[tokio::test]
    async fn a_departed_client_stops_the_pump() {
        let (sender, receiver) = mpsc::channel(BUFFERED_EVENTS);
        let (_closing, watch) = tokio::sync::watch::channel(false);
        drop(receiver);
        assert_eq!(
            pump(messages([OWN]), Scope::All, sender, watch).await,
            Stopped::ClientGone
        );
    }
}
