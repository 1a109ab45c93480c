//! `GET /api/v1/commands/{id}`: where a command stands, for its issuer and staff.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::command_path::CommandStatus;
use super::error::{ApiError, ApiResult};
use super::extract::{AuthUser, PathId};
use super::state::AppState;
use crate::db::dead_letters::DeadLetterRow;
use crate::db::{commands, dead_letters};
use crate::domain::dead_letter_resolution::DeadLetterStatus;
use crate::messaging::command::ResourceRef;
use crate::messaging::commands::known_command;
use crate::messaging::envelope::Envelope;
use crate::messaging::pending::pending_any;

/// A command as its issuer sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandView {
    /// Command id.
    pub id: Uuid,
    /// Command type, e.g. `purchase_order.transition`.
    #[serde(rename = "type")]
    pub kind: String,
    /// PENDING, APPLIED, REJECTED or DEAD_LETTERED.
    pub status: CommandStatus,
    /// What it changes.
    pub resource: Option<ResourceRef>,
    /// Why it was refused (`{code, detail, errors}`), or why it could not be processed.
    #[schema(value_type = Option<Object>)]
    pub problem: Option<Value>,
    /// When the ingress accepted it.
    pub submitted_at: DateTime<Utc>,
    /// When a worker processed it.
    pub processed_at: Option<DateTime<Utc>>,
}

/// One command: PENDING from the stream until processed, never 404 once accepted.
#[utoipa::path(get, path = "/api/v1/commands/{id}", tag = "commands",
    params(("id" = Uuid, Path, description = "Command id")), security(("bearer" = [])),
    responses((status = 200, body = CommandView), (status = 404, body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<CommandView>> {
    let may_see = |issuer: Option<Uuid>| user.role.is_staff() || issuer == Some(user.user_id);
    if let Some(stored) = commands::find(&state.db, id).await? {
        return visible(may_see(stored.user_id), processed(stored));
    }
    let pending = pending_any(&state.js, &state.ns, id)
        .await
        .map_err(|e| ApiError::Unavailable(format!("nats: {e}")))?;
    if let Some(pending) = pending {
        let issuer = pending.envelope.actor.user_id;
        let resource = resource(&state, &pending.subject, &pending.envelope.kind);
        let view = unprocessed(pending.envelope, resource, CommandStatus::Pending, None);
        return visible(may_see(Some(issuer)), view);
    }
    if let Some(letter) = dead_letters::find_for_command(&state.db, id).await? {
        let Ok(envelope) = serde_json::from_slice::<Envelope<Value>>(&letter.payload) else {
            return Err(ApiError::NotFound);
        };
        let issuer = envelope.actor.user_id;
        let resource = resource(&state, &letter.subject, &envelope.kind);
        let (status, problem) = match letter.status() {
            // Replayed: on its way back to the stream through the outbox.
            DeadLetterStatus::Replayed => (CommandStatus::Pending, None),
            DeadLetterStatus::Open | DeadLetterStatus::Discarded => (
                CommandStatus::DeadLettered,
                Some(dead_letter_problem(&letter, user.role.is_staff())),
            ),
        };
        let view = unprocessed(envelope, resource, status, problem);
        return visible(may_see(Some(issuer)), view);
    }
    // Processed between the reads: the database has it now.
    match commands::find(&state.db, id).await? {
        Some(stored) => visible(may_see(stored.user_id), processed(stored)),
        None => Err(ApiError::NotFound),
    }
}

/// Where command `id` stands, if it was ever accepted: processed, in the stream, or
/// dead-lettered (a replayed dead letter is PENDING again).
pub async fn command_status(state: &AppState, id: Uuid) -> ApiResult<Option<CommandStatus>> {
    if let Some(stored) = commands::find(&state.db, id).await? {
        return Ok(Some(CommandStatus::of_outcome(&stored.outcome)));
    }
    let pending = pending_any(&state.js, &state.ns, id)
        .await
        .map_err(|e| ApiError::Unavailable(format!("nats: {e}")))?;
    if pending.is_some() {
        return Ok(Some(CommandStatus::Pending));
    }
    if let Some(letter) = dead_letters::find_for_command(&state.db, id).await? {
        return Ok(Some(match letter.status() {
            DeadLetterStatus::Replayed => CommandStatus::Pending,
            DeadLetterStatus::Open | DeadLetterStatus::Discarded => CommandStatus::DeadLettered,
        }));
    }
    // Processed between the reads: the database has it now.
    Ok(commands::find(&state.db, id)
        .await?
        .map(|stored| CommandStatus::of_outcome(&stored.outcome)))
}

/// The problem of a dead-lettered command: the reason is for staff; the issuer learns that an
/// operator has it in hand (or decided it is not to be processed).
pub fn dead_letter_problem(letter: &DeadLetterRow, staff: bool) -> Value {
    let discarded = letter.status() == DeadLetterStatus::Discarded;
    if staff {
        serde_json::json!({"code": "DEAD_LETTERED", "detail": letter.error, "reason": letter.reason,
            "dead_letter_id": letter.id, "discarded": discarded,
            "discard_reason": letter.resolution_reason})
    } else if discarded {
        serde_json::json!({"code": "DEAD_LETTERED",
            "detail": "The command could not be processed and operators closed it; submit it again if it is still needed."})
    } else {
        serde_json::json!({"code": "DEAD_LETTERED",
            "detail": "The command could not be processed; operators have been told."})
    }
}

fn visible(may_see: bool, view: CommandView) -> ApiResult<Json<CommandView>> {
    if may_see {
        Ok(Json(view))
    } else {
        Err(ApiError::NotFound)
    }
}

/// The aggregate a command not processed yet changes, from its type and subject.
fn resource(state: &AppState, subject: &str, kind: &str) -> Option<ResourceRef> {
    let (subject_id, command_id) = state.ns.command_ids(subject)?;
    known_command(kind).map(|known| ResourceRef {
        kind: known.aggregate.to_owned(),
        id: (known.pending_aggregate_id)(subject_id, command_id),
    })
}

fn processed(stored: commands::StoredCommand) -> CommandView {
    let status = CommandStatus::of_outcome(&stored.outcome);
    let problem = match status {
        // Stored as the refusal's `{code, detail, errors}`.
        CommandStatus::Rejected => stored.error,
        _ => None,
    };
    CommandView {
        id: stored.id,
        kind: stored.kind,
        status,
        resource: stored
            .aggregate_type
            .zip(stored.aggregate_id)
            .map(|(kind, id)| ResourceRef { kind, id }),
        problem,
        submitted_at: stored.issued_at,
        processed_at: Some(stored.processed_at),
    }
}

/// A command not processed (pending or dead-lettered).
fn unprocessed(
    envelope: Envelope<Value>,
    resource: Option<ResourceRef>,
    status: CommandStatus,
    problem: Option<Value>,
) -> CommandView {
    CommandView {
        id: envelope.id,
        kind: envelope.kind,
        status,
        resource,
        problem,
        submitted_at: envelope.issued_at,
        processed_at: None,
    }
}
