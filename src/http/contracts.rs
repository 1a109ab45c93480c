//! Master-contract reads.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::contract_writes::with_etag;
use super::error::{ApiError, ApiResult, FieldError};
use super::extract::{AuthUser, PathId, ValidQuery};
use super::pagination::{PageQuery, PageView};
use super::state::AppState;
use crate::db::contract_history::{self, ContractHistoryEntry};
use crate::db::contracts::{self, ContractFilter, ContractView};
use crate::domain::contract_lifecycle::ContractStatus;

/// Contract list parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContractQuery {
    /// Only this supplier's contracts.
    pub supplier_id: Option<Uuid>,
    /// DRAFT, ACTIVE, SUSPENDED, EXPIRED or TERMINATED.
    #[param(pattern = "^(DRAFT|ACTIVE|SUSPENDED|EXPIRED|TERMINATED)$")]
    pub status: Option<String>,
    /// Page number.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// Contracts: staff and stations read all, a supplier its own.
#[utoipa::path(get, path = "/api/v1/contracts", tag = "contracts", params(ContractQuery),
    security(("bearer" = [])), responses((status = 200, body = PageView<ContractView>),
    (status = 422, body = super::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ValidQuery(query): ValidQuery<ContractQuery>,
) -> ApiResult<Json<PageView<ContractView>>> {
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .parse()?;
    if let Some(status) = query
        .status
        .as_deref()
        .filter(|s| s.parse::<ContractStatus>().is_err())
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "status",
            "UNKNOWN_STATUS",
            format!(
                "unknown contract status {status:?}; expected one of {}",
                ContractStatus::ALL.map(ContractStatus::as_str).join(", ")
            ),
        )]));
    }
    let filter = ContractFilter {
        supplier_id: query.supplier_id,
        status: query.status,
    };
    let paged = contracts::list(&state.db, user.scope(), &filter, page).await?;
    Ok(Json(PageView::new(paged, page)))
}

/// One contract with its lines and its `ETag`.
#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "contracts",
    params(("id" = Uuid, Path, description = "Contract id")), security(("bearer" = [])),
    responses((status = 200, body = ContractView), (status = 404, body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Response> {
    let view = contracts::find(&state.db, user.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    with_etag(view)
}

/// The contract's changes, oldest first (suppliers and stations: without Blue Whale's fee and
/// notes).
#[utoipa::path(get, path = "/api/v1/contracts/{id}/history", tag = "contracts",
    params(("id" = Uuid, Path, description = "Contract id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<ContractHistoryEntry>), (status = 404, body = super::error::Problem)))]
pub async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Vec<ContractHistoryEntry>>> {
    // Same visibility as the contract itself.
    contracts::find(&state.db, user.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let staff = user.role.is_staff();
    Ok(Json(
        contract_history::for_contract(&state.db, id, staff).await?,
    ))
}
