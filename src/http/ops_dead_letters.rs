//! `/api/v1/ops/dead-letters…`: operators (ADMIN, HANDLER) list and inspect dead letters and
//! replay or discard them, one at a time or every open one matching a filter. Resolutions are
//! `dead_letter.resolve` commands on the command path: audited, idempotent, serialised per
//! dead letter by the worker.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::command_path::{self, Answer, CommandStatus, Submission, request_hash};
use super::commands::command_status;
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, PathId, RequestId, ValidJson, ValidQuery};
use super::keyset_page;
use super::state::AppState;
use super::write_request::WriteRequest;
use crate::db::dead_letters::{self, DeadLetterFilter, DeadLetterRow};
use crate::db::keyset::Position;
use crate::domain::dead_letter_reason::DeadLetterReason;
use crate::domain::dead_letter_resolution::{
    DeadLetterStatus, Resolution, authorise, check_resolution,
};
use crate::domain::text::text_issues;
use crate::messaging::command::{CommandSpec, ResourceRef, command_id_for};
use crate::messaging::commands::ResolveDeadLetter;

/// Dead letters one bulk request resolves at most; `more` says when others match.
pub const MAX_BULK: usize = 500;
const MAX_REASON: usize = 500;

/// A dead letter in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterSummary {
    /// Id.
    pub id: Uuid,
    /// OPEN, REPLAYED or DISCARDED.
    #[schema(value_type = String, example = "OPEN")]
    pub status: DeadLetterStatus,
    /// `undecodable`, `unknown_type`, `inconsistent`, `permanent_failure` or `out_of_retries`.
    pub reason: String,
    /// What went wrong.
    pub error: String,
    /// The original subject.
    pub subject: String,
    /// The command id, when the message could be read that far.
    pub command_id: Option<Uuid>,
    /// Deliveries before it was dead-lettered.
    pub delivery_count: i32,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When an operator replayed or discarded it.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// One dead letter, everything an operator needs to decide.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterView {
    /// The list fields.
    #[serde(flatten)]
    pub summary: DeadLetterSummary,
    /// The original headers, `{name: [values]}`.
    #[schema(value_type = Object)]
    pub headers: Value,
    /// The original payload as text (invalid UTF-8 replaced).
    pub payload: String,
    /// Sequence of the message in the COMMANDS stream.
    pub stream_sequence: Option<i64>,
    /// Who replayed or discarded it.
    pub resolved_by: Option<Uuid>,
    /// Why it was discarded.
    pub resolution_reason: Option<String>,
    /// The message id its replay was published with.
    pub replay_message_id: Option<Uuid>,
    /// Where its command stands now (after a replay: PENDING, then APPLIED or REJECTED).
    pub command_status: Option<CommandStatus>,
    /// Incremented by each resolution.
    pub version: i32,
}

fn summary(row: &DeadLetterRow) -> DeadLetterSummary {
    DeadLetterSummary {
        id: row.id,
        status: row.status(),
        reason: row.reason.clone(),
        error: row.error.clone(),
        subject: row.subject.clone(),
        command_id: row.command_id,
        delivery_count: row.delivery_count,
        created_at: row.created_at,
        resolved_at: row.resolved_at,
    }
}

async fn view(state: &AppState, row: DeadLetterRow) -> ApiResult<DeadLetterView> {
    let command_status = match row.command_id {
        Some(id) => command_status(state, id).await?,
        None => None,
    };
    Ok(DeadLetterView {
        summary: summary(&row),
        payload: String::from_utf8_lossy(&row.payload).into_owned(),
        headers: row.headers,
        stream_sequence: row.stream_sequence,
        resolved_by: row.resolved_by,
        resolution_reason: row.resolution_reason,
        replay_message_id: row.replay_message_id,
        command_status,
        version: row.version,
    })
}

