//! Master-data lists: stations, suppliers, products.

use axum::Json;
use axum::extract::State;

use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, ValidQuery};
use super::pagination::{PageQuery, PageView};
use super::state::AppState;
use crate::db::catalogue::{
    self, CODE_AND_NAME, GROUP_KEYS, ListKeys, ProductView, Search, SortOrder, StationGroupView,
    StationView, SupplierView, USER_KEYS,
};
use crate::db::page::PageRequest;
use crate::db::users::{self, UserListItem};
use crate::domain::roles::Role;
use crate::domain::text::text_issues;

/// Longest search term.
const MAX_Q_CHARS: usize = 100;

/// Station and supplier list parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// Part of the code or the name, case-insensitive (≤ 100 characters).
    pub q: Option<String>,
    /// Only active (`true`) or inactive (`false`) ones.
    pub active: Option<bool>,
    /// `code` (default), `-code`, `name`, `-name`, `created_at`, `-created_at`.
    #[param(pattern = "^-?(code|name|created_at)$")]
    pub sort: Option<String>,
}

/// Product list parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// Part of the code or the name, case-insensitive (≤ 100 characters).
    pub q: Option<String>,
    /// Only active (`true`) or inactive (`false`) ones.
    pub active: Option<bool>,
    /// Only this category (e.g. `TRAY`).
    pub category: Option<String>,
    /// `code` (default), `-code`, `name`, `-name`, `created_at`, `-created_at`.
    #[param(pattern = "^-?(code|name|created_at)$")]
    pub sort: Option<String>,
}

impl CatalogueQuery {
    /// Validates the page, the search term and the sort.
    fn parse(self, category: Option<String>) -> ApiResult<(Search, PageRequest)> {
        self.parse_for(category, CODE_AND_NAME)
    }

    /// [`Self::parse`] for a list searching and sorting by `keys`.
    fn parse_for(
        self,
        category: Option<String>,
        keys: ListKeys,
    ) -> ApiResult<(Search, PageRequest)> {
        let page = PageQuery {
            page: self.page,
            per_page: self.per_page,
        }
        .parse();
        let mut errors: Vec<FieldError> = Vec::new();
        let q = self
            .q
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty());
        if let Some(q) = &q {
            errors.extend(text_issues(q, "q", MAX_Q_CHARS).into_iter().map(Into::into));
        }
        if let Some(category) = &category {
            errors.extend(
                text_issues(category, "category", MAX_Q_CHARS)
                    .into_iter()
                    .map(Into::into),
            );
        }
        let sort = match self.sort.as_deref() {
            None => SortOrder::default(),
            Some(value) => SortOrder::parse(value, keys).unwrap_or_else(|| {
                let allowed: Vec<String> = SortOrder::allowed(keys)
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect();
                errors.push(FieldError::new(
                    "sort",
                    "UNKNOWN_SORT",
                    format!("sort by one of {}", allowed.join(", ")),
                ));
                SortOrder::default()
            }),
        };
        let page = match page {
            Ok(page) if errors.is_empty() => page,
            Ok(_) => return Err(ApiError::Validation(errors)),
            Err(ApiError::Validation(mut page_errors)) => {
                page_errors.extend(errors);
                return Err(ApiError::Validation(page_errors));
            }
            Err(other) => return Err(other),
        };
        let search = Search {
            q,
            active: self.active,
            category,
            sort,
        };
        Ok((search, page))
    }
}

/// Stations: staff see all, a station itself, a supplier the stations it delivers.
#[utoipa::path(get, path = "/api/v1/stations", tag = "catalogue", params(CatalogueQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<StationView>)))]
pub async fn list_stations(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<CatalogueQuery>,
) -> ApiResult<Json<PageView<StationView>>> {
    let (search, page) = query.parse(None)?;
    let paged = catalogue::list_stations(&state.db, user.scope(), &search, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// Suppliers: staff and stations see all, a supplier itself.
#[utoipa::path(get, path = "/api/v1/suppliers", tag = "catalogue", params(CatalogueQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<SupplierView>)))]
pub async fn list_suppliers(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<CatalogueQuery>,
) -> ApiResult<Json<PageView<SupplierView>>> {
    let (search, page) = query.parse(None)?;
    let paged = catalogue::list_suppliers(&state.db, user.scope(), &search, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// Products: the whole catalogue.
#[utoipa::path(get, path = "/api/v1/products", tag = "catalogue", params(ProductQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<ProductView>)))]
pub async fn list_products(
    State(state): State<AppState>,
    _user: AuthUser,
    ValidQuery(query): ValidQuery<ProductQuery>,
) -> ApiResult<Json<PageView<ProductView>>> {
    let common = CatalogueQuery {
        page: query.page,
        per_page: query.per_page,
        q: query.q,
        active: query.active,
        sort: query.sort,
    };
    let (search, page) = common.parse(query.category)?;
    let paged = catalogue::list_products(&state.db, &search, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// Station-group list parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StationGroupQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// Part of the code or the name, case-insensitive (≤ 100 characters).
    pub q: Option<String>,
    /// `code` (default), `-code`, `name`, `-name`, `created_at`, `-created_at`.
    #[param(pattern = "^-?(code|name|created_at)$")]
    pub sort: Option<String>,
}

/// Station groups (staff).
#[utoipa::path(get, path = "/api/v1/station-groups", tag = "catalogue", params(StationGroupQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<StationGroupView>),
        (status = 403, body = super::error::Problem)))]
pub async fn list_station_groups(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<StationGroupQuery>,
) -> ApiResult<Json<PageView<StationGroupView>>> {
    if !user.role.is_staff() {
        return Err(ApiError::Forbidden("station groups are Blue Whale staff's"));
    }
    let common = CatalogueQuery {
        page: query.page,
        per_page: query.per_page,
        q: query.q,
        active: None,
        sort: query.sort,
    };
    let (search, page) = common.parse_for(None, GROUP_KEYS)?;
    let paged = catalogue::list_station_groups(&state.db, &search, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// User list parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// Part of the e-mail or the name, case-insensitive (≤ 100 characters).
    pub q: Option<String>,
    /// Only this role (`ADMIN`, `MANAGER`, `HANDLER`, `STATION`, `SUPPLIER`).
    #[param(pattern = "^(ADMIN|MANAGER|HANDLER|STATION|SUPPLIER)$")]
    pub role: Option<String>,
    /// Only active (`true`) or deactivated (`false`) users.
    pub active: Option<bool>,
    /// `email` (default), `-email`, `full_name`, `-full_name`, `created_at`, `-created_at`.
    #[param(pattern = "^-?(email|full_name|created_at)$")]
    pub sort: Option<String>,
}

/// Users (ADMIN).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<UserListItem>),
        (status = 403, body = super::error::Problem)))]
pub async fn list_users(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<UserQuery>,
) -> ApiResult<Json<PageView<UserListItem>>> {
    if user.role != Role::Admin {
        return Err(ApiError::Forbidden("only administrators manage users"));
    }
    let role = match query.role.as_deref() {
        None => None,
        Some(value) => Some(Role::parse(value).ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "role",
                "UNKNOWN_ROLE",
                "role is ADMIN, MANAGER, HANDLER, STATION or SUPPLIER",
            )])
        })?),
    };
    let common = CatalogueQuery {
        page: query.page,
        per_page: query.per_page,
        q: query.q,
        active: query.active,
        sort: query.sort,
    };
    let (search, page) = common.parse_for(None, USER_KEYS)?;
    let paged = users::list(&state.db, &search, role.map(Role::as_str), page).await?;
    Ok(Json(PageView::new(paged, page)))
}
