//! `/api/v1/stations/{station_id}/cart`: a station's open cart with its priced preview, and
//! the writes that change it (each a `cart.change` command on the command path).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::command_path::{self, Answer, Submission, header_value, request_hash};
use super::error::{ApiError, ApiResult};
use super::extract::{AuthUser, RequestId, ValidJson, ValidQuery};
use super::order_request::{OrderLineRequest, SubmitOrderRequest, ValidOrder};
use super::orders::OrderAnswer;
use super::state::AppState;
use super::webhook_endpoint_access::path_error;
use super::write_request::WriteRequest;
use crate::db::carts::{self, OpenCart};
use crate::domain::business_date::order_date;
use crate::domain::cart::{CartChange, CartItem};
use crate::domain::money::{CURRENCY_EUR, Totals, two_decimals};
use crate::domain::refusal::{Refusal, RefusalCode};
use crate::domain::rejection::RejectionCode;
use crate::domain::roles::{OrderingRefusal, may_order_for};
use crate::domain::split::{Assessment, PricedPurchaseOrder};
use crate::messaging::command::{CommandSpec, ResourceRef};
use crate::messaging::commands::order_submit::CartCheckout;
use crate::messaging::commands::{ChangeCart, SubmitOrder};
use crate::messaging::pending::pending_checkout;

/// An item of the cart.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartItemView {
    /// The product.
    pub product_id: Uuid,
    /// The supplier chosen for it.
    pub supplier_id: Uuid,
    /// Conditioning units.
    pub quantity: u32,
    /// Who put it in the cart.
    pub added_by: Uuid,
    /// When.
    pub added_at: DateTime<Utc>,
}

/// A line of a would-be purchase order.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewLine {
    /// Position of the item in the cart.
    pub index: usize,
    /// The product.
    pub product_id: Uuid,
    /// Conditioning units.
    pub quantity: u32,
    /// The contract's price before the break.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub base_unit_price: Decimal,
    /// The break's reduction, in percent.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub reduction_percent: Decimal,
    /// Price per unit, excluding VAT.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub unit_price: Decimal,
    /// VAT percent.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_rate: Decimal,
    /// `unit_price × quantity`.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub line_total: Decimal,
    /// The contract that prices it.
    pub contract_id: Uuid,
}

/// Excluding VAT, VAT and including VAT.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsView {
    /// Excluding VAT.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: Decimal,
    /// VAT, rounded once per rate.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_amount: Decimal,
    /// Including VAT.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_including_tax: Decimal,
}

impl From<Totals> for TotalsView {
    fn from(t: Totals) -> Self {
        Self {
            total_excluding_tax: t.excluding_tax,
            tax_amount: t.tax_amount,
            total_including_tax: t.including_tax,
        }
    }
}

/// The purchase order a supplier would receive.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewPurchaseOrder {
    /// The supplier.
    pub supplier_id: Uuid,
    /// Its lines, in cart order.
    pub lines: Vec<PreviewLine>,
    /// Its totals.
    #[serde(flatten)]
    pub totals: TotalsView,
}

impl From<PricedPurchaseOrder> for PreviewPurchaseOrder {
    fn from(po: PricedPurchaseOrder) -> Self {
        Self {
            supplier_id: po.supplier_id,
            lines: po
                .lines
                .into_iter()
                .map(|l| PreviewLine {
                    index: l.index,
                    product_id: l.product_id,
                    quantity: l.quantity,
                    base_unit_price: l.base_unit_price,
                    reduction_percent: l.reduction_percent,
                    unit_price: l.unit_price,
                    tax_rate: l.tax_rate,
                    line_total: l.line_total,
                    contract_id: l.contract_id,
                })
                .collect(),
            totals: po.totals.into(),
        }
    }
}

/// A reason the order would be rejected.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewProblem {
    /// The cart item (none: the station itself).
    pub index: Option<usize>,
    /// Stable code, as in an order's rejection.
    #[schema(value_type = String)]
    pub code: RejectionCode,
    /// Explanation.
    pub message: String,
}

/// A purchase order short of its contract's minimum order value.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewShortfall {
    /// The supplier.
    pub supplier_id: Uuid,
    /// The contract whose minimum is not reached.
    pub contract_id: Uuid,
    /// The minimum, excluding VAT.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub minimum_order_value: Decimal,
    /// The purchase order's total, excluding VAT.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: Decimal,
    /// What is still missing.
    #[schema(value_type = String)]
    #[serde(serialize_with = "two_decimals::serialize")]
    pub missing: Decimal,
}