/// `GET /ops/dead-letters` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// OPEN, REPLAYED or DISCARDED.
    #[param(pattern = "^(OPEN|REPLAYED|DISCARDED)$")]
    pub status: Option<String>,
    /// Only this reason.
    #[param(
        pattern = "^(undecodable|unknown_type|inconsistent|permanent_failure|out_of_retries)$"
    )]
    pub reason: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,16}_[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of dead letters, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterPage {
    /// This page.
    pub items: Vec<DeadLetterSummary>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

fn invalid(field: &'static str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation(vec![FieldError::new(field, code, message)])
}

fn parse_status(value: Option<&str>) -> ApiResult<Option<DeadLetterStatus>> {
    value
        .map(|v| {
            DeadLetterStatus::parse(v).ok_or_else(|| {
                invalid(
                    "status",
                    "UNKNOWN_STATUS",
                    format!("expected OPEN, REPLAYED or DISCARDED, got {v:?}"),
                )
            })
        })
        .transpose()
}

fn parse_reason(value: Option<String>, field: &'static str) -> ApiResult<Option<String>> {
    match value {
        Some(reason) if DeadLetterReason::parse(&reason).is_none() => Err(invalid(
            field,
            "UNKNOWN_REASON",
            format!(
                "expected one of {}",
                DeadLetterReason::ALL
                    .map(DeadLetterReason::as_str)
                    .join(", ")
            ),
        )),
        other => Ok(other),
    }
}

/// Dead letters, newest first, keyset-paged.
#[utoipa::path(get, path = "/api/v1/ops/dead-letters", tag = "ops", params(DeadLetterQuery),
    security(("bearer" = [])),
    responses((status = 200, body = DeadLetterPage), (status = 403, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<DeadLetterQuery>,
) -> ApiResult<Json<DeadLetterPage>> {
    authorise(user.role).map_err(ApiError::Refused)?;
    let filter = DeadLetterFilter {
        status: parse_status(query.status.as_deref())?,
        reason: parse_reason(query.reason, "reason")?,
    };
    let limit = keyset_page::limit(query.limit)?;
    let after = query
        .cursor
        .as_deref()
        .map(keyset_page::decode_cursor)
        .transpose()?;
    // One more than asked tells whether a next page exists.
    let rows = dead_letters::list(&state.db, &filter, after, i64::from(limit) + 1).await?;
    let (rows, next_cursor) = keyset_page::page(rows, limit, |row| Position {
        at: row.created_at,
        id: row.id,
    });
    Ok(Json(DeadLetterPage {
        items: rows.iter().map(summary).collect(),
        next_cursor,
    }))
}

/// One dead letter with its headers and payload.
#[utoipa::path(get, path = "/api/v1/ops/dead-letters/{id}", tag = "ops",
    params(("id" = Uuid, Path, description = "Dead-letter id")), security(("bearer" = [])),
    responses((status = 200, body = DeadLetterView), (status = 403, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<DeadLetterView>> {
    authorise(user.role).map_err(ApiError::Refused)?;
    let row = dead_letters::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view(&state, row).await?))
}

/// `discard` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscardBody {
    /// Why it is never to be processed (1–500 characters).
    pub reason: String,
}

fn discard_reason(reason: String) -> ApiResult<Resolution> {
    let mut errors: Vec<FieldError> = text_issues(&reason, "reason", MAX_REASON)
        .into_iter()
        .map(FieldError::from)
        .collect();
    if reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "REQUIRED", "reason is required"));
    }
    if errors.is_empty() {
        Ok(Resolution::Discard { reason })
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Answers a resolution with the dead letter as it now is.
struct DeadLetterAnswer;

impl Answer for DeadLetterAnswer {
    async fn applied(
        &self,
        state: &AppState,
        _: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        let row = dead_letters::find(&state.db, resource.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Ok(Json(view(state, row).await?).into_response())
    }
}

/// The checks a resolution must pass before it is published (the worker checks again under
/// the lock).
async fn precheck(state: &AppState, user: &AuthUser, command: &ResolveDeadLetter) -> ApiResult<()> {
    let row = dead_letters::find(&state.db, command.dead_letter_id).await?;
    let facts = row
        .as_ref()
        .map(|row| row.facts(state.ns.is_command_subject(&row.subject)));
    check_resolution(facts, user.role, &command.resolution)
        .map(|_| ())
        .map_err(ApiError::Refused)
}

async fn resolve_one(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    command: ResolveDeadLetter,
) -> ApiResult<Response> {
    authorise(user.role).map_err(ApiError::Refused)?;
    let hash = request_hash(ResolveDeadLetter::TYPE, &command);
    let checked = command.clone();
    let submission = Submission {
        command,
        request_hash: hash,
        precheck: async move { precheck(state, user, &checked).await },
    };
    command_path::submit(
        state,
        user,
        request_id,
        write,
        submission,
        &DeadLetterAnswer,
    )
    .await
}

/// Publishes the dead letter's command again. Replaying twice, or a command processed
/// meanwhile, never applies it twice.
#[utoipa::path(post, path = "/api/v1/ops/dead-letters/{id}/replay", tag = "ops",
    params(("id" = Uuid, Path, description = "Dead-letter id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome")),
    security(("bearer" = [])),
    responses((status = 202, body = command_path::CommandAccepted), (status = 200, body = DeadLetterView),
        (status = 403, body = super::error::Problem), (status = 404, body = super::error::Problem),
        (status = 409, body = super::error::Problem)))]
pub async fn replay(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    PathId(id): PathId,
    write: WriteRequest,
) -> ApiResult<Response> {
    let command = ResolveDeadLetter {
        dead_letter_id: id,
        resolution: Resolution::Replay,
    };
    resolve_one(&state, &user, &request_id, &write, command).await
}

/// Closes the dead letter without processing its command.
#[utoipa::path(post, path = "/api/v1/ops/dead-letters/{id}/discard", tag = "ops",
    request_body = DiscardBody,
    params(("id" = Uuid, Path, description = "Dead-letter id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome")),
    security(("bearer" = [])),
    responses((status = 202, body = command_path::CommandAccepted), (status = 200, body = DeadLetterView),
        (status = 403, body = super::error::Problem), (status = 404, body = super::error::Problem),
        (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn discard(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    PathId(id): PathId,
    write: WriteRequest,
    ValidJson(body): ValidJson<DiscardBody>,
) -> ApiResult<Response> {
    let command = ResolveDeadLetter {
        dead_letter_id: id,
        resolution: discard_reason(body.reason)?,
    };
    resolve_one(&state, &user, &request_id, &write, command).await
}

/// Which open dead letters a bulk resolution takes (none given: every open one).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkFilter {
    /// Only this reason.
    #[schema(
        pattern = "^(undecodable|unknown_type|inconsistent|permanent_failure|out_of_retries)$"
    )]
    pub reason: Option<String>,
}

