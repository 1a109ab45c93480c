//! Every 403 is a security event: an authenticated caller tried something their role or
//! organisation may not do. Audited here, once for every handler, with who, what and from where.

use axum::extract::{OriginalUri, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::auth::Auditor;
use super::extract::{Client, RequestId};
use super::state::AppState;
use crate::domain::audit::AuditAction;
use crate::messaging::envelope::Actor;

/// Audits the request as ACCESS_DENIED when it is answered 403.
pub async fn audit_access_denied(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|token| token.trim().to_owned());
    // Inside the nested API router the URI lost its prefix; the original one is kept.
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |original| original.path());
    let what = format!("{} {path}", request.method());
    let trusted = &state.config.http.trusted_proxies;
    let client = Client::of(request.extensions(), request.headers(), trusted);
    let request_id = RequestId::of(request.extensions(), request.headers());
    let response = next.run(request).await;
    if response.status() != StatusCode::FORBIDDEN {
        return response;
    }
    // A 403 is only ever answered to a verified token (anything else is a 401).
    let Some(claims) = bearer.and_then(|t| state.tokens.verify(&t).ok()) else {
        return response;
    };
    let actor = Actor {
        user_id: claims.sub,
        role: claims.role,
        org_type: claims.org_type,
        org_id: claims.org_id,
    };
    let audit = Auditor::new(&state, &request_id, &client);
    let record = audit.record(Some(actor), AuditAction::AccessDenied, Some(&what));
    if let Err(error) = audit.write(&[record]).await {
        tracing::warn!(error = %error, "access denied, but its audit row was not written");
    }
    response
}
