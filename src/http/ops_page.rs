//! `GET /ops`: the operators' page. Three files compiled into the binary and served by us, so
//! the page has no build step and loads nothing from anywhere else; a strict Content Security
//! Policy holds it to that (no inline script or style, no other origin).

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

/// Only our own script, styles and API; nothing may frame the page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("../../assets/ops/index.html");
const OPS_JS: &str = include_str!("../../assets/ops/ops.js");
const OPS_CSS: &str = include_str!("../../assets/ops/ops.css");

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type)], body)
}

/// The page and its two assets, with their security headers.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/ops",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/ops/ops.js",
            get(|| async { asset("text/javascript; charset=utf-8", OPS_JS) }),
        )
        .route(
            "/ops/ops.css",
            get(|| async { asset("text/css; charset=utf-8", OPS_CSS) }),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // The assets are compiled in: a new binary may serve new ones under the same name.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}
