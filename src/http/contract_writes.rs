//! `POST /api/v1/contracts`, `PATCH …/{id}`, `PUT …/{id}/lines` and
//! `POST …/{id}/{activate|suspend|resume|terminate|renew}`: thin handlers that turn a body
//! into a contract change, check it against the current data with the worker's own checks,
//! and hand it to the command path.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;
use uuid::Uuid;

use super::command_path::{self, Answer, Submission, header_value, request_hash};
use super::error::{ApiError, ApiResult};
use super::extract::{AuthUser, PathId, RequestId, ValidJson};
use super::purchase_order_transitions::ReasonBody;
use super::state::AppState;
use super::write_request::WriteRequest;
use crate::db::contract_checks::{self, Judged};
use crate::db::contract_writes;
use crate::db::contracts::{self, ContractView};
use crate::domain::catalogue::PriceBreak;
use crate::domain::contract_lifecycle::ContractRequester;
use crate::domain::contract_terms::{
    CURRENCY, ContractHeader, ContractLineTerms, DEFAULT_TAX_RATE,
};
use crate::messaging::command::{CommandSpec, ResourceRef};
use crate::messaging::commands::ChangeContract;
use crate::messaging::commands::contract::{ContractChange, HeaderPatch};
use crate::messaging::commands::webhook_endpoint::present;

/// A decimal string field that may be present as `null` (clears it) or absent.
fn present_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Decimal>>, D::Error> {
    rust_decimal::serde::str_option::deserialize(d).map(Some)
}

/// A price break: from `min_quantity` units on, the price is reduced by `reduction_percent`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceBreakBody {
    /// Conditioning units, 1 … 1 000 000, ascending across breaks.
    pub min_quantity: u32,
    /// Percent in (0, 100), at most 2 decimals, ascending across breaks.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "5.00")]
    pub reduction_percent: Decimal,
}

/// One line of a contract.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractLineBody {
    /// An active product (one line per product).
    pub product_id: Uuid,
    /// Per conditioning unit, excluding VAT: more than 0, at most 2 decimals.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "18.50")]
    pub unit_price: Decimal,
    /// Fewest units an order line may ask for (default 1).
    pub min_order_quantity: Option<u32>,
    /// Quantity reductions, strictly ascending.
    #[serde(default)]
    pub price_breaks: Vec<PriceBreakBody>,
    /// VAT percent in [0, 100) (default 20.00).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, example = "20.00")]
    pub tax_rate: Option<Decimal>,
    /// The supplier's own reference (≤ 100 characters).
    pub supplier_reference: Option<String>,
}

impl ContractLineBody {
    fn terms(self) -> ContractLineTerms {
        ContractLineTerms {
            product_id: self.product_id,
            unit_price: self.unit_price,
            min_order_quantity: self.min_order_quantity.unwrap_or(1),
            price_breaks: self
                .price_breaks
                .into_iter()
                .map(|b| PriceBreak {
                    min_quantity: b.min_quantity,
                    reduction_percent: b.reduction_percent,
                })
                .collect(),
            tax_rate: self.tax_rate.unwrap_or(DEFAULT_TAX_RATE),
            supplier_reference: self.supplier_reference,
        }
    }
}

fn terms(lines: Vec<ContractLineBody>) -> Vec<ContractLineTerms> {
    lines.into_iter().map(ContractLineBody::terms).collect()
}

/// `POST /contracts` body: a new DRAFT.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContractBody {
    /// Unique number; generated (`MC-YYYY-NNNN`, the year of `valid_from`) when left out.
    pub number: Option<String>,
    /// An active supplier.
    pub supplier_id: Uuid,
    /// First day of validity.
    pub valid_from: NaiveDate,
    /// Last day of validity (inclusive, not before `valid_from`).
    pub valid_until: NaiveDate,
    /// `EUR` (the default).
    pub currency: Option<String>,
    /// Smallest purchase order excluding VAT, at most 2 decimals.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, example = "150.00")]
    pub minimum_order_value: Option<Decimal>,
    /// Blue Whale's fee in percent, [0, 100) (default 0): sales orders add it to the price.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, example = "4.00")]
    pub platform_fee_percent: Option<Decimal>,
    /// Internal notes (≤ 2000 characters).
    pub notes: Option<String>,
    /// 1 to 500 lines.
    pub lines: Vec<ContractLineBody>,
}