/// Bulk `replay` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkReplayBody {
    /// Which open dead letters.
    #[serde(default)]
    #[schema(inline)]
    pub filter: BulkFilter,
}

/// Bulk `discard` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDiscardBody {
    /// Which open dead letters.
    #[serde(default)]
    #[schema(inline)]
    pub filter: BulkFilter,
    /// Why they are never to be processed (1–500 characters).
    pub reason: String,
}

/// How a bulk resolution went: one `dead_letter.resolve` command per matching dead letter.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResolution {
    /// Open dead letters that matched (at most 500 per request).
    pub matched: usize,
    /// Resolutions applied (under `Prefer: wait`, those that finished in time).
    pub applied: usize,
    /// Resolutions refused (resolved meanwhile by someone else).
    pub rejected: usize,
    /// Resolutions not processed yet.
    pub pending: usize,
    /// More open dead letters match: send the request again (with a new key).
    pub more: bool,
    /// The command of each matched dead letter.
    pub command_ids: Vec<Uuid>,
}

async fn resolve_matching(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    (filter, resolution): (BulkFilter, Resolution),
) -> ApiResult<Response> {
    authorise(user.role).map_err(ApiError::Refused)?;
    let hash = request_hash(
        "dead_letter.resolve_matching",
        &(&filter.reason, &resolution),
    );
    let matching = DeadLetterFilter {
        status: Some(DeadLetterStatus::Open),
        reason: parse_reason(filter.reason, "filter.reason")?,
    };
    let mut rows = dead_letters::list(&state.db, &matching, None, MAX_BULK as i64 + 1).await?;
    let more = rows.len() > MAX_BULK;
    rows.truncate(MAX_BULK);
    let mut command_ids = Vec::with_capacity(rows.len());
    for row in &rows {
        // One command per dead letter, derived from the key: a retried request publishes the
        // same commands, de-duplicated like any other.
        let id = command_id_for(
            user.user_id,
            &format!("{}/{}", write.idempotency_key, row.id),
        );
        let command = ResolveDeadLetter {
            dead_letter_id: row.id,
            resolution: resolution.clone(),
        };
        command_path::publish_new(state, user, request_id, write, (id, &hash), command).await?;
        command_ids.push(id);
    }
    let mut outcome = BulkResolution {
        matched: rows.len(),
        applied: 0,
        rejected: 0,
        pending: 0,
        more,
        command_ids,
    };
    let deadline = write.wait.map(|wait| tokio::time::Instant::now() + wait);
    for id in &outcome.command_ids {
        let left = deadline.map_or(std::time::Duration::ZERO, |d| {
            d.saturating_duration_since(tokio::time::Instant::now())
        });
        match command_path::wait_for_outcome(state, *id, left).await? {
            Some(stored)
                if CommandStatus::of_outcome(&stored.outcome) == CommandStatus::Applied =>
            {
                outcome.applied += 1;
            }
            Some(_) => outcome.rejected += 1,
            None => outcome.pending += 1,
        }
    }
    let status = if outcome.pending == 0 {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(outcome)).into_response())
}

/// Replays every open dead letter matching the filter (at most 500 a request).
#[utoipa::path(post, path = "/api/v1/ops/dead-letters/replay", tag = "ops",
    request_body = BulkReplayBody,
    params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcomes")),
    security(("bearer" = [])),
    responses((status = 200, body = BulkResolution), (status = 202, body = BulkResolution),
        (status = 403, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn replay_matching(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    write: WriteRequest,
    ValidJson(body): ValidJson<BulkReplayBody>,
) -> ApiResult<Response> {
    let request = (body.filter, Resolution::Replay);
    resolve_matching(&state, &user, &request_id, &write, request).await
}

/// Discards every open dead letter matching the filter (at most 500 a request).
#[utoipa::path(post, path = "/api/v1/ops/dead-letters/discard", tag = "ops",
    request_body = BulkDiscardBody,
    params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcomes")),
    security(("bearer" = [])),
    responses((status = 200, body = BulkResolution), (status = 202, body = BulkResolution),
        (status = 403, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn discard_matching(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    write: WriteRequest,
    ValidJson(body): ValidJson<BulkDiscardBody>,
) -> ApiResult<Response> {
    let request = (body.filter, discard_reason(body.reason)?);
    resolve_matching(&state, &user, &request_id, &write, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discard_needs_a_clean_reason() {
        assert!(discard_reason("duplicate".into()).is_ok());
        for bad in ["", "   ", "a\u{0}b"] {
            assert!(discard_reason(bad.into()).is_err(), "{bad:?}");
        }
        assert!(discard_reason("x".repeat(501)).is_err());
    }
}
