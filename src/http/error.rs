//! The ingress's one error type, rendered once as `application/problem+json` (RFC 9457).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::refusal::{FieldIssue, Refusal, RefusalCode};
use crate::domain::text::escape_control_characters;

/// One failing field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path (`lines[2].quantity`), query parameter or header name.
    #[serde(serialize_with = "printable")]
    pub field: String,
    /// Machine code, e.g. `OUT_OF_RANGE`.
    pub code: String,
    /// Human explanation.
    #[serde(serialize_with = "printable")]
    pub message: String,
}

/// Serialises text that may quote the client's input (an unknown field's name) with its
/// control characters escaped: answers hold none, as the document promises.
fn printable<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&escape_control_characters(text))
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl From<FieldIssue> for FieldError {
    fn from(issue: FieldIssue) -> Self {
        Self {
            field: issue.field,
            code: issue.code,
            message: issue.message,
        }
    }
}

/// The problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Explanation of this occurrence.
    #[serde(serialize_with = "printable")]
    pub detail: String,
    /// Machine code.
    pub code: String,
    /// Failing fields, if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or breaks a rule (422).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The body is not JSON (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body exceeds the limit (413).
    #[error("payload too large")]
    PayloadTooLarge,
    /// Missing, invalid or expired access token (401).
    #[error("unauthenticated")]
    Unauthenticated,
    /// Login failed; the same answer for an unknown user and a wrong password (401).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Refresh token unknown, spent, revoked or expired (401).
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// Authenticated but not allowed (403).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Not found, or not visible to this user (404).
    #[error("not found")]
    NotFound,
    /// The route exists, but not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The idempotency key was used with another body (409).
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// Too many attempts (429).
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until the next attempt may succeed.
        retry_after_secs: u64,
    },
    /// The business rules refused the command: by the ingress against the read model, or by
    /// the worker (with `Prefer: wait`). 404, 403, 409, 412 or 422 by its code.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// A one-time password token that sets nothing: unknown, used or expired (400).
    #[error("password token refused")]
    PasswordToken(super::passwords::TokenRefusal),
    /// `If-Match` names another version than the resource's (412).
    #[error("precondition failed")]
    PreconditionFailed(String),
    /// A dependency (PostgreSQL, NATS) is unavailable (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure (500); the detail is logged, never returned.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str, String) {
        use ApiError::*;
        match self {
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
                "Validation failed",
                "The request is invalid; see errors for each failing field.".into(),
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Unsupported media type",
                "Send the body as application/json.".into(),
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "Payload too large",
                "The request body exceeds the size limit.".into(),
            ),
            Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "Authentication required",
                "A valid bearer access token is required.".into(),
            ),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "INVALID_CREDENTIALS",
                "Invalid credentials",
                "The email or password is incorrect.".into(),
            ),
            InvalidRefreshToken => (
                StatusCode::UNAUTHORIZED,
                "INVALID_REFRESH_TOKEN",
                "Invalid refresh token",
                "The refresh token is unknown, expired, spent or revoked; log in again.".into(),
            ),
            Forbidden(why) => (
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "Forbidden",
                (*why).to_owned(),
            ),
            NotFound => (
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Not found",
                "No such resource.".into(),
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "Method not allowed",
                "This resource does not support that method.".into(),
            ),
            IdempotencyKeyReused => (
                StatusCode::CONFLICT,
                "IDEMPOTENCY_KEY_REUSED",
                "Idempotency key reused",
                "This Idempotency-Key was already used with a different request body.".into(),
            ),
            TooManyRequests { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                "Too many requests",
                format!("Too many attempts; retry in {retry_after_secs} seconds."),
            ),
            Refused(refusal) => {
                let (status, title) = refusal_status(refusal.code);
                (status, refusal.code.as_str(), title, refusal.detail.clone())
            }
            PasswordToken(why) => (
                StatusCode::BAD_REQUEST,
                why.code(),
                "Password token refused",
                why.detail().to_owned(),
            ),
            PreconditionFailed(detail) => (
                StatusCode::PRECONDITION_FAILED,
                "PRECONDITION_FAILED",
                "Precondition failed",
                detail.clone(),
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "Service unavailable",
                "A dependency is unavailable; retry later.".into(),
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "Internal error",
                "An unexpected error occurred.".into(),
            ),
        }
    }
}

