//! Purchase-order reads.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, PathId, ValidQuery};
use super::pagination::{PageQuery, PageView};
use super::state::AppState;
use crate::db::purchase_orders::{self, PurchaseOrderFilter, PurchaseOrderView};
use crate::domain::purchase_order_status::PurchaseOrderStatus;

/// Purchase-order list parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderQuery {
    /// Status code, e.g. REGISTERED.
    pub status: Option<String>,
    /// Only this station.
    pub station_id: Option<Uuid>,
    /// Only this supplier.
    pub supplier_id: Option<Uuid>,
    /// Page number.
    pub page: Option<u32>,
    /// Page size.
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
    };
    let paged = purchase_orders::list(&state.db, user.scope(), &filter, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// One purchase order with its lines.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{id}", tag = "orders",
    params(("id" = Uuid, Path, description = "Purchase-order id")), security(("bearer" = [])),
    responses((status = 200, body = PurchaseOrderView), (status = 404, body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<PurchaseOrderView>> {
    purchase_orders::find(&state.db, user.scope(), id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}
