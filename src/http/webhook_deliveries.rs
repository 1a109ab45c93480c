//! An endpoint's delivery log and its repairs: `…/messages`, `…/messages/{event_id}/attempts`,
//! `…/messages/{event_id}/resend`, `…/recover`, and `…/test`. Same visibility as the endpoint.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::command_path::{self, Answer, CommandAccepted, CommandStatus};
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, RequestId, ValidJson, ValidQuery};
use super::pagination::{PageQuery, PageView};
use super::state::AppState;
use super::webhook_endpoint_access::{
    EndpointPath, MessagePath, path_error, submit_change, visible_endpoint,
};
use super::write_request::WriteRequest;
use crate::db::notification_messages::{
    self, AttemptView, DeliveryLog, MessageStatus, MessageView,
};
use crate::db::page::PageRequest;
use crate::db::{audit, catalogue};
use crate::domain::webhook_endpoint_changes::authorise;
use crate::messaging::command::ResourceRef;
use crate::messaging::commands::webhook_endpoint::EndpointChange;
use crate::messaging::events::WebhookTest;

/// `GET …/messages` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// PENDING, DELIVERED or FAILED.
    #[param(pattern = "^(PENDING|DELIVERED|FAILED)$")]
    pub status: Option<String>,
    /// 1-based page number.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Items per page, 1–100.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// The endpoint's messages, newest first.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}/messages",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id"), MessageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = PageView<MessageView>), (status = 404, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
pub async fn messages(
    State(state): State<AppState>,
    user: AuthUser,
    path: EndpointPath,
    ValidQuery(query): ValidQuery<MessageQuery>,
) -> ApiResult<Json<PageView<MessageView>>> {
    let (status, page) = query.parse()?;
    let endpoint = visible_endpoint(&state, &user, path).await?;
    let log = DeliveryLog::Endpoint(endpoint.id);
    let paged = notification_messages::list(&state.db, log, status, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

impl MessageQuery {
    /// The status filter and the page, validated.
    fn parse(self) -> ApiResult<(Option<MessageStatus>, PageRequest)> {
        let page = PageQuery {
            page: self.page,
            per_page: self.per_page,
        }
        .parse()?;
        let status = match self.status.as_deref() {
            None => None,
            Some("PENDING") => Some(MessageStatus::Pending),
            Some("DELIVERED") => Some(MessageStatus::Delivered),
            Some("FAILED") => Some(MessageStatus::Failed),
            Some(other) => {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "status",
                    "UNKNOWN_STATUS",
                    format!("expected PENDING, DELIVERED or FAILED, got {other:?}"),
                )]));
            }
        };
        Ok((status, page))
    }
}

