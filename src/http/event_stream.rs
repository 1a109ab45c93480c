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
    params(("Last-Event-ID" = Option<u64>, Header,
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
    let mut messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
    let (sender, receiver) = mpsc::channel(BUFFERED_EVENTS);
    let mut closing = state.closing.subscribe();
    let scope = user.scope();
    tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                _ = closing.wait_for(|closing| *closing) => break,
                () = sender.closed() => break,
                next = messages.next() => next,
            };
            let message = match message {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    tracing::warn!(%error, "event stream: consumer failed");
                    break;
                }
                None => break,
            };
            let Some(event) = visible_event(scope, &message) else {
                continue;
            };
            if let Err(error) = sender.try_send(event) {
                if matches!(error, mpsc::error::TrySendError::Full(_)) {
                    tracing::info!(user_id = %user.user_id, "event stream: client too slow, disconnected");
                }
                break;
            }
        }
    });
    let events = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}

/// The SSE event of a message, if the caller may see it.
fn visible_event(scope: Scope, message: &async_nats::jetstream::Message) -> Option<Event> {
    let (event, decoded) = DomainEvent::decode_message(&message.payload).ok()?;
    if !decoded.visible_to(scope) {
        return None;
    }
    let sequence = message.info().ok()?.stream_sequence;
    // Published events are compact JSON: one line, as an SSE data field needs.
    let data = std::str::from_utf8(&message.payload).ok()?;
    Some(
        Event::default()
            .id(sequence.to_string())
            .event(event.kind)
            .data(data),
    )
}

/// `Last-Event-ID`: the stream sequence of the last event the client received.
fn last_event_id(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "Last-Event-ID",
                "INVALID",
                "Last-Event-ID must be the id of an event received from this stream",
            )])
        })
}
