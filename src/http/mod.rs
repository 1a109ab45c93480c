//! The HTTP ingress: authenticates, validates, publishes commands, serves read-only queries.

pub mod access_denied_audit;
pub mod audit_trail;
pub mod auth;
pub mod carts;
pub mod catalogue;
pub mod command_path;
pub mod commands;
pub mod contract_writes;
pub mod contracts;
pub mod docs_page;
pub mod error;
pub mod event_stream;
pub mod extract;
pub mod health;
pub mod keyset_page;
pub mod login_throttle;
pub mod master_record_writes;
pub mod me;
pub mod openapi;
pub mod openapi_contract;
pub mod ops_dead_letters;
pub mod ops_overview;
pub mod ops_page;
pub mod order_request;
pub mod orders;
pub mod pagination;
pub mod passwords;
pub mod personal_data;
pub mod product_writes;
pub mod purchase_order_transitions;
pub mod purchase_orders;
pub mod request_metrics;
pub mod request_trace;
pub mod revoked_sessions;
pub mod sales_orders;
pub mod state;
pub mod station_writes;
pub mod supplier_writes;
pub mod user_writes;
pub mod webhook_deliveries;
pub mod webhook_endpoint_access;
pub mod webhook_endpoints;
pub mod write_request;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::routing::{get, post, put};
use tower::ServiceBuilder;
use tower::util::option_layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;

pub use state::AppState;

use self::error::ApiError;
use crate::config::Config;
use crate::db::command_lookup::CommandLookup;
use crate::group_commit::GroupSettings;
use crate::messaging::Namespace;
use crate::messaging::group_publish::GroupPublisher;
use crate::security::jwt::TokenKeys;
use crate::security::password_threads::PasswordThreads;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Idempotency lookups: one query per group, a few at once (the pool serves the rest).
const LOOKUP_GROUPS: GroupSettings = GroupSettings {
    linger: Duration::ZERO,
    max: 512,
    in_flight: 4,
};

/// Command publishes: requests that arrive while the previous groups are being stored form
/// the next atomic batch (no extra wait when the load is light; one fsync per group when it
/// is heavy).
const PUBLISH_GROUPS: GroupSettings = GroupSettings {
    linger: Duration::ZERO,
    max: crate::messaging::atomic_batch::MAX_BATCH_MESSAGES,
    in_flight: 2,
};

impl AppState {
    /// State from connections and configuration (spawns the group-commit tasks: call it
    /// inside the runtime; and the password threads, which may fail to start).
    pub fn new(
        config: Arc<Config>,
        db: sqlx::PgPool,
        nats: async_nats::Client,
        ns: Namespace,
    ) -> std::io::Result<Self> {
        let js = async_nats::jetstream::new(nats.clone());
        let revoked_sessions =
            revoked_sessions::RevokedSessions::spawn(db.clone(), config.auth.access_token_ttl);
        Ok(Self {
            command_lookup: CommandLookup::spawn(db.clone(), LOOKUP_GROUPS),
            command_publisher: GroupPublisher::spawn(js.clone(), PUBLISH_GROUPS),
            db,
            nats,
            js,
            ns,
            tokens: Arc::new(TokenKeys::new(&config.auth)),
            login_limits: Arc::new(login_throttle::LoginLimits::new(config.auth.limits.clone())),
            password_threads: PasswordThreads::spawn(config.http.password_threads)?,
            revoked_sessions,
            closing: Arc::new(tokio::sync::watch::channel(false).0),
            consumer_rates: Arc::default(),
            config,
        })
    }
}

/// `/suppliers/{supplier_id}/webhook-endpoints/…`.
fn webhook_routes() -> Router<AppState> {
    const ENDPOINTS: &str = "/suppliers/{supplier_id}/webhook-endpoints";
    const ONE: &str = "/suppliers/{supplier_id}/webhook-endpoints/{endpoint_id}";
    Router::new()
        .route(
            "/suppliers/{supplier_id}/email-messages",
            get(webhook_deliveries::email_messages),
        )
        .route(
            "/suppliers/{supplier_id}/email-messages/{event_id}/attempts",
            get(webhook_deliveries::email_attempts),
        )
        .route(
            ENDPOINTS,
            post(webhook_endpoints::create).get(webhook_endpoints::list),
        )
        .route(
            ONE,
            get(webhook_endpoints::get)
                .patch(webhook_endpoints::update)
                .delete(webhook_endpoints::delete),
        )
        .route(&format!("{ONE}/secret"), get(webhook_endpoints::secret))
        .route(
            &format!("{ONE}/rotate-secret"),
            post(webhook_endpoints::rotate_secret),
        )
        .route(&format!("{ONE}/test"), post(webhook_deliveries::test))
        .route(&format!("{ONE}/recover"), post(webhook_deliveries::recover))
        .route(
            &format!("{ONE}/messages"),
            get(webhook_deliveries::messages),
        )
        .route(
            &format!("{ONE}/messages/{{event_id}}/attempts"),
            get(webhook_deliveries::attempts),
        )
        .route(
            &format!("{ONE}/messages/{{event_id}}/resend"),
            post(webhook_deliveries::resend),
        )
}

