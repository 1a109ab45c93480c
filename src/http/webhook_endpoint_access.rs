//! What every webhook-endpoint request shares: the `{supplier_id}/{endpoint_id}` path, the
//! visibility check against the read model, and the submission of a change.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::Response;
use serde::Serialize;
use uuid::Uuid;

use super::command_path::{self, Answer, Submission, request_hash};
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, RequestId};
use super::state::AppState;
use super::write_request::WriteRequest;
use crate::db::webhook_endpoints::{self, EndpointRow};
use crate::domain::webhook_endpoint_changes::{EndpointRequester, authorise, check_change};
use crate::messaging::command::CommandSpec;
use crate::messaging::commands::ChangeWebhookEndpoint;
use crate::messaging::commands::webhook_endpoint::EndpointChange;

/// `/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}`; a malformed id is a 422.
#[derive(Debug, Clone, Copy)]
pub struct EndpointPath {
    /// The supplier of the path.
    pub supplier_id: Uuid,
    /// The endpoint.
    pub endpoint_id: Uuid,
}

impl<S: Send + Sync> FromRequestParts<S> for EndpointPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ids = path_ids(parts, state).await?;
        Ok(Self {
            supplier_id: path_uuid(&ids, "supplier_id")?,
            endpoint_id: path_uuid(&ids, "endpoint_id")?,
        })
    }
}

/// `…/{endpoint_id}/messages/{event_id}/…`.
#[derive(Debug, Clone, Copy)]
pub struct MessagePath {
    /// The endpoint's path.
    pub endpoint: EndpointPath,
    /// The event.
    pub event_id: Uuid,
}

impl<S: Send + Sync> FromRequestParts<S> for MessagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ids = path_ids(parts, state).await?;
        Ok(Self {
            endpoint: EndpointPath {
                supplier_id: path_uuid(&ids, "supplier_id")?,
                endpoint_id: path_uuid(&ids, "endpoint_id")?,
            },
            event_id: path_uuid(&ids, "event_id")?,
        })
    }
}

async fn path_ids<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<Vec<(String, String)>, ApiError> {
    Path::<Vec<(String, String)>>::from_request_parts(parts, state)
        .await
        .map(|Path(ids)| ids)
        .map_err(|_| path_error("endpoint_id"))
}

fn path_uuid(ids: &[(String, String)], name: &'static str) -> Result<Uuid, ApiError> {
    ids.iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse::<Uuid>().ok())
        .ok_or_else(|| path_error(name))
}

/// The 422 of a path parameter that is not a UUID.
pub fn path_error(name: &'static str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(
        name,
        "INVALID_ID",
        format!("{name} in the path is not a UUID"),
    )])
}

/// The supplier's endpoint, if this user may see it (404 otherwise, 403 for roles that never
/// may).
pub async fn visible_endpoint(
    state: &AppState,
    user: &AuthUser,
    path: EndpointPath,
) -> ApiResult<EndpointRow> {
    authorise(user.role, user.org_id, path.supplier_id).map_err(ApiError::Refused)?;
    webhook_endpoints::find(&state.db, path.endpoint_id)
        .await?
        .filter(|row| row.supplier_id == path.supplier_id && row.deleted_at.is_none())
        .ok_or(ApiError::NotFound)
}

/// Submits a change of an existing endpoint through the command path, after the checks the
/// worker will make again under the lock. `request` is what the client asked (the secret a
/// rotation seals is not part of it: equal requests must hash equally).
pub async fn submit_change<A: Answer>(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    path: EndpointPath,
    (change, request): (EndpointChange, &impl Serialize),
    answer: &A,
) -> ApiResult<Response> {
    let action = change.rule();
    let expected_version = write.named_version();
    let command = ChangeWebhookEndpoint {
        endpoint_id: path.endpoint_id,
        supplier_id: path.supplier_id,
        expected_version,
        change,
    };
    let request_hash = request_hash(
        ChangeWebhookEndpoint::TYPE,
        &(
            path.supplier_id,
            path.endpoint_id,
            command.change.action(),
            request,
            expected_version,
        ),
    );
    let requester = EndpointRequester {
        role: user.role,
        org_id: user.org_id,
        expected_version,
    };
    let precheck = async move {
        let stored = webhook_endpoints::find(&state.db, path.endpoint_id).await?;
        check_change(
            stored.as_ref().map(EndpointRow::state).as_ref(),
            path.supplier_id,
            action,
            requester,
        )
        .map_err(ApiError::Refused)?;
        write.if_match().map(|_| ())
    };
    let submission = Submission {
        command,
        request_hash,
        precheck,
    };
    command_path::submit(state, user, request_id, write, submission, answer).await
}
