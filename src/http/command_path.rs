//! The one write path of the ingress: a validated, authorised command is enveloped and
//! published (202 once JetStream stored it), replays are answered from what happened, a key
//! reused for another request is refused, and `Prefer: wait` waits for the worker's outcome.

use std::future::Future;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::Instrument as _;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::{AuthUser, RequestId};
use super::state::AppState;
use super::write_request::WriteRequest;
use crate::db::{commands, dead_letters};
use crate::domain::refusal::Refusal;
use crate::messaging::command::{CommandSpec, ResourceRef, command_id_for};
use crate::messaging::envelope::{Envelope, Idempotency};
use crate::messaging::pending::pending_any;
use crate::messaging::publish::{PublishError, command_message};
use crate::telemetry;

/// Where a command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommandStatus {
    /// Accepted, not processed yet.
    Pending,
    /// Its effects are committed.
    Applied,
    /// The business rules refused it.
    Rejected,
    /// It could not be processed; an operator will look at it.
    DeadLettered,
}

impl CommandStatus {
    /// The status of a stored outcome.
    pub fn of_outcome(outcome: &str) -> Self {
        if outcome == "REJECTED" {
            CommandStatus::Rejected
        } else {
            CommandStatus::Applied
        }
    }
}

/// The 202 answer of a command (orders keep their own, see `orders`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandAccepted {
    /// The command id (stable for this user and idempotency key).
    pub command_id: Uuid,
    /// PENDING, or where a replayed command stands.
    pub status: CommandStatus,
    /// What it changes.
    pub resource: ResourceRef,
}

/// How one kind of resource answers its writes.
pub trait Answer: Send + Sync {
    /// The 202 answer (for a replay, `status` says where the command stands); by default the
    /// usual [`accepted_command`].
    fn accepted(
        &self,
        state: &AppState,
        user: &AuthUser,
        command_id: Uuid,
        resource: &ResourceRef,
        status: CommandStatus,
    ) -> impl Future<Output = ApiResult<Response>> + Send {
        let _ = (state, user);
        std::future::ready(accepted_command(command_id, resource, status))
    }

    /// The final representation once the command applied (`Prefer: wait`).
    fn applied(
        &self,
        state: &AppState,
        user: &AuthUser,
        resource: &ResourceRef,
    ) -> impl Future<Output = ApiResult<Response>> + Send;
}

/// The usual 202: `{command_id, status, resource}` with `Location: /api/v1/commands/{id}`.
pub fn accepted_command(
    command_id: Uuid,
    resource: &ResourceRef,
    status: CommandStatus,
) -> ApiResult<Response> {
    let location = header_value(&format!("/api/v1/commands/{command_id}"))?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(CommandAccepted {
            command_id,
            status,
            resource: resource.clone(),
        }),
    )
        .into_response())
}

