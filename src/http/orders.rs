//! Orders: submission (publish a command, answer 202), reads, and `Prefer: wait`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, PathId, RequestId, ValidJson, ValidQuery};
use super::order_request::{SubmitOrderRequest, ValidOrder, order_id_for, parse_idempotency_key};
use super::pagination::{PageQuery, PageView};
use super::state::AppState;
use crate::db::orders::{self, OrderFilter, OrderView};
use crate::db::{catalogue, dead_letters};
use crate::domain::business_date::order_date;
use crate::domain::money::CURRENCY_EUR;
use crate::domain::roles::{OrderingRefusal, Scope, may_order_for};
use crate::messaging::commands::{SUBMIT_ORDER_VERSION, SubmitOrder};
use crate::messaging::envelope::Envelope;
use crate::messaging::pending::pending_submission;
use crate::messaging::publish::{PublishError, publish_command};
use crate::messaging::subjects::ORDER_SUBMIT;

/// Longest `Prefer: wait` honoured, in seconds.
pub const MAX_WAIT_SECS: u64 = 30;

/// The answer to an accepted submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// The order id (stable for this user and idempotency key).
    pub id: Uuid,
    /// PENDING until a worker processed it.
    pub status: String,
}

/// Submits a master order. Answers 202 once JetStream has stored the command; with
/// `Prefer: wait=N` waits up to N seconds for the priced (201) or rejected (422) outcome.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = SubmitOrderRequest,
    params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
           ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome")),
    security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 201, body = OrderView),
        (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
        (status = 409, body = super::error::Problem), (status = 413, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
pub async fn submit(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    headers: HeaderMap,
    ValidJson(body): ValidJson<SubmitOrderRequest>,
) -> ApiResult<Response> {
    if user.scope() == Scope::Nothing || matches!(user.scope(), Scope::Supplier(_)) {
        return Err(ApiError::Forbidden("suppliers cannot place orders"));
    }
    let key = parse_idempotency_key(headers.get("idempotency-key").and_then(|v| v.to_str().ok()))
        .map_err(|e| ApiError::Validation(vec![e]))?;
    let accepted_at = Utc::now();
    let date = order_date(accepted_at, state.config.business_timezone);
    let order = body.validate(date).map_err(ApiError::Validation)?;
    match may_order_for(user.role, user.org_id, order.station_id) {
        Ok(()) => {}
        Err(OrderingRefusal::OtherStation) => {
            return Err(ApiError::Forbidden("a station orders only for itself"));
        }
        Err(OrderingRefusal::RoleCannotOrder) => {
            return Err(ApiError::Forbidden("this role cannot place orders"));
        }
    }
    if user.role.is_staff() && !catalogue::station_exists(&state.db, order.station_id).await? {
        return Err(ApiError::Validation(vec![FieldError::new(
            "station_id",
            "UNKNOWN_STATION",
            format!("no station {}", order.station_id),
        )]));
    }
    let order_id = order_id_for(user.user_id, &key);
    let hash = order.request_hash();
    let wait = prefer_wait(&headers);

    // A replay of a processed order, or a key reused for another body?
    if let Some(stored) = orders::request_hash(&state.db, order_id).await? {
        return replay(&state, user, order_id, &hash, &stored, wait).await;
    }
    let envelope = command(
        &user,
        &request_id,
        order_id,
        &key,
        &hash,
        order,
        accepted_at,
        date,
    );
    let published = publish_command(&state.js, state.ns.order_submit(order_id), &envelope)
        .await
        .map_err(|e| match e {
            PublishError::Encode(e) => ApiError::Internal(e.to_string()),
            PublishError::NotAcknowledged(e) => ApiError::Unavailable(format!("nats: {e}")),
        })?;
    if published.duplicate {
        // Same key within the duplicate window: compare with what the stream (or, once
        // processed, the database) holds.
        let stored_hash = match pending_submission(&state.js, &state.ns, order_id).await {
            Ok(Some(pending)) => Some(pending.data.request_hash),
            _ => orders::request_hash(&state.db, order_id)
                .await?
                .map(|h| hex(&h)),
        };
        if stored_hash.is_some_and(|stored| stored != hash) {
            return Err(ApiError::IdempotencyKeyReused);
        }
    }
    tracing::debug!(order_id = %order_id, duplicate = published.duplicate, "order accepted");
    respond(&state, user, order_id, wait, published.duplicate).await
}

async fn replay(
    state: &AppState,
    user: AuthUser,
    order_id: Uuid,
    hash: &str,
    stored: &[u8],
    wait: Option<Duration>,
) -> ApiResult<Response> {
    if hex(stored) != hash {
        return Err(ApiError::IdempotencyKeyReused);
    }
    respond(state, user, order_id, wait, true).await
}

#[allow(clippy::too_many_arguments)]
fn command(
    user: &AuthUser,
    request_id: &RequestId,
    order_id: Uuid,
    key: &str,
    hash: &str,
    order: ValidOrder,
    accepted_at: chrono::DateTime<Utc>,
    order_date: chrono::NaiveDate,
) -> Envelope<SubmitOrder> {
    Envelope {
        // For a submission the command id is the order id: one command per order, ever.
        id: order_id,
        kind: ORDER_SUBMIT.to_owned(),
        version: SUBMIT_ORDER_VERSION,
        issued_at: accepted_at,
        actor: user.actor(),
        request_id: request_id.0.clone(),
        data: SubmitOrder {
            order_id,
            station_id: order.station_id,
            requested_delivery_date: order.requested_delivery_date,
            notes: order.notes,
            lines: order.lines,
            idempotency_key: key.to_owned(),
            request_hash: hash.to_owned(),
            accepted_at,
            order_date,
        },
    }
}

/// 202 with the order's id, or with `Prefer: wait` the outcome if it arrives in time.
async fn respond(
    state: &AppState,
    user: AuthUser,
    order_id: Uuid,
    wait: Option<Duration>,
    replayed: bool,
) -> ApiResult<Response> {
    let location = HeaderValue::from_str(&format!("/api/v1/orders/{order_id}"))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(wait) = wait {
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = Duration::from_millis(5);
        loop {
            if let Some(order) = orders::find(&state.db, user.scope(), order_id).await? {
                return outcome(order, location, wait);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }
    // A fresh submission is pending by construction; a replay reports where it stands.
    let status = match (wait, replayed) {
        (None, true) => orders::find(&state.db, user.scope(), order_id)
            .await?
            .map_or_else(|| "PENDING".to_owned(), |order| order.status),
        _ => "PENDING".to_owned(),
    };
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(Accepted {
            id: order_id,
            status,
        }),
    )
        .into_response())
}

fn outcome(order: OrderView, location: HeaderValue, wait: Duration) -> ApiResult<Response> {
    if let Some(rejection) = &order.rejection {
        let lines = rejection
            .get("lines")
            .and_then(|l| l.as_array())
            .cloned()
            .unwrap_or_default();
        return Err(ApiError::OrderRejected(
            lines
                .iter()
                .map(|l| {
                    let field = match l.get("index").and_then(|i| i.as_u64()) {
                        Some(i) => format!("lines[{i}]"),
                        None => "station_id".to_owned(),
                    };
                    FieldError::new(
                        field,
                        l.get("code").and_then(|c| c.as_str()).unwrap_or("REJECTED"),
                        l.get("message")
                            .and_then(|m| m.as_str())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        ));
    }
    let applied = HeaderValue::from_str(&format!("wait={}", wait.as_secs()))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (
                header::HeaderName::from_static("preference-applied"),
                applied,
            ),
        ],
        Json(order),
    )
        .into_response())
}

/// `Prefer: wait=N` (RFC 7240), capped at [`MAX_WAIT_SECS`].
fn prefer_wait(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .find_map(|pref| {
            let (name, value) = pref.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("wait")
                .then(|| value.trim().trim_matches('"').parse::<u64>().ok())?
        })
        .map(|secs| Duration::from_secs(secs.min(MAX_WAIT_SECS)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One order. Between the 202 and processing it is PENDING, never 404.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = Uuid, Path, description = "Order id")), security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<OrderView>> {
    let scope = user.scope();
    if let Some(order) = orders::find(&state.db, scope, id).await? {
        return Ok(Json(order));
    }
    let pending = match pending_submission(&state.js, &state.ns, id).await {
        Ok(Some(envelope)) => Some(envelope),
        Ok(None) => dead_lettered_submission(&state, id).await?,
        Err(e) => return Err(ApiError::Unavailable(format!("nats: {e}"))),
    };
    match pending {
        Some(envelope) if visible(scope, envelope.data.station_id) => {
            Ok(Json(pending_view(&envelope.data)))
        }
        // Processed between the two reads: the database has it now.
        _ => orders::find(&state.db, scope, id)
            .await?
            .map(Json)
            .ok_or(ApiError::NotFound),
    }
}

/// A dead-lettered submission awaits an operator: for its station it is still pending.
async fn dead_lettered_submission(
    state: &AppState,
    id: Uuid,
) -> ApiResult<Option<Envelope<SubmitOrder>>> {
    Ok(dead_letters::payload_for_command(&state.db, id)
        .await?
        .and_then(|payload| serde_json::from_slice(&payload).ok()))
}

fn visible(scope: Scope, station_id: Uuid) -> bool {
    match scope {
        Scope::All => true,
        Scope::Station(own) => own == station_id,
        Scope::Supplier(_) | Scope::Nothing => false,
    }
}

fn pending_view(command: &SubmitOrder) -> OrderView {
    OrderView {
        id: command.order_id,
        reference: None,
        station_id: command.station_id,
        status: "PENDING".to_owned(),
        order_date: command.order_date,
        requested_delivery_date: command.requested_delivery_date,
        notes: command.notes.clone(),
        rejection: None,
        currency: CURRENCY_EUR.to_owned(),
        total_excluding_tax: None,
        tax_amount: None,
        total_including_tax: None,
        purchase_orders: Vec::new(),
        created_at: command.accepted_at,
        updated_at: command.accepted_at,
    }
}

/// Order list parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    /// Status, e.g. REGISTERED, REJECTED, PARTIALLY_SHIPPED.
    pub status: Option<String>,
    /// Only this station.
    pub station_id: Option<Uuid>,
    /// Only orders with a purchase order to this supplier.
    pub supplier_id: Option<Uuid>,
    /// Page number.
    pub page: Option<u32>,
    /// Page size.
    pub per_page: Option<u32>,
}

/// Processed orders visible to the caller, newest first (pending ones are read one by one).
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<OrderView>),
    (status = 422, body = super::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<OrderQuery>,
) -> ApiResult<Json<PageView<OrderView>>> {
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .parse()?;
    if let Some(status) = query.status.as_deref() {
        status
            .parse::<crate::domain::master_order_status::MasterOrderStatus>()
            .map_err(|_| {
                ApiError::Validation(vec![FieldError::new(
                    "status",
                    "UNKNOWN_STATUS",
                    format!("unknown order status {status:?}"),
                )])
            })?;
    }
    let filter = OrderFilter {
        status: query.status,
        station_id: query.station_id,
        supplier_id: query.supplier_id,
    };
    let paged = orders::list(&state.db, user.scope(), &filter, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefer_wait_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(prefer_wait(&headers), None);
        headers.insert("prefer", HeaderValue::from_static("respond-async, wait=5"));
        assert_eq!(prefer_wait(&headers), Some(Duration::from_secs(5)));
        headers.insert("prefer", HeaderValue::from_static("wait=600"));
        assert_eq!(
            prefer_wait(&headers),
            Some(Duration::from_secs(MAX_WAIT_SECS))
        );
        headers.insert("prefer", HeaderValue::from_static("wait=soon"));
        assert_eq!(prefer_wait(&headers), None);
    }
}