/// What checking out today would give.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartPreview {
    /// The order date prices are taken on (today in the business time zone).
    pub order_date: NaiveDate,
    /// Currency.
    pub currency: &'static str,
    /// Whether the cart would be priced as it is (no problem, not empty).
    pub ready: bool,
    /// The purchase orders of the suppliers whose items all price.
    pub purchase_orders: Vec<PreviewPurchaseOrder>,
    /// Sums of those purchase orders.
    #[serde(flatten)]
    pub totals: TotalsView,
    /// Every reason the order would be rejected.
    pub problems: Vec<PreviewProblem>,
    /// Purchase orders below their minimum order value, with the amount missing.
    pub shortfalls: Vec<PreviewShortfall>,
}

impl CartPreview {
    fn new(order_date: NaiveDate, empty: bool, assessment: Assessment) -> Self {
        let totals = Totals::sum(assessment.purchase_orders.iter().map(|po| &po.totals));
        Self {
            order_date,
            currency: CURRENCY_EUR,
            ready: !empty && assessment.problems.is_empty(),
            purchase_orders: assessment
                .purchase_orders
                .into_iter()
                .map(Into::into)
                .collect(),
            totals: totals.into(),
            problems: assessment
                .problems
                .into_iter()
                .map(|p| PreviewProblem {
                    index: p.index,
                    code: p.code,
                    message: p.message,
                })
                .collect(),
            shortfalls: assessment
                .shortfalls
                .into_iter()
                .map(|s| PreviewShortfall {
                    supplier_id: s.supplier_id,
                    contract_id: s.contract_id,
                    minimum_order_value: s.minimum_order_value,
                    total_excluding_tax: s.total_excluding_tax,
                    missing: s.missing,
                })
                .collect(),
        }
    }
}

/// A station's open cart and its preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartView {
    /// The station.
    pub station_id: Uuid,
    /// The cart (none until something was put in it).
    pub cart_id: Option<Uuid>,
    /// Changes with every change; `ETag` and `If-Match` carry it (0: no cart yet).
    pub version: i32,
    /// Items, in the order they were added.
    pub items: Vec<CartItemView>,
    /// What checking out today would give.
    pub preview: CartPreview,
}

fn item_view(item: CartItem) -> CartItemView {
    CartItemView {
        product_id: item.product_id,
        supplier_id: item.supplier_id,
        quantity: item.quantity,
        added_by: item.added_by,
        added_at: item.added_at,
    }
}

fn station_path(raw: &str) -> ApiResult<Uuid> {
    raw.parse().map_err(|_| path_error("station_id"))
}

/// The station's users and staff see its cart; another station's user gets 404, a supplier 403.
fn authorise(user: &AuthUser, station_id: Uuid) -> ApiResult<()> {
    match may_order_for(user.role, user.org_id, station_id) {
        Ok(()) => Ok(()),
        Err(OrderingRefusal::OtherStation) => Err(ApiError::NotFound),
        Err(OrderingRefusal::RoleCannotOrder) => {
            Err(ApiError::Forbidden("Suppliers have no cart."))
        }
    }
}

/// The cart as it is now, priced for today, with its `ETag`.
async fn cart_response(state: &AppState, station_id: Uuid) -> ApiResult<Response> {
    let mut conn = state.db.acquire().await?;
    if !crate::db::catalogue::station_exists(&state.db, station_id).await? {
        return Err(ApiError::NotFound);
    }
    let cart: OpenCart = carts::open_cart(&mut conn, station_id).await?;
    let today = order_date(Utc::now(), state.config.business_timezone);
    let assessment = carts::preview(&mut conn, &cart, today).await?;
    let view = CartView {
        station_id,
        cart_id: cart.id,
        version: cart.version,
        preview: CartPreview::new(today, cart.items.is_empty(), assessment),
        items: cart.items.into_iter().map(item_view).collect(),
    };
    let etag = header_value(&format!("\"{}\"", view.version))?;
    Ok(([(header::ETAG, etag)], Json(view)).into_response())
}