/// `/ops/…`: what operators repair the pipeline with.
/// Master data: products, suppliers, station groups, stations, users, and passwords.
fn master_data_routes() -> Router<AppState> {
    use station_writes::{groups, stations};
    Router::new()
        .route("/products", post(product_writes::create))
        .route(
            "/products/{id}",
            get(product_writes::get).patch(product_writes::update),
        )
        .route("/suppliers", post(supplier_writes::create))
        .route(
            "/suppliers/{id}",
            get(supplier_writes::get).patch(supplier_writes::update),
        )
        .route(
            "/station-groups",
            get(catalogue::list_station_groups).post(groups::create),
        )
        .route(
            "/station-groups/{id}",
            get(groups::get).patch(groups::update),
        )
        .route("/stations", post(stations::create))
        .route(
            "/stations/{station_id}",
            get(stations::get).patch(stations::update),
        )
        .route(
            "/users",
            get(catalogue::list_users).post(user_writes::create),
        )
        .route(
            "/users/{id}",
            get(user_writes::get).patch(user_writes::update),
        )
        .route(
            "/users/{id}/password-reset",
            post(user_writes::reset_password),
        )
        .route("/users/{id}/personal-data", get(personal_data::of_user))
        .route("/users/{id}/erase", post(personal_data::erase))
        .route("/auth/password-reset", post(passwords::reset))
        .route("/me/password", post(passwords::change))
}

fn ops_routes() -> Router<AppState> {
    Router::new()
        .route("/ops/overview", get(ops_overview::overview))
        .route("/ops/dead-letters", get(ops_dead_letters::list))
        .route(
            "/ops/dead-letters/replay",
            post(ops_dead_letters::replay_matching),
        )
        .route(
            "/ops/dead-letters/discard",
            post(ops_dead_letters::discard_matching),
        )
        .route("/ops/dead-letters/{id}", get(ops_dead_letters::get))
        .route(
            "/ops/dead-letters/{id}/replay",
            post(ops_dead_letters::replay),
        )
        .route(
            "/ops/dead-letters/{id}/discard",
            post(ops_dead_letters::discard),
        )
}

