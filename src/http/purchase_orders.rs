//! Purchase-order reads: one (with its `ETag`), lists, history.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::command_path::{Answer, header_value};
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, PathId, ValidQuery};
use super::pagination::{PageQuery, PageView};
use super::state::AppState;
use crate::db::purchase_order_history::{self, HistoryEntry};
use crate::db::purchase_orders::{self, PurchaseOrderFilter, PurchaseOrderView};
use crate::domain::purchase_order_status::PurchaseOrderStatus;
use crate::messaging::command::ResourceRef;

/// Purchase-order list parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PurchaseOrderQuery {
    /// Status code, e.g. REGISTERED.
    #[param(
        pattern = "^(REGISTERED|CONFIRMED|SHIPPED|RECEIVED|CLOSED|INVOICED|ARCHIVED|CANCELLED)$"
    )]
    pub status: Option<String>,
    /// Only this station.
    pub station_id: Option<Uuid>,
    /// Only this supplier.
    pub supplier_id: Option<Uuid>,
    /// Only this master order's.
    pub master_order_id: Option<Uuid>,
    /// Page number.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// Purchase orders: staff all, a station its own, a supplier its own.
#[utoipa::path(get, path = "/api/v1/purchase-orders", tag = "orders", params(PurchaseOrderQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<PurchaseOrderView>),
    (status = 422, body = super::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<PurchaseOrderQuery>,
) -> ApiResult<Json<PageView<PurchaseOrderView>>> {
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .parse()?;
    if let Some(status) = query.status.as_deref() {
        status.parse::<PurchaseOrderStatus>().map_err(|_| {
            ApiError::Validation(vec![FieldError::new(
                "status",
                "UNKNOWN_STATUS",
                format!("unknown purchase-order status {status:?}"),
            )])
        })?;
    }
    let filter = PurchaseOrderFilter {
        status: query.status,
        station_id: query.station_id,
        supplier_id: query.supplier_id,
        master_order_id: query.master_order_id,
    };
    let paged = purchase_orders::list(&state.db, user.scope(), &filter, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// One purchase order with its lines; `ETag` is its version.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{id}", tag = "orders",
    params(("id" = Uuid, Path, description = "Purchase-order id")), security(("bearer" = [])),
    responses((status = 200, body = PurchaseOrderView, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 404, body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Response> {
    let po = purchase_orders::find(&state.db, user.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    with_etag(po)
}

/// A purchase order as a 200 with its `ETag`.
fn with_etag(po: PurchaseOrderView) -> ApiResult<Response> {
    let etag = header_value(&format!("\"{}\"", po.version))?;
    Ok(([(header::ETAG, etag)], Json(po)).into_response())
}

/// The lifecycle of a purchase order, oldest first, starting with its creation.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{id}/history", tag = "orders",
    params(("id" = Uuid, Path, description = "Purchase-order id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 404, body = super::error::Problem)))]
pub async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    // Same visibility as the purchase order itself.
    purchase_orders::find(&state.db, user.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(
        purchase_order_history::for_purchase_order(&state.db, id).await?,
    ))
}

/// Purchase-order writes answer 202 with the command, or 200 with the purchase order.
pub struct PurchaseOrderAnswer;

impl Answer for PurchaseOrderAnswer {
    async fn applied(
        &self,
        state: &AppState,
        user: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        let po = purchase_orders::find(&state.db, user.scope(), resource.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        with_etag(po)
    }
}
