//! `/api/v1/sales-orders`: Blue Whale's sales orders to the stations. Staff see all, a
//! station its own; a supplier is refused the list (403) and never finds one (404), since a
//! sales order shows Blue Whale's margin. `POST …/{id}/invoice` (staff) invoices one.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::command_path::{self, Answer, Submission, header_value, request_hash};
use super::contract_writes::NoFields;
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, PathId, RequestId, ValidJson, ValidQuery};
use super::pagination::{PageQuery, PageView};
use super::state::AppState;
use super::write_request::WriteRequest;
use crate::db::sales_orders::{self, SalesOrderFilter, SalesOrderView};
use crate::domain::business_date::order_date;
use crate::domain::roles::Role;
use crate::domain::sales_order_invoicing::{
    InvoiceRequester, SalesOrderStatus, decide_invoice, due_date,
};
use crate::messaging::command::{CommandSpec, ResourceRef};
use crate::messaging::commands::InvoiceSalesOrder;

/// Sales-order list parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SalesOrderQuery {
    /// ISSUED or INVOICED.
    #[param(pattern = "^(ISSUED|INVOICED)$")]
    pub status: Option<String>,
    /// Only this station's.
    pub station_id: Option<Uuid>,
    /// Only this master order's.
    pub master_order_id: Option<Uuid>,
    /// Page number.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// Sales orders, newest first: staff all, a station its own.
#[utoipa::path(get, path = "/api/v1/sales-orders", tag = "sales orders", params(SalesOrderQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<SalesOrderView>),
    (status = 403, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<SalesOrderQuery>,
) -> ApiResult<Json<PageView<SalesOrderView>>> {
    if user.role == Role::Supplier {
        return Err(ApiError::Forbidden("Suppliers have no sales orders."));
    }
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .parse()?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            SalesOrderStatus::parse(s).ok_or_else(|| {
                ApiError::Validation(vec![FieldError::new(
                    "status",
                    "UNKNOWN_STATUS",
                    format!("unknown sales-order status {s:?} (ISSUED or INVOICED)"),
                )])
            })
        })
        .transpose()?;
    let filter = SalesOrderFilter {
        status,
        station_id: query.station_id,
        master_order_id: query.master_order_id,
    };
    let paged = sales_orders::list(&state.db, user.scope(), &filter, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// One sales order with its lines; `ETag` is its version.
#[utoipa::path(get, path = "/api/v1/sales-orders/{id}", tag = "sales orders",
    params(("id" = Uuid, Path, description = "Sales-order id")), security(("bearer" = [])),
    responses((status = 200, body = SalesOrderView, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 404, body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Response> {
    sales_order_response(&state, &user, id).await
}

/// The sales order as `user` may see it, with its `ETag`.
async fn sales_order_response(state: &AppState, user: &AuthUser, id: Uuid) -> ApiResult<Response> {
    let order = sales_orders::find(&state.db, user.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let etag = header_value(&format!("\"{}\"", order.version))?;
    Ok(([(header::ETAG, etag)], Json(order)).into_response())
}

/// Sales-order writes answer 202 with the command, or 200 with the sales order.
struct SalesOrderAnswer;

impl Answer for SalesOrderAnswer {
    async fn applied(
        &self,
        state: &AppState,
        user: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        sales_order_response(state, user, resource.id).await
    }
}

/// Invoices a sales order (staff) once every purchase order of its master order that was not
/// cancelled is RECEIVED or later: `INV-YYYY-NNNNNN`, dated today in the business time zone,
/// due `BW_INVOICE_DUE_DAYS` (30) days later; lines of cancelled purchase orders are credited.
#[utoipa::path(post, path = "/api/v1/sales-orders/{id}/invoice", tag = "sales orders",
    request_body = NoFields,
    params(("id" = Uuid, Path, description = "Sales-order id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome"),
        ("If-Match" = Option<String>, Header, description = "\"<version>\": refuse (412) if the sales order changed")),
    security(("bearer" = [])),
    responses((status = 202, body = command_path::CommandAccepted), (status = 200, body = SalesOrderView),
        (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
        (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem),
        (status = 412, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn invoice(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    PathId(id): PathId,
    write: WriteRequest,
    ValidJson(_fields): ValidJson<NoFields>,
) -> ApiResult<Response> {
    let expected_version = write.named_version();
    let invoice_date = order_date(write.received_at, state.config.business_timezone);
    let command = InvoiceSalesOrder {
        sales_order_id: id,
        expected_version,
        invoice_date,
        due_date: due_date(invoice_date, state.config.invoice_due_days),
    };
    // What the client asked, without the dates the server adds: a replay on another day is
    // still the same request.
    let hash = request_hash(InvoiceSalesOrder::TYPE, &(id, expected_version));
    let requester = InvoiceRequester {
        role: user.role,
        expected_version,
    };
    let (db, precondition) = (state.db.clone(), &write);
    let precheck = async move {
        let mut conn = db.acquire().await?;
        let loaded = sales_orders::invoiceable(&mut conn, id, false).await?;
        decide_invoice(requester, loaded.as_ref().map(|(_, state)| state))
            .map_err(ApiError::Refused)?;
        precondition.if_match().map(|_| ())
    };
    let submission = Submission {
        command,
        request_hash: hash,
        precheck,
    };
    command_path::submit(
        &state,
        &user,
        &request_id,
        &write,
        submission,
        &SalesOrderAnswer,
    )
    .await
}
