//! Orders: submission (through the command path), reads.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::command_path::{self, Answer, CommandStatus, Submission, header_value};
use super::commands::dead_letter_problem;
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, PathId, RequestId, ValidJson, ValidQuery};
use super::order_request::SubmitOrderRequest;
use super::pagination::{PageQuery, PageView};
use super::state::AppState;
use super::write_request::WriteRequest;
use crate::db::orders::{self, OrderFilter, OrderView};
use crate::db::{catalogue, dead_letters};
use crate::domain::business_date::order_date;
use crate::domain::dead_letter_resolution::DeadLetterStatus;
use crate::domain::money::CURRENCY_EUR;
use crate::domain::roles::{OrderingRefusal, Scope, may_order_for};
use crate::messaging::command::ResourceRef;
use crate::messaging::commands::SubmitOrder;
use crate::messaging::envelope::Envelope;
use crate::messaging::pending::pending_of;

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
    write: WriteRequest,
    ValidJson(body): ValidJson<SubmitOrderRequest>,
) -> ApiResult<Response> {
    if user.scope() == Scope::Nothing || matches!(user.scope(), Scope::Supplier(_)) {
        return Err(ApiError::Forbidden("suppliers cannot place orders"));
    }
    let date = order_date(write.received_at, state.config.business_timezone);
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
    let request_hash = order.request_hash();
    let command = SubmitOrder {
        // For a submission the command id is the order id: one command per order, ever.
        order_id: command_path::command_id(&user, &write),
        station_id: order.station_id,
        requested_delivery_date: order.requested_delivery_date,
        notes: order.notes,
        lines: order.lines,
        accepted_at: write.received_at,
        order_date: date,
        cart: None,
    };
    let submission = Submission {
        command,
        request_hash,
        precheck: async { Ok(()) },
    };
    command_path::submit(&state, &user, &request_id, &write, submission, &OrderAnswer).await
}

/// Orders answer with their own representation: 202 `{id, status}` at `/orders/{id}`, 201
/// with the order once priced.
pub(super) struct OrderAnswer;

impl Answer for OrderAnswer {
    async fn accepted(
        &self,
        state: &AppState,
        user: &AuthUser,
        command_id: Uuid,
        _: &ResourceRef,
        status: CommandStatus,
    ) -> ApiResult<Response> {
        // A fresh submission is pending by construction; a replay reports where it stands.
        let status = match status {
            CommandStatus::Pending => "PENDING".to_owned(),
            _ => orders::find(&state.db, user.scope(), command_id)
                .await?
                .map_or_else(|| "PENDING".to_owned(), |order| order.status),
        };
        Ok((
            StatusCode::ACCEPTED,
            [(header::LOCATION, order_location(command_id)?)],
            Json(Accepted {
                id: command_id,
                status,
            }),
        )
            .into_response())
    }

    async fn applied(
        &self,
        state: &AppState,
        user: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        let order = orders::find(&state.db, user.scope(), resource.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Ok((
            StatusCode::CREATED,
            [(header::LOCATION, order_location(order.id)?)],
            Json(order),
        )
            .into_response())
    }
}

fn order_location(id: Uuid) -> ApiResult<axum::http::HeaderValue> {
    header_value(&format!("/api/v1/orders/{id}"))
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
    let pending = match pending_of::<SubmitOrder>(&state.js, &state.ns, id).await {
        Ok(Some(pending)) => Some((pending.envelope, None)),
        Ok(None) => dead_lettered_submission(&state, id, user.role.is_staff()).await?,
        Err(e) => return Err(ApiError::Unavailable(format!("nats: {e}"))),
    };
    match pending {
        Some((envelope, problem)) if visible(scope, envelope.data.station_id) => {
            Ok(Json(pending_view(&envelope.data, problem)))
        }
        // Processed between the two reads: the database has it now.
        _ => orders::find(&state.db, scope, id)
            .await?
            .map(Json)
            .ok_or(ApiError::NotFound),
    }
}

/// A dead-lettered submission: DEAD_LETTERED with its problem until it is replayed (then
/// PENDING again, on its way back through the outbox).
async fn dead_lettered_submission(
    state: &AppState,
    id: Uuid,
    staff: bool,
) -> ApiResult<Option<(Envelope<SubmitOrder>, Option<Value>)>> {
    let Some(letter) = dead_letters::find_for_command(&state.db, id).await? else {
        return Ok(None);
    };
    let Ok(envelope) = serde_json::from_slice::<Envelope<SubmitOrder>>(&letter.payload) else {
        return Ok(None);
    };
    let problem = (letter.status() != DeadLetterStatus::Replayed)
        .then(|| dead_letter_problem(&letter, staff));
    Ok(Some((envelope, problem)))
}

fn visible(scope: Scope, station_id: Uuid) -> bool {
    match scope {
        Scope::All => true,
        Scope::Station(own) => own == station_id,
        Scope::Supplier(_) | Scope::Nothing => false,
    }
}

/// An order not processed: PENDING, or DEAD_LETTERED with the dead letter's problem.
fn pending_view(command: &SubmitOrder, dead_letter: Option<Value>) -> OrderView {
    OrderView {
        id: command.order_id,
        reference: None,
        station_id: command.station_id,
        status: if dead_letter.is_some() {
            "DEAD_LETTERED"
        } else {
            "PENDING"
        }
        .to_owned(),
        dead_letter,
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
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Status, e.g. REGISTERED, REJECTED, PARTIALLY_SHIPPED.
    #[param(
        pattern = "^(PENDING|REJECTED|CANCELLED|(PARTIALLY_)?(REGISTERED|CONFIRMED|SHIPPED|RECEIVED|CLOSED|INVOICED|ARCHIVED))$"
    )]
    pub status: Option<String>,
    /// Only this station.
    pub station_id: Option<Uuid>,
    /// Only orders with a purchase order to this supplier.
    pub supplier_id: Option<Uuid>,
    /// Page number.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
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
