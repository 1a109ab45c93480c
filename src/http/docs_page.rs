//! `GET /docs`: the API reference (Swagger UI 5.32.6, vendored by `utoipa-swagger-ui`'s
//! `vendored` feature; Apache-2.0). Every file is compiled into the binary and served by us,
//! so the page works on a machine without internet access, and its Content Security Policy
//! forbids loading anything from anywhere else.

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Our own files and API only; Swagger UI sets inline styles on its elements, and draws
/// icons from data: URIs. Nothing may frame the page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page, reading the document the ingress serves at `/openapi.json`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    // No validator: Swagger UI would otherwise fetch a badge from validator.swagger.io.
    let config = Config::new(["/openapi.json"])
        .validator_url("none")
        .try_it_out_enabled(true)
        .persist_authorization(false);
    Router::from(SwaggerUi::new("/docs").config(config))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}