/// The station's open cart with its priced preview.
#[utoipa::path(get, path = "/api/v1/stations/{station_id}/cart", tag = "carts",
    params(("station_id" = Uuid, Path, description = "Station id")), security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 403, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(station_id): Path<String>,
) -> ApiResult<Response> {
    let station_id = station_path(&station_id)?;
    authorise(&user, station_id)?;
    cart_response(&state, station_id).await
}

/// Cart writes answer 202 with the command, or the cart as it is now.
struct CartAnswer;

impl Answer for CartAnswer {
    async fn applied(
        &self,
        state: &AppState,
        _: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        cart_response(state, resource.id).await
    }
}

/// Checks a change against the current cart with the worker's rules and submits it.
async fn submit(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    station_id: Uuid,
    change: CartChange,
) -> ApiResult<Response> {
    authorise(user, station_id)?;
    let expected_version = write.named_version();
    let command = ChangeCart {
        station_id,
        expected_version,
        change,
    };
    let hash = request_hash(ChangeCart::TYPE, &command);
    let checked = command.clone();
    let actor = user.actor();
    let received_at = write.received_at;
    let precheck = async move {
        if !crate::db::catalogue::station_exists(&state.db, station_id).await? {
            return Err(ApiError::NotFound);
        }
        let mut conn = state.db.acquire().await?;
        let cart = carts::open_cart(&mut conn, station_id).await?;
        carts::decide(&mut conn, &cart, &checked, &actor, received_at)
            .await?
            .map_err(ApiError::Refused)?;
        write.if_match().map(|_| ())
    };
    let submission = Submission {
        command,
        request_hash: hash,
        precheck,
    };
    command_path::submit(state, user, request_id, write, submission, &CartAnswer).await
}

/// `PUT …/cart/items` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartItemBody {
    /// The product.
    pub product_id: Uuid,
    /// The supplier to buy it from.
    pub supplier_id: Uuid,
    /// Conditioning units, 1 … 1 000 000; 0 removes the item.
    pub quantity: u32,
}

/// Puts a product from a supplier in the cart, changes its quantity, or (0) removes it.
#[utoipa::path(put, path = "/api/v1/stations/{station_id}/cart/items", tag = "carts",
    request_body = CartItemBody,
    params(("station_id" = Uuid, Path, description = "Station id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome"),
        ("If-Match" = Option<String>, Header, description = "\"<version>\": refuse (412) if the cart changed")),
    security(("bearer" = [])),
    responses((status = 202, body = command_path::CommandAccepted), (status = 200, body = CartView),
        (status = 403, body = super::error::Problem), (status = 404, body = super::error::Problem),
        (status = 412, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn put_item(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(station_id): Path<String>,
    write: WriteRequest,
    ValidJson(body): ValidJson<CartItemBody>,
) -> ApiResult<Response> {
    let station_id = station_path(&station_id)?;
    let change = CartChange::SetItem {
        product_id: body.product_id,
        supplier_id: body.supplier_id,
        quantity: body.quantity,
    };
    submit(&state, &user, &request_id, &write, station_id, change).await
}

/// `DELETE …/cart/items` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// The product.
    pub product_id: Uuid,
    /// The supplier.
    pub supplier_id: Uuid,
}

/// Takes an item out of the cart (404 if it is not there).
#[utoipa::path(delete, path = "/api/v1/stations/{station_id}/cart/items", tag = "carts",
    params(("station_id" = Uuid, Path, description = "Station id"), ItemQuery,
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome"),
        ("If-Match" = Option<String>, Header, description = "\"<version>\"")),
    security(("bearer" = [])),
    responses((status = 202, body = command_path::CommandAccepted), (status = 200, body = CartView),
        (status = 404, body = super::error::Problem), (status = 412, body = super::error::Problem)))]
pub async fn delete_item(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(station_id): Path<String>,
    write: WriteRequest,
    ValidQuery(query): ValidQuery<ItemQuery>,
) -> ApiResult<Response> {
    let station_id = station_path(&station_id)?;
    let change = CartChange::RemoveItem {
        product_id: query.product_id,
        supplier_id: query.supplier_id,
    };
    submit(&state, &user, &request_id, &write, station_id, change).await
}

/// Empties the cart.
#[utoipa::path(delete, path = "/api/v1/stations/{station_id}/cart", tag = "carts",
    params(("station_id" = Uuid, Path, description = "Station id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome"),
        ("If-Match" = Option<String>, Header, description = "\"<version>\"")),
    security(("bearer" = [])),
    responses((status = 202, body = command_path::CommandAccepted), (status = 200, body = CartView),
        (status = 404, body = super::error::Problem), (status = 412, body = super::error::Problem)))]
