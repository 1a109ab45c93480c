//! `/api/v1/suppliers/{supplier_id}/webhook-endpoints`: a supplier's endpoints, managed through
//! the command path. The signing secret is shown when created or rotated and by `…/secret`,
//! never in any other answer.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::command_path::{
    self, Answer, CommandAccepted, CommandStatus, Submission, accepted_command, header_value,
    request_hash,
};
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, RequestId, ValidJson};
use super::state::AppState;
use super::webhook_endpoint_access::{EndpointPath, path_error, submit_change, visible_endpoint};
use super::write_request::WriteRequest;
use crate::db::catalogue;
use crate::db::webhook_endpoints::{self, EndpointRow, WebhookEndpointView};
use crate::domain::text::text_issues;
use crate::domain::webhook_endpoint_changes::authorise;
use crate::domain::webhook_url::check_url;
use crate::messaging::command::{CommandSpec, ResourceRef};
use crate::messaging::commands::ChangeWebhookEndpoint;
use crate::messaging::commands::webhook_endpoint::{EndpointChange, SealedSecret, present};
use crate::messaging::events::supplier_event_types;
use crate::security::webhook_signature::SigningKey;

/// Bytes of a signing secret (Standard Webhooks: 24–64).
const SECRET_BYTES: usize = 32;

/// `POST …/webhook-endpoints` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointBody {
    /// `https://…` (http only where allowed); no credentials; a public address.
    pub url: String,
    /// Free text (≤ 500 characters).
    pub description: Option<String>,
    /// Event types to receive (default: every supplier event).
    pub event_types: Option<Vec<String>>,
}

/// `PATCH …/{endpoint_id}` body: the fields present change; `null` clears.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpointBody {
    /// New URL.
    pub url: Option<String>,
    /// New description, or `null` to clear it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New subscription, or `null` for every supplier event.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub event_types: Option<Option<Vec<String>>>,
    /// Enable (also after the notifier disabled it) or disable.
    pub enabled: Option<bool>,
}

/// An endpoint with its signing secret: the answer to its creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookEndpointView,
    /// `whsec_…`: shown here and by `…/secret` only.
    pub secret: String,
}

/// The 202 of a creation, with the secret the endpoint will sign with.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointAccepted {
    /// The command.
    #[serde(flatten)]
    pub command: CommandAccepted,
    /// `whsec_…`: shown here and by `…/secret` only.
    pub secret: String,
}

/// The signing secrets of an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointSecret {
    /// Current key, `whsec_…`.
    pub key: String,
    /// The key it replaced, still signing until `previous_key_expires_at`.
    pub previous_key: Option<String>,
    /// End of the overlap.
    pub previous_key_expires_at: Option<DateTime<Utc>>,
}