/// The e-mails to a supplier's order contact, newest first.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/email-messages",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"), MessageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = PageView<MessageView>), (status = 403, body = super::error::Problem),
        (status = 404, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn email_messages(
    State(state): State<AppState>,
    user: AuthUser,
    Path(supplier_id): Path<String>,
    ValidQuery(query): ValidQuery<MessageQuery>,
) -> ApiResult<Json<PageView<MessageView>>> {
    let (status, page) = query.parse()?;
    let log = visible_email_log(&state, &user, &supplier_id).await?;
    let paged = notification_messages::list(&state.db, log, status, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// Every attempt to e-mail one event to the supplier.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/email-messages/{event_id}/attempts",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("event_id" = Uuid, Path, description = "Event id")),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<AttemptView>), (status = 404, body = super::error::Problem)))]
pub async fn email_attempts(
    State(state): State<AppState>,
    user: AuthUser,
    Path((supplier_id, event_id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<AttemptView>>> {
    let log = visible_email_log(&state, &user, &supplier_id).await?;
    let event_id = event_id.parse().map_err(|_| path_error("event_id"))?;
    notification_messages::attempts_for(&state.db, log, event_id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// A supplier's e-mail log, if this user may see it (as its webhook endpoints).
async fn visible_email_log(
    state: &AppState,
    user: &AuthUser,
    supplier_id: &str,
) -> ApiResult<DeliveryLog> {
    let supplier_id: Uuid = supplier_id.parse().map_err(|_| path_error("supplier_id"))?;
    authorise(user.role, user.org_id, supplier_id).map_err(ApiError::Refused)?;
    if !catalogue::supplier_exists(&state.db, supplier_id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(DeliveryLog::SupplierEmails(supplier_id))
}

/// Every attempt to deliver one event to the endpoint.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}/messages/{event_id}/attempts",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id"),
        ("event_id" = Uuid, Path, description = "Event id (the webhook-id header)")),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<AttemptView>), (status = 404, body = super::error::Problem)))]
pub async fn attempts(
    State(state): State<AppState>,
    user: AuthUser,
    MessagePath {
        endpoint: path,
        event_id,
    }: MessagePath,
) -> ApiResult<Json<Vec<AttemptView>>> {
    let endpoint = visible_endpoint(&state, &user, path).await?;
    notification_messages::attempts_for(&state.db, DeliveryLog::Endpoint(endpoint.id), event_id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// Delivers one event to the endpoint again, whatever became of it before.
#[utoipa::path(post, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}/messages/{event_id}/resend",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id"),
        ("event_id" = Uuid, Path, description = "Event id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30)")),
    security(("bearer" = [])),
    responses((status = 202, body = CommandAccepted), (status = 200, body = CommandAccepted),
        (status = 404, body = super::error::Problem)))]
pub async fn resend(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    MessagePath {
        endpoint: path,
        event_id,
    }: MessagePath,
    write: WriteRequest,
) -> ApiResult<Response> {
    visible_endpoint(&state, &user, path).await?;
    let change = EndpointChange::Resend { event_id };
    submit_change(
        &state,
        &user,
        &request_id,
        &write,
        path,
        (change, &event_id),
        &DeliveryAnswer::of(&user, &write, Repair::Resend),
    )
    .await
}

/// `POST …/recover` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverBody {
    /// Re-queue the FAILED messages created since then.
    pub since: DateTime<Utc>,
}

/// Re-queues every FAILED message since `since`.
#[utoipa::path(post, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}/recover",
    tag = "webhooks", request_body = RecoverBody,
    params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30)")),
    security(("bearer" = [])),
    responses((status = 202, body = CommandAccepted), (status = 200, body = Recovered),
        (status = 404, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn recover(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    path: EndpointPath,
    write: WriteRequest,
    ValidJson(body): ValidJson<RecoverBody>,
) -> ApiResult<Response> {
    if body.since > write.received_at {
        return Err(ApiError::Validation(vec![FieldError::new(
            "since",
            "IN_THE_FUTURE",
            "since must not be in the future",
        )]));
    }
    visible_endpoint(&state, &user, path).await?;
    let change = EndpointChange::Recover { since: body.since };
    submit_change(
        &state,
        &user,
        &request_id,
        &write,
        path,
        (change, &body),
        &DeliveryAnswer::of(&user, &write, Repair::Recover),
    )
    .await
}

/// Sends a `webhook.test` event to this endpoint only.
#[utoipa::path(post, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}/test",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30)")),
    security(("bearer" = [])),
    responses((status = 202, body = CommandAccepted), (status = 200, body = DeliveryRequested),
        (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem)))]
pub async fn test(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    path: EndpointPath,
    write: WriteRequest,
) -> ApiResult<Response> {
    visible_endpoint(&state, &user, path).await?;
    submit_change(
        &state,
        &user,
        &request_id,
        &write,
        path,
        (EndpointChange::Test, &()),
        &DeliveryAnswer::of(&user, &write, Repair::Test),
    )
    .await
}

/// A delivery that was asked for has been scheduled.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryRequested {
    /// The command.
    #[serde(flatten)]
    pub command: CommandAccepted,
    /// For a test: the event to look up in `…/messages/{event_id}/attempts`.
    pub event_id: Option<Uuid>,
}

/// How many FAILED messages were queued again.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recovered {
    /// The command.
    #[serde(flatten)]
    pub command: CommandAccepted,
    /// Messages queued again.
    pub recovered: i64,
}

/// Delivery requests answer 202, or once applied what was scheduled.
struct DeliveryAnswer {
    /// The request's command (the same id the command path derives).
    command_id: Uuid,
    /// What was asked.
    kind: Repair,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Repair {
    Test,
    Resend,
    Recover,
}

impl DeliveryAnswer {
    fn of(user: &AuthUser, write: &WriteRequest, kind: Repair) -> Self {
        Self {
            command_id: command_path::command_id(user, write),
            kind,
        }
    }
}

impl Answer for DeliveryAnswer {
    async fn applied(
        &self,
        state: &AppState,
        _: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        let command_id = self.command_id;
        let command = CommandAccepted {
            command_id,
            status: CommandStatus::Applied,
            resource: resource.clone(),
        };
        if self.kind == Repair::Recover {
            // The count is in the command's audit row, the one record of what it did.
            let recovered = audit::changes_of_command(&state.db, command_id)
                .await?
                .and_then(|c| c.pointer("/recovered_messages/new")?.as_i64())
                .unwrap_or(0);
            return Ok(Json(Recovered { command, recovered }).into_response());
        }
        Ok(Json(DeliveryRequested {
            event_id: (self.kind == Repair::Test).then(|| WebhookTest::event_id_for(command_id)),
            command,
        })
        .into_response())
    }
}