pub async fn empty(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(station_id): Path<String>,
    write: WriteRequest,
) -> ApiResult<Response> {
    let station_id = station_path(&station_id)?;
    submit(
        &state,
        &user,
        &request_id,
        &write,
        station_id,
        CartChange::Empty,
    )
    .await
}

/// `POST …/cart/checkout` body: `{}` or the order's details.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    /// Delivery date asked for (not before today).
    pub requested_delivery_date: Option<NaiveDate>,
    /// Free text for the suppliers (≤ 2000 characters).
    pub notes: Option<String>,
}

/// Turns the cart into a master order on the usual order path: 202 `{id, status}` (the
/// order), or with `Prefer: wait` the priced order (201) or its rejection (422). The cart is
/// archived with the priced order; a rejected checkout leaves it open to be fixed.
#[utoipa::path(post, path = "/api/v1/stations/{station_id}/cart/checkout", tag = "carts",
    request_body = CheckoutBody,
    params(("station_id" = Uuid, Path, description = "Station id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
        ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome")),
    security(("bearer" = [])),
    responses((status = 202, body = super::orders::Accepted), (status = 201, body = crate::db::orders::OrderView),
        (status = 403, body = super::error::Problem), (status = 404, body = super::error::Problem),
        (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(station_id): Path<String>,
    write: WriteRequest,
    ValidJson(body): ValidJson<CheckoutBody>,
) -> ApiResult<Response> {
    let station_id = station_path(&station_id)?;
    authorise(&user, station_id)?;
    if !crate::db::catalogue::station_exists(&state.db, station_id).await? {
        return Err(ApiError::NotFound);
    }
    let id = command_path::command_id(&user, &write);
    // The request is the body: a replay after the cart was archived is still a replay.
    let hash = request_hash(SubmitOrder::TYPE, &("checkout", station_id, &body));
    let date = order_date(write.received_at, state.config.business_timezone);
    let mut conn = state.db.acquire().await?;
    let cart = carts::open_cart(&mut conn, station_id).await?;
    drop(conn);
    let request = SubmitOrderRequest {
        station_id,
        requested_delivery_date: body.requested_delivery_date,
        notes: body.notes,
        lines: cart
            .items
            .iter()
            .map(|i| OrderLineRequest {
                product_id: i.product_id,
                supplier_id: i.supplier_id,
                quantity: i64::from(i.quantity),
            })
            .collect(),
    };
    let (order, empty) = match (request.validate(date), cart.id) {
        (Ok(order), Some(_)) => (order, false),
        // An empty cart: only a replay of an earlier checkout goes on (answered from what
        // happened); anything else is refused by the check below.
        (Err(errors), _) if errors.iter().any(|e| e.field != "lines") => {
            return Err(ApiError::Validation(errors));
        }
        _ => (empty_order(station_id), true),
    };
    let command = SubmitOrder {
        order_id: id,
        station_id,
        requested_delivery_date: order.requested_delivery_date,
        notes: order.notes,
        lines: order.lines,
        accepted_at: write.received_at,
        order_date: date,
        cart: cart.id.map(|cart_id| CartCheckout { cart_id }),
    };
    let cart_id = cart.id;
    let (js, ns) = (&state.js, &state.ns);
    let precheck = async move {
        let Some(cart_id) = cart_id.filter(|_| !empty) else {
            return Err(ApiError::Validation(vec![super::error::FieldError::new(
                "items",
                "EMPTY_CART",
                "the cart is empty: put items in it first",
            )]));
        };
        match pending_checkout(js, ns, cart_id).await {
            Ok(Some(pending)) if pending.envelope.id != id => Err(ApiError::Refused(Refusal::new(
                RefusalCode::CheckoutPending,
                "This cart is being checked out by another request; wait for its order.",
            ))),
            Ok(_) => Ok(()),
            Err(e) => Err(ApiError::Unavailable(e.to_string())),
        }
    };
    let submission = Submission {
        command,
        request_hash: hash,
        precheck,
    };
    command_path::submit(&state, &user, &request_id, &write, submission, &OrderAnswer).await
}

fn empty_order(station_id: Uuid) -> ValidOrder {
    ValidOrder {
        station_id,
        requested_delivery_date: None,
        notes: None,
        lines: Vec::new(),
    }
}