/// Refuses what the URL rules, the text rules and the event catalogue refuse, naming fields.
fn check_fields(
    state: &AppState,
    url: Option<&str>,
    description: Option<&str>,
    event_types: Option<&[String]>,
) -> ApiResult<()> {
    let mut errors: Vec<FieldError> = Vec::new();
    if let Some(url) = url
        && let Err(issue) = check_url(url, &state.config.webhook.url_policy())
    {
        errors.push(FieldError::new("url", issue.code(), issue.to_string()));
    }
    if let Some(description) = description {
        errors.extend(
            text_issues(description, "description", 500)
                .into_iter()
                .map(Into::into),
        );
    }
    if let Some(types) = event_types {
        if types.is_empty() {
            errors.push(FieldError::new(
                "event_types",
                "EMPTY",
                "list at least one event type, or leave event_types out for all",
            ));
        }
        let known = supplier_event_types();
        for (i, kind) in types.iter().enumerate() {
            if !known.contains(&kind.as_str()) {
                errors.push(FieldError::new(
                    format!("event_types[{i}]"),
                    "UNKNOWN_EVENT_TYPE",
                    format!("not a supplier event type; known: {}", known.join(", ")),
                ));
            } else if types[..i].contains(kind) {
                errors.push(FieldError::new(
                    format!("event_types[{i}]"),
                    "DUPLICATE",
                    "listed twice",
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The signing secret a command creates: derived from its id under the server key, so a
/// replayed request shows the same secret and the plaintext travels nowhere. Sealed for the
/// command with the endpoint id as associated data.
fn new_secret(state: &AppState, command_id: Uuid, endpoint_id: Uuid) -> (SigningKey, SealedSecret) {
    let secrets = &state.config.webhook.secrets;
    let bytes = secrets.derive(
        "webhook signing secret",
        command_id.as_bytes(),
        SECRET_BYTES,
    );
    let sealed = secrets.seal(&bytes, endpoint_id.as_bytes());
    (
        SigningKey::from_bytes(bytes),
        SealedSecret(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            sealed,
        )),
    )
}

/// Opens a stored secret.
fn open_secret(state: &AppState, row: &EndpointRow, sealed: &[u8]) -> ApiResult<String> {
    state
        .config
        .webhook
        .secrets
        .open(sealed, row.id.as_bytes())
        .map(|bytes| SigningKey::from_bytes(bytes).to_whsec())
        .map_err(|e| ApiError::Internal(format!("endpoint {}: secret: {e}", row.id)))
}

/// The secrets of an endpoint, the previous one only while it still signs.
fn secrets_of(state: &AppState, row: &EndpointRow) -> ApiResult<EndpointSecret> {
    let previous = match (&row.previous_secret, row.previous_secret_expires_at) {
        (Some(sealed), Some(until)) if until > Utc::now() => {
            Some((open_secret(state, row, sealed)?, until))
        }
        _ => None,
    };
    Ok(EndpointSecret {
        key: open_secret(state, row, &row.secret)?,
        previous_key: previous.as_ref().map(|(key, _)| key.clone()),
        previous_key_expires_at: previous.map(|(_, until)| until),
    })
}

fn supplier_path(id: &str) -> ApiResult<Uuid> {
    id.parse().map_err(|_| path_error("supplier_id"))
}

/// Registers a webhook endpoint; the answer shows its signing secret.
#[utoipa::path(post, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints",
    tag = "webhooks", request_body = CreateEndpointBody,
    params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome")),
    security(("bearer" = [])),
    responses((status = 202, body = EndpointAccepted), (status = 201, body = CreatedEndpoint),
        (status = 403, body = super::error::Problem), (status = 404, body = super::error::Problem),
        (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(supplier_id): Path<String>,
    write: WriteRequest,
    ValidJson(body): ValidJson<CreateEndpointBody>,
) -> ApiResult<Response> {
    let supplier_id = supplier_path(&supplier_id)?;
    authorise(user.role, user.org_id, supplier_id).map_err(ApiError::Refused)?;
    check_fields(
        &state,
        Some(&body.url),
        body.description.as_deref(),
        body.event_types.as_deref(),
    )?;
    let endpoint_id = command_path::command_id(&user, &write);
    let (key, secret) = new_secret(&state, endpoint_id, endpoint_id);
    let hash = request_hash(ChangeWebhookEndpoint::TYPE, &(supplier_id, "create", &body));
    let command = ChangeWebhookEndpoint {
        endpoint_id,
        supplier_id,
        expected_version: None,
        change: EndpointChange::Create {
            url: body.url,
            description: body.description,
            event_types: body.event_types,
            secret,
        },
    };
    let db = state.db.clone();
    let precheck = async move {
        catalogue::supplier_exists(&db, supplier_id)
            .await?
            .then_some(())
            .ok_or(ApiError::NotFound)
    };
    let submission = Submission {
        command,
        request_hash: hash,
        precheck,
    };
    let answer = CreatedAnswer {
        secret: key.to_whsec(),
    };
    command_path::submit(&state, &user, &request_id, &write, submission, &answer).await
}

struct CreatedAnswer {
    secret: String,
}

/// The 202 of a command that creates a secret: the usual answer, with the secret.
fn accepted_with_secret(
    command_id: Uuid,
    resource: &ResourceRef,
    status: CommandStatus,
    secret: &str,
) -> ApiResult<Response> {
    let mut response = accepted_command(command_id, resource, status)?;
    let body = EndpointAccepted {
        command: CommandAccepted {
            command_id,
            status,
            resource: resource.clone(),
        },
        secret: secret.to_owned(),
    };
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    *response.body_mut() = axum::body::Body::from(bytes);
    Ok(response)
}

impl Answer for CreatedAnswer {
    async fn accepted(
        &self,
        _: &AppState,
        _: &AuthUser,
        command_id: Uuid,
        resource: &ResourceRef,
        status: CommandStatus,
    ) -> ApiResult<Response> {
        accepted_with_secret(command_id, resource, status, &self.secret)
    }

    async fn applied(
        &self,
        state: &AppState,
        user: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        let row = stored(state, user, resource).await?;
        let location = header_value(&format!(
            "/api/v1/suppliers/{}/webhook-endpoints/{}",
            row.supplier_id, row.id
        ))?;
        let etag = header_value(&format!("\"{}\"", row.version))?;
        let body = CreatedEndpoint {
            endpoint: row.view(),
            secret: self.secret.clone(),
        };
        Ok((
            StatusCode::CREATED,
            [(header::LOCATION, location), (header::ETAG, etag)],
            Json(body),
        )
            .into_response())
    }
}

async fn stored(
    state: &AppState,
    user: &AuthUser,
    resource: &ResourceRef,
) -> ApiResult<EndpointRow> {
    let row = webhook_endpoints::find(&state.db, resource.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    authorise(user.role, user.org_id, row.supplier_id).map_err(ApiError::Refused)?;
    Ok(row)
}

/// How endpoint changes answer: 202, or the endpoint as it is now (204 once deleted).
pub struct EndpointAnswer;

impl Answer for EndpointAnswer {
    async fn applied(
        &self,
        state: &AppState,
        user: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        let row = stored(state, user, resource).await?;
        if row.deleted_at.is_some() {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        with_etag(row.view())
    }
}

fn with_etag(view: WebhookEndpointView) -> ApiResult<Response> {
    let etag = header_value(&format!("\"{}\"", view.version))?;
    Ok(([(header::ETAG, etag)], Json(view)).into_response())
}

/// A supplier's endpoints.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints", tag = "webhooks",
    params(("supplier_id" = Uuid, Path, description = "Supplier id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookEndpointView>),
        (status = 403, body = super::error::Problem), (status = 404, body = super::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Path(supplier_id): Path<String>,
) -> ApiResult<Json<Vec<WebhookEndpointView>>> {
    let supplier_id = supplier_path(&supplier_id)?;
    authorise(user.role, user.org_id, supplier_id).map_err(ApiError::Refused)?;
    let rows = webhook_endpoints::list_for_supplier(&state.db, supplier_id).await?;
    Ok(Json(rows.iter().map(EndpointRow::view).collect()))
}

/// One endpoint, with its `ETag`.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id")), security(("bearer" = [])),
    responses((status = 200, body = WebhookEndpointView), (status = 404, body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    path: EndpointPath,
) -> ApiResult<Response> {
    with_etag(visible_endpoint(&state, &user, path).await?.view())
}

/// The endpoint's signing secrets (the previous one during a rotation's overlap).
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}/secret",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id")), security(("bearer" = [])),
    responses((status = 200, body = EndpointSecret), (status = 404, body = super::error::Problem)))]
pub async fn secret(
    State(state): State<AppState>,
    user: AuthUser,
    path: EndpointPath,
) -> ApiResult<Json<EndpointSecret>> {
    let row = visible_endpoint(&state, &user, path).await?;
    Ok(Json(secrets_of(&state, &row)?))
}

/// Changes the fields present.
#[utoipa::path(patch, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}",
    tag = "webhooks", request_body = UpdateEndpointBody,
    params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30)"),
        ("If-Match" = Option<String>, Header, description = "\"<version>\"")),
    security(("bearer" = [])),
    responses((status = 202, body = CommandAccepted), (status = 200, body = WebhookEndpointView),
        (status = 404, body = super::error::Problem), (status = 412, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    path: EndpointPath,
    write: WriteRequest,
    ValidJson(body): ValidJson<UpdateEndpointBody>,
) -> ApiResult<Response> {
    authorise(user.role, user.org_id, path.supplier_id).map_err(ApiError::Refused)?;
    check_fields(
        &state,
        body.url.as_deref(),
        body.description.as_ref().and_then(Option::as_deref),
        body.event_types.as_ref().and_then(Option::as_deref),
    )?;
    let change = EndpointChange::Update {
        url: body.url.clone(),
        description: body.description.clone(),
        event_types: body.event_types.clone(),
        enabled: body.enabled,
    };
    submit_change(
        &state,
        &user,
        &request_id,
        &write,
        path,
        (change, &body),
        &EndpointAnswer,
    )
    .await
}

/// Deletes the endpoint: nothing more is delivered to it.
#[utoipa::path(delete, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30)"),
        ("If-Match" = Option<String>, Header, description = "\"<version>\"")),
    security(("bearer" = [])),
    responses((status = 202, body = CommandAccepted), (status = 204),
        (status = 404, body = super::error::Problem), (status = 412, body = super::error::Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    path: EndpointPath,
    write: WriteRequest,
) -> ApiResult<Response> {
    authorise(user.role, user.org_id, path.supplier_id).map_err(ApiError::Refused)?;
    submit_change(
        &state,
        &user,
        &request_id,
        &write,
        path,
        (EndpointChange::Delete, &()),
        &EndpointAnswer,
    )
    .await
}

/// A new signing secret; the previous one keeps signing for the overlap (24 hours by default).
#[utoipa::path(post, path = "/api/v1/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}/rotate-secret",
    tag = "webhooks", params(("supplier_id" = Uuid, Path, description = "Supplier id"),
        ("endpoint_id" = Uuid, Path, description = "Endpoint id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30)")),
    security(("bearer" = [])),
    responses((status = 202, body = EndpointAccepted), (status = 200, body = EndpointSecret),
        (status = 404, body = super::error::Problem)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    path: EndpointPath,
    write: WriteRequest,
) -> ApiResult<Response> {
    authorise(user.role, user.org_id, path.supplier_id).map_err(ApiError::Refused)?;
    let command_id = command_path::command_id(&user, &write);
    let (key, secret) = new_secret(&state, command_id, path.endpoint_id);
    let overlap = chrono::Duration::from_std(state.config.webhook.secret_overlap)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let change = EndpointChange::RotateSecret {
        secret,
        previous_expires_at: write.received_at + overlap,
    };
    let answer = SecretAnswer {
        secret: key.to_whsec(),
    };
    submit_change(
        &state,
        &user,
        &request_id,
        &write,
        path,
        (change, &()),
        &answer,
    )
    .await
}

struct SecretAnswer {
    secret: String,
}

impl Answer for SecretAnswer {
    async fn accepted(
        &self,
        _: &AppState,
        _: &AuthUser,
        command_id: Uuid,
        resource: &ResourceRef,
        status: CommandStatus,
    ) -> ApiResult<Response> {
        accepted_with_secret(command_id, resource, status, &self.secret)
    }

    async fn applied(
        &self,
        state: &AppState,
        user: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        let row = stored(state, user, resource).await?;
        Ok(Json(secrets_of(state, &row)?).into_response())
    }
}