/// `PATCH /contracts/{id}` body: the fields present change (a DRAFT only); `null` clears.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchContractBody {
    /// New number.
    pub number: Option<String>,
    /// New supplier.
    pub supplier_id: Option<Uuid>,
    /// New first day.
    pub valid_from: Option<NaiveDate>,
    /// New last day.
    pub valid_until: Option<NaiveDate>,
    /// `EUR`.
    pub currency: Option<String>,
    /// New minimum, or `null` for none.
    #[serde(default, deserialize_with = "present_decimal")]
    #[schema(value_type = Option<String>)]
    pub minimum_order_value: Option<Option<Decimal>>,
    /// New fee.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub platform_fee_percent: Option<Decimal>,
    /// New notes, or `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

/// `PUT /contracts/{id}/lines` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractLinesBody {
    /// Every line of the contract from now on.
    pub lines: Vec<ContractLineBody>,
}

/// `POST /contracts/{id}/renew` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewBody {
    /// First day of the new contract.
    pub valid_from: NaiveDate,
    /// Its last day.
    pub valid_until: NaiveDate,
}

/// Contract writes answer 202 with the command, or the contract as it is now (201 for a
/// contract the command created), with its `ETag`.
struct ContractAnswer {
    created: bool,
}

impl Answer for ContractAnswer {
    async fn applied(
        &self,
        state: &AppState,
        user: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        let view = contracts::find(&state.db, user.scope(), resource.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let status = if self.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let location = header_value(&format!("/api/v1/contracts/{}", view.id))?;
        Ok((status, [(header::LOCATION, location)], with_etag(view)?).into_response())
    }
}

/// A contract with its `ETag` (its version).
pub fn with_etag(view: ContractView) -> ApiResult<Response> {
    let etag = header_value(&format!("\"{}\"", view.version))?;
    Ok(([(header::ETAG, etag)], Json(view)).into_response())
}

/// Checks a change against the current data with the worker's checks and submits it.
async fn submit(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    contract_id: Uuid,
    change: ContractChange,
) -> ApiResult<Response> {
    let created = change.creates();
    let expected_version = write.named_version();
    let command = ChangeContract {
        contract_id,
        expected_version,
        change,
    };
    let hash = request_hash(ChangeContract::TYPE, &command);
    let requester = ContractRequester {
        role: user.role,
        expected_version,
    };
    let checked = command.clone();
    let precheck = async move {
        let mut conn = state.db.acquire().await?;
        let stored = contract_writes::load(&mut conn, checked.contract_id).await?;
        let source = match &checked.change {
            ContractChange::Renew { source_id, .. } => {
                contract_writes::load(&mut conn, *source_id).await?
            }
            _ => None,
        };
        let judged = Judged {
            stored: stored.as_ref(),
            source: source.as_ref(),
        };
        match contract_checks::refusal_of(&mut conn, &checked, requester, judged).await? {
            Some(refusal) => Err(ApiError::Refused(refusal)),
            None => write.if_match().map(|_| ()),
        }
    };
    let submission = Submission {
        command,
        request_hash: hash,
        precheck,
    };
    let answer = ContractAnswer { created };
    command_path::submit(state, user, request_id, write, submission, &answer).await
}

/// Creates a DRAFT contract (MANAGER, ADMIN).
#[utoipa::path(post, path = "/api/v1/contracts", tag = "contracts",
    request_body = CreateContractBody,
    params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome")),
    security(("bearer" = [])),
    responses((status = 202, body = command_path::CommandAccepted), (status = 201, body = ContractView),
        (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
        (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    write: WriteRequest,
    ValidJson(body): ValidJson<CreateContractBody>,
) -> ApiResult<Response> {
    let id = command_path::command_id(&user, &write);
    let change = ContractChange::Create {
        number: body.number,
        header: ContractHeader {
            supplier_id: body.supplier_id,
            valid_from: body.valid_from,
            valid_until: body.valid_until,
            currency: body.currency.unwrap_or_else(|| CURRENCY.to_owned()),
            minimum_order_value: body.minimum_order_value,
            platform_fee_percent: body.platform_fee_percent.unwrap_or_default(),
            notes: body.notes,
        },
        lines: terms(body.lines),
    };
    submit(&state, &user, &request_id, &write, id, change).await
}

macro_rules! contract_write {
    ($name:ident, $method:ident, $path:literal, $summary:literal, $body:ty,
     |$b:ident, $id:ident, $new_id:ident| $change:expr) => {
        #[doc = $summary]
        #[utoipa::path($method, path = concat!("/api/v1/contracts/{id}", $path), tag = "contracts",
            request_body = $body, summary = $summary,
            params(("id" = Uuid, Path, description = "Contract id"),
                ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
                ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome"),
                ("If-Match" = Option<String>, Header, description = "\"<version>\": refuse (412) if the contract changed")),
            security(("bearer" = [])),
            responses((status = 202, body = command_path::CommandAccepted),
                (status = 200, body = ContractView), (status = 201, body = ContractView),
                (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
                (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem),
                (status = 412, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
        pub async fn $name(
            State(state): State<AppState>,
            user: AuthUser,
            request_id: RequestId,
            PathId($id): PathId,
            write: WriteRequest,
            ValidJson($b): ValidJson<$body>,
        ) -> ApiResult<Response> {
            // A renewal makes a new contract: its id is the command's.
            let $new_id = command_path::command_id(&user, &write);
            let (target, change): (Uuid, ContractChange) = $change;
            submit(&state, &user, &request_id, &write, target, change).await
        }
    };
}

/// `{}`: the activation and resumption take no fields.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

contract_write!(
    update,
    patch,
    "",
    "Edits the header of a DRAFT contract (MANAGER, ADMIN).",
    PatchContractBody,
    |b, id, _new| {
        let patch = HeaderPatch {
            number: b.number,
            supplier_id: b.supplier_id,
            valid_from: b.valid_from,
            valid_until: b.valid_until,
            currency: b.currency,
            minimum_order_value: b.minimum_order_value,
            platform_fee_percent: b.platform_fee_percent,
            notes: b.notes,
        };
        (id, ContractChange::Update { patch })
    }
);
contract_write!(
    replace_lines,
    put,
    "/lines",
    "Replaces the lines of a DRAFT contract (MANAGER, ADMIN).",
    ContractLinesBody,
    |b, id, _new| (
        id,
        ContractChange::ReplaceLines {
            lines: terms(b.lines)
        }
    )
);
contract_write!(
    activate,
    post,
    "/activate",
    "Puts a DRAFT contract in force (ADMIN), unless it overlaps a contract in force of its supplier.",
    NoFields,
    |_b, id, _new| (id, ContractChange::Activate)
);
contract_write!(
    suspend,
    post,
    "/suspend",
    "Suspends an ACTIVE contract (MANAGER, ADMIN).",
    ReasonBody,
    |b, id, _new| (id, ContractChange::Suspend { reason: b.reason })
);
contract_write!(
    resume,
    post,
    "/resume",
    "Puts a SUSPENDED contract back in force (MANAGER, ADMIN).",
    NoFields,
    |_b, id, _new| (id, ContractChange::Resume)
);
contract_write!(
    terminate,
    post,
    "/terminate",
    "Ends a DRAFT, ACTIVE or SUSPENDED contract (ADMIN).",
    ReasonBody,
    |b, id, _new| (id, ContractChange::Terminate { reason: b.reason })
);
contract_write!(
    renew,
    post,
    "/renew",
    "Creates the next DRAFT with this contract's terms over new dates (MANAGER, ADMIN).",
    RenewBody,
    |b, id, new_id| (
        new_id,
        ContractChange::Renew {
            source_id: id,
            valid_from: b.valid_from,
            valid_until: b.valid_until,
        }
    )
);
