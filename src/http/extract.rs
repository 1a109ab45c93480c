//! Extractors that turn bad input into our problem documents, naming the failing field.

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::{ApiError, FieldError};
use super::state::AppState;
use crate::db::audit::ClientInfo;
use crate::domain::client_address::client_address;
use crate::domain::ip_network::IpNetwork;
use crate::domain::roles::{OrgType, Role, Scope};
use crate::messaging::envelope::Actor;
use crate::telemetry::TraceParent;

/// A JSON body deserialised strictly (unknown fields refused), with the failing path on error.
pub struct ValidJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::Validation(vec![FieldError::new(
                    "body",
                    "UNREADABLE",
                    rejection.body_text(),
                )])
            }
        })?;
        // serde also reads a struct from a JSON array of its fields: every body is an object.
        if bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|first| *first == b'[')
        {
            return Err(ApiError::Validation(vec![FieldError::new(
                "body",
                "INVALID",
                "the body must be a JSON object",
            )]));
        }
        parse_json(&bytes).map(ValidJson)
    }
}

/// Deserialises JSON, reporting the path of the first failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // Broken JSON is a property of the whole body, wherever the parser was when it broke.
        let (field, code) = match (path.as_str(), inner.classify()) {
            (_, serde_json::error::Category::Syntax | serde_json::error::Category::Eof) => {
                ("body".to_owned(), "MALFORMED_JSON")
            }
            (".", _) => ("body".to_owned(), "INVALID"),
            (p, _) => (p.to_owned(), "INVALID"),
        };
        ApiError::Validation(vec![FieldError::new(field, code, clean_message(&inner))])
    })
}

/// serde messages end with " at line 1 column 42", meaningless to API clients.
fn clean_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Query parameters deserialised strictly, with the failing parameter on error.
pub struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ValidQuery)
            .map_err(|error| {
                let field = error.path().to_string();
                let message = error.into_inner().to_string();
                ApiError::Validation(vec![FieldError::new(
                    if field == "." {
                        "query".to_owned()
                    } else {
                        field
                    },
                    "INVALID",
                    message,
                )])
            })
    }
}

/// A resource id in the path; a malformed one is a 422 naming the `id` parameter.
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<Uuid>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| PathId(id))
            .map_err(|_| {
                ApiError::Validation(vec![FieldError::new(
                    "id",
                    "INVALID_ID",
                    "the id in the path is not a UUID",
                )])
            })
    }
}

/// The authenticated caller, from a verified bearer access token.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    /// User id.
    pub user_id: Uuid,
    /// Role.
    pub role: Role,
    /// Organisation kind.
    pub org_type: OrgType,
    /// Organisation id.
    pub org_id: Option<Uuid>,
    /// The session (refresh-token family) the token belongs to.
    pub session_id: Uuid,
}

impl AuthUser {
    /// Which rows this user may see.
    pub fn scope(&self) -> Scope {
        Scope::of(self.role, self.org_id)
    }

    /// The actor recorded on the commands this user issues.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.user_id,
            role: self.role,
            org_type: self.org_type,
            org_id: self.org_id,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUser
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or(ApiError::Unauthenticated)?;
        let claims = state.tokens.verify(token.trim()).map_err(|error| {
            tracing::info!(%error, "access token refused");
            ApiError::Unauthenticated
        })?;
        if state.revoked_sessions.is_revoked(claims.sid).await {
            tracing::info!(user = %claims.sub, "access token of an ended session refused");
            return Err(ApiError::Unauthenticated);
        }
        Ok(AuthUser {
            user_id: claims.sub,
            role: claims.role,
            org_type: claims.org_type,
            org_id: claims.org_id,
            session_id: claims.sid,
        })
    }
}

/// Longest `User-Agent` kept in the audit trail.
const MAX_USER_AGENT_CHARS: usize = 256;

/// Where a request came from, for the audit of security events and the login limits: the
/// client's address (the peer, or behind a trusted proxy the address it forwarded: see
/// [`client_address`]) and the `User-Agent` (visible ASCII only, cut at 256 characters).
pub struct Client(pub ClientInfo);

impl Client {
    /// The client of a request, from its connection info and headers, believing
    /// `X-Forwarded-For` from the `trusted` proxies only.
    pub fn of(
        extensions: &axum::http::Extensions,
        headers: &axum::http::HeaderMap,
        trusted: &[IpNetwork],
    ) -> Self {
        let forwarded_for = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        let address = extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| client_address(info.0.ip(), forwarded_for, trusted).to_string());
        Client(ClientInfo {
            address,
            user_agent: Self::user_agent_of(headers),
        })
    }

    /// The request's `User-Agent`, bounded and reduced to visible ASCII.
    fn user_agent_of(headers: &axum::http::HeaderMap) -> Option<String> {
        headers
            .get(header::USER_AGENT)
            .map(|v| {
                v.as_bytes()
                    .iter()
                    .filter(|b| b.is_ascii_graphic() || **b == b' ')
                    .take(MAX_USER_AGENT_CHARS)
                    .map(|b| char::from(*b))
                    .collect::<String>()
            })
            .filter(|ua| !ua.is_empty())
    }

    /// The peer's address, if served with connection info.
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        self.0.address.as_deref().and_then(|a| a.parse().ok())
    }
}

impl<S> FromRequestParts<S> for Client
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let trusted = &state.config.http.trusted_proxies;
        Ok(Client::of(&parts.extensions, &parts.headers, trusted))
    }
}

/// What correlates a request's effects with it: the request id (set by the request-id layer)
/// and the trace it belongs to (set by [`super::request_trace`]).
#[derive(Debug, Clone, Default)]
pub struct RequestId {
    /// The `x-request-id`.
    pub id: Option<String>,
    /// The trace context its messages carry on.
    pub trace: Option<TraceParent>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId::of(&parts.extensions, &parts.headers))
    }
}

impl RequestId {
    /// The correlation of a request, from its headers and extensions.
    pub fn of(extensions: &axum::http::Extensions, headers: &axum::http::HeaderMap) -> Self {
        RequestId {
            id: headers
                .get(super::REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            trace: extensions.get::<TraceParent>().copied(),
        }
    }
}