/// The HTTP status and title of a refusal code (DESIGN.md §6: 404 other organisation, 403
/// role, 409 state, 412 stale version, 422 field).
pub fn refusal_status(code: RefusalCode) -> (StatusCode, &'static str) {
    match code {
        RefusalCode::OrderRejected => (StatusCode::UNPROCESSABLE_ENTITY, "Order rejected"),
        RefusalCode::InvalidTransition => (StatusCode::CONFLICT, "Invalid transition"),
        RefusalCode::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "Precondition failed"),
        RefusalCode::NotFound => (StatusCode::NOT_FOUND, "Not found"),
        RefusalCode::Forbidden => (StatusCode::FORBIDDEN, "Forbidden"),
        RefusalCode::ValidationFailed => (StatusCode::UNPROCESSABLE_ENTITY, "Validation failed"),
        RefusalCode::WebhookEndpointDisabled => (StatusCode::CONFLICT, "Webhook endpoint disabled"),
        RefusalCode::DeadLetterNotOpen => (StatusCode::CONFLICT, "Dead letter already resolved"),
        RefusalCode::DeadLetterNotReplayable => {
            (StatusCode::CONFLICT, "Dead letter not replayable")
        }
        RefusalCode::ContractNotEditable => (StatusCode::CONFLICT, "Contract not editable"),
        RefusalCode::ContractOverlap => (StatusCode::CONFLICT, "Contracts overlap"),
        RefusalCode::ContractNumberTaken => (StatusCode::CONFLICT, "Contract number taken"),
        RefusalCode::CheckoutPending => (StatusCode::CONFLICT, "Checkout pending"),
        RefusalCode::SalesOrderInvoiced => (StatusCode::CONFLICT, "Sales order invoiced"),
        RefusalCode::PurchaseOrdersNotReceived => {
            (StatusCode::CONFLICT, "Purchase orders not received")
        }
        RefusalCode::NothingToInvoice => (StatusCode::CONFLICT, "Nothing to invoice"),
        RefusalCode::ProductCodeTaken
        | RefusalCode::SupplierCodeTaken
        | RefusalCode::StationGroupCodeTaken
        | RefusalCode::StationCodeTaken => (StatusCode::CONFLICT, "Code taken"),
        RefusalCode::UserEmailTaken => (StatusCode::CONFLICT, "E-mail taken"),
        RefusalCode::UserErased => (StatusCode::CONFLICT, "User erased"),
        RefusalCode::OwnAccountProtected => (StatusCode::FORBIDDEN, "Own account protected"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title, detail) = self.parts();
        match &self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            _ => {}
        }
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Unavailable(_) => Some(1),
            _ => None,
        };
        let errors = match self {
            ApiError::Validation(errors) => errors,
            ApiError::Refused(refusal) => refusal.errors.into_iter().map(Into::into).collect(),
            _ => Vec::new(),
        };
        let problem = Problem {
            kind: format!(
                "https://bluewhale.example/problems/{}",
                code.to_ascii_lowercase().replace('_', "-")
            ),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<crate::db::command_lookup::LookupError> for ApiError {
    fn from(error: crate::db::command_lookup::LookupError) -> Self {
        use crate::db::command_lookup::LookupError;
        match error {
            LookupError::Database(db) => match &*db {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    ApiError::Unavailable(format!("postgres: {db}"))
                }
                other => ApiError::Internal(format!("postgres: {other}")),
            },
            LookupError::Closed(closed) => ApiError::Unavailable(closed.to_string()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                ApiError::Unavailable(format!("postgres: {error}"))
            }
            other => ApiError::Internal(format!("postgres: {other}")),
        }
    }
}

/// Result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
