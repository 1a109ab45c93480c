//! Master-data lists: stations, suppliers, products.

use axum::Json;
use axum::extract::State;

use super::error::ApiResult;
use super::extract::{AuthUser, ValidQuery};
use super::pagination::{PageQuery, PageView};
use super::state::AppState;
use crate::db::catalogue::{self, ProductView, StationView, SupplierView};

/// Stations: staff see all, a station itself, a supplier the stations it delivers.
#[utoipa::path(get, path = "/api/v1/stations", tag = "catalogue", params(PageQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<StationView>)))]
pub async fn list_stations(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<PageQuery>,
) -> ApiResult<Json<PageView<StationView>>> {
    let page = query.parse()?;
    let paged = catalogue::list_stations(&state.db, user.scope(), page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// Suppliers: staff and stations see all, a supplier itself.
#[utoipa::path(get, path = "/api/v1/suppliers", tag = "catalogue", params(PageQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<SupplierView>)))]
pub async fn list_suppliers(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<PageQuery>,
) -> ApiResult<Json<PageView<SupplierView>>> {
    let page = query.parse()?;
    let paged = catalogue::list_suppliers(&state.db, user.scope(), page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// Products: the whole catalogue.
#[utoipa::path(get, path = "/api/v1/products", tag = "catalogue", params(PageQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<ProductView>)))]
pub async fn list_products(
    State(state): State<AppState>,
    _user: AuthUser,
    ValidQuery(query): ValidQuery<PageQuery>,
) -> ApiResult<Json<PageView<ProductView>>> {
    let page = query.parse()?;
    let paged = catalogue::list_products(&state.db, page).await?;
    Ok(Json(PageView::new(paged, page)))
}