/// A header value from text we built.
pub fn header_value(text: &str) -> ApiResult<HeaderValue> {
    HeaderValue::from_str(text).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Hex SHA-256 of a command type and its canonical request: equal requests hash equally
/// whatever the client's key order or spacing, because serialising a struct is deterministic.
pub fn request_hash(kind: &str, canonical: &impl Serialize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(kind.as_bytes());
    hasher.update(b"\n");
    hasher.update(serde_json::to_vec(canonical).unwrap_or_default());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A command ready for the write path.
pub struct Submission<C, P> {
    /// The payload.
    pub command: C,
    /// [`request_hash`] of what the client asked.
    pub request_hash: String,
    /// The checks against the read model (404, 403, 409, 412, 422) that a fresh command must
    /// pass before it is published; a replay is answered without them.
    pub precheck: P,
}

/// The command id of this user's request.
pub fn command_id(user: &AuthUser, write: &WriteRequest) -> Uuid {
    command_id_for(user.user_id, &write.idempotency_key)
}

/// Publishes a command (or answers its replay) and answers 202, or with `Prefer: wait` the
/// outcome if it arrives in time.
pub async fn submit<C, P, A>(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    submission: Submission<C, P>,
    answer: &A,
) -> ApiResult<Response>
where
    C: CommandSpec,
    P: Future<Output = ApiResult<()>> + Send,
    A: Answer,
{
    let id = command_id(user, write);
    let resource = ResourceRef::of(&submission.command);
    let hash = submission.request_hash;
    // A replay of a processed command, or a key reused for another request?
    if let Some(stored) = state.command_lookup.find(id).await? {
        if stored.request_hash.as_deref() != Some(hash.as_str()) {
            return Err(ApiError::IdempotencyKeyReused);
        }
        let status = CommandStatus::of_outcome(&stored.outcome);
        return match write.wait {
            Some(wait) => final_answer(state, user, &resource, &stored, wait, answer).await,
            None => answer.accepted(state, user, id, &resource, status).await,
        };
    }
    submission.precheck.await?;
    publish_new(
        state,
        user,
        request_id,
        write,
        (id, &hash),
        submission.command,
    )
    .await?;
    if let Some(wait) = write.wait
        && let Some(stored) = wait_for_outcome(state, id, wait).await?
    {
        return final_answer(state, user, &resource, &stored, wait, answer).await;
    }
    answer
        .accepted(state, user, id, &resource, CommandStatus::Pending)
        .await
}

/// Envelopes and publishes a command that passed its checks, under `id` with the request
/// `hash`; a duplicate publish of the same request is fine, of another one a 409.
pub async fn publish_new<C: CommandSpec>(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    (id, hash): (Uuid, &str),
    command: C,
) -> ApiResult<()> {
    let envelope = Envelope::new(
        id,
        write.received_at,
        user.actor(),
        request_id.id.clone(),
        Some(Idempotency {
            key: write.idempotency_key.clone(),
            request_hash: hash.to_owned(),
        }),
        command,
    );
    let span = tracing::info_span!("publish", command_id = %id, kind = C::TYPE);
    let trace = request_id
        .trace
        .map(|trace| telemetry::outgoing(&span, trace));
    let message = command_message(&state.ns, &envelope, trace.as_ref())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let published = state
        .command_publisher
        .publish(message)
        .instrument(span)
        .await
        .map_err(|e| match e {
            PublishError::Encode(e) => ApiError::Internal(e.to_string()),
            PublishError::NotAcknowledged(e) => ApiError::Unavailable(format!("nats: {e}")),
        })?;
    if published.duplicate && stored_hash(state, id).await?.is_some_and(|h| h != hash) {
        // Same key within the stream's duplicate window, for another request.
        return Err(ApiError::IdempotencyKeyReused);
    }
    tracing::info!(command_id = %id, kind = C::TYPE, duplicate = published.duplicate, "command accepted");
    Ok(())
}

/// The request hash of an accepted command, wherever it is now: in the stream, processed, or
/// dead-lettered.
async fn stored_hash(state: &AppState, id: Uuid) -> ApiResult<Option<String>> {
    let of = |envelope: Envelope<Value>| envelope.idempotency.map(|i| i.request_hash);
    if let Ok(Some(pending)) = pending_any(&state.js, &state.ns, id).await {
        return Ok(of(pending.envelope));
    }
    if let Some(stored) = commands::find(&state.db, id).await? {
        return Ok(stored.request_hash);
    }
    Ok(dead_letters::find_for_command(&state.db, id)
        .await?
        .and_then(|letter| serde_json::from_slice::<Envelope<Value>>(&letter.payload).ok())
        .and_then(of))
}

/// Polls the processed-command record until the outcome is there or `wait` has passed.
pub async fn wait_for_outcome(
    state: &AppState,
    id: Uuid,
    wait: Duration,
) -> ApiResult<Option<commands::StoredCommand>> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(stored) = commands::find(&state.db, id).await? {
            return Ok(Some(stored));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// The answer to a processed command under `Prefer: wait`: the representation, or the
/// refusal as problem+json.
async fn final_answer<A: Answer>(
    state: &AppState,
    user: &AuthUser,
    resource: &ResourceRef,
    stored: &commands::StoredCommand,
    wait: Duration,
    answer: &A,
) -> ApiResult<Response> {
    if CommandStatus::of_outcome(&stored.outcome) == CommandStatus::Rejected {
        let refusal: Refusal = stored
            .error
            .clone()
            .and_then(|e| serde_json::from_value(e).ok())
            .ok_or_else(|| ApiError::Internal(format!("command {} has no refusal", stored.id)))?;
        return Err(ApiError::Refused(refusal));
    }
    let mut response = answer.applied(state, user, resource).await?;
    response.headers_mut().insert(
        header::HeaderName::from_static("preference-applied"),
        header_value(&format!("wait={}", wait.as_secs()))?,
    );
    Ok(response)
}