/// The whole API with its middleware.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.http.request_timeout;
    let body_limit = state.config.http.body_limit_bytes;
    let submit_timeout = timeout + Duration::from_secs(write_request::MAX_WAIT_SECS);
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(me::me))
        .route("/me/personal-data", get(personal_data::mine))
        .route("/stations", get(catalogue::list_stations))
        .route("/suppliers", get(catalogue::list_suppliers))
        .route("/products", get(catalogue::list_products))
        .route(
            "/contracts",
            get(contracts::list).post(contract_writes::create),
        )
        .route(
            "/contracts/{id}",
            get(contracts::get).patch(contract_writes::update),
        )
        .route("/contracts/{id}/history", get(contracts::history))
        .route("/contracts/{id}/lines", put(contract_writes::replace_lines))
        .route("/contracts/{id}/activate", post(contract_writes::activate))
        .route("/contracts/{id}/suspend", post(contract_writes::suspend))
        .route("/contracts/{id}/resume", post(contract_writes::resume))
        .route(
            "/contracts/{id}/terminate",
            post(contract_writes::terminate),
        )
        .route("/contracts/{id}/renew", post(contract_writes::renew))
        .route(
            "/stations/{station_id}/cart",
            get(carts::get).delete(carts::empty),
        )
        .route(
            "/stations/{station_id}/cart/items",
            put(carts::put_item).delete(carts::delete_item),
        )
        .route(
            "/stations/{station_id}/cart/checkout",
            post(carts::checkout),
        )
        .route("/orders", post(orders::submit).get(orders::list))
        .route("/orders/{id}", get(orders::get))
        .route("/orders/{id}/audit", get(audit_trail::order_trail))
        .route("/audit", get(audit_trail::list))
        .route("/sales-orders", get(sales_orders::list))
        .route("/sales-orders/{id}", get(sales_orders::get))
        .route("/sales-orders/{id}/invoice", post(sales_orders::invoice))
        .route("/purchase-orders", get(purchase_orders::list))
        .route("/purchase-orders/{id}", get(purchase_orders::get))
        .route(
            "/purchase-orders/{id}/history",
            get(purchase_orders::history),
        )
        .route(
            "/purchase-orders/{id}/audit",
            get(audit_trail::purchase_order_trail),
        )
        .route(
            "/purchase-orders/{id}/confirm",
            post(purchase_order_transitions::confirm),
        )
        .route(
            "/purchase-orders/{id}/ship",
            post(purchase_order_transitions::ship),
        )
        .route(
            "/purchase-orders/{id}/receive",
            post(purchase_order_transitions::receive),
        )
        .route(
            "/purchase-orders/{id}/close",
            post(purchase_order_transitions::close),
        )
        .route(
            "/purchase-orders/{id}/cancel",
            post(purchase_order_transitions::cancel),
        )
        .route(
            "/purchase-orders/{id}/invoice",
            post(purchase_order_transitions::invoice),
        )
        .route(
            "/purchase-orders/{id}/archive",
            post(purchase_order_transitions::archive),
        )
        .route("/commands/{id}", get(commands::get))
        .route("/events/stream", get(event_stream::stream))
        .merge(webhook_routes())
        .merge(ops_routes())
        .merge(master_data_routes())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access_denied_audit::audit_access_denied,
        ))
        // Every API answer is someone's data (tokens included): no cache may keep it.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route(
            "/openapi.json",
            get(|| async { axum::Json(openapi::ApiDoc::openapi()) }),
        )
        .merge(docs_page::routes())
        .merge(ops_page::routes())
        .nest("/api/v1", api)
        .route_layer(axum::middleware::from_fn(request_metrics::record))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([
                    header::AUTHORIZATION,
                    header::COOKIE,
                ]))
                // Browsers must take every body for the type we declare.
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(option_layer(hsts(state.config.http.hsts_max_age)))
                .layer(option_layer(cors(&state.config.http.cors_allowed_origins)))
                // A client's id travels into logs, audit rows and NATS headers: one that is not
                // 1–128 visible ASCII characters is replaced by ours.
                .layer(axum::middleware::map_request(drop_invalid_request_id))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(axum::middleware::from_fn(request_trace::trace_request))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(|_| {
                    axum::response::IntoResponse::into_response(ApiError::Internal(
                        "handler panicked".into(),
                    ))
                }))
                .layer(axum::middleware::from_fn_with_state(
                    Timeouts {
                        timeout,
                        submit_timeout,
                    },
                    request_timeout,
                )),
        )
        .with_state(state)
}

/// `Strict-Transport-Security` on every answer when the ingress is served behind TLS.
fn hsts(max_age: Option<Duration>) -> Option<SetResponseHeaderLayer<HeaderValue>> {
    let value =
        HeaderValue::try_from(format!("max-age={}; includeSubDomains", max_age?.as_secs())).ok()?;
    Some(SetResponseHeaderLayer::overriding(
        header::STRICT_TRANSPORT_SECURITY,
        value,
    ))
}

/// Cross-origin access for the configured browser origins only (none by default: then no
/// CORS header is ever sent and browsers keep other sites out).
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("prefer"),
            HeaderName::from_static("last-event-id"),
            REQUEST_ID,
        ])
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::RETRY_AFTER,
            REQUEST_ID,
        ])
        .max_age(Duration::from_secs(600));
    Some(layer)
}

/// Longest client-sent `x-request-id` kept.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client-sent request id may be kept: 1–128 visible ASCII characters.
pub fn is_valid_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len()) && value.iter().all(u8::is_ascii_graphic)
}

async fn drop_invalid_request_id<B>(mut request: Request<B>) -> Request<B> {
    if request
        .headers()
        .get_all(REQUEST_ID)
        .iter()
        .enumerate()
        .any(|(i, v)| i > 0 || !is_valid_request_id(v.as_bytes()))
    {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

#[derive(Clone, Copy)]
struct Timeouts {
    timeout: Duration,
    submit_timeout: Duration,
}

/// Bounds every request; writes may wait for their outcome (`Prefer: wait`), so they get
/// that on top.
async fn request_timeout(
    axum::extract::State(limits): axum::extract::State<Timeouts>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let is_write = !request.method().is_safe();
    let limit = if is_write {
        limits.submit_timeout
    } else {
        limits.timeout
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => axum::response::IntoResponse::into_response(ApiError::Unavailable(
            "request timed out".into(),
        )),
    }
}

/// Serves until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closing = state.closing.clone();
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        closing.send_replace(true);
    })
    .await
}
