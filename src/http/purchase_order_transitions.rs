//! `POST /api/v1/purchase-orders/{id}/{confirm|ship|receive|close|cancel|invoice|archive}`:
//! thin handlers that turn a body into a transition and hand it to the command path.

use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::command_path::{self, Submission, request_hash};
use super::error::{ApiError, ApiResult};
use super::extract::{AuthUser, PathId, RequestId, ValidJson};
use super::purchase_orders::PurchaseOrderAnswer;
use super::state::AppState;
use super::write_request::WriteRequest;
use crate::db::purchase_orders;
use crate::domain::purchase_order_lifecycle::{
    ReceivedLine, Transition, TransitionRequester, plan_transition,
};
use crate::domain::roles::Scope;
use crate::messaging::command::CommandSpec;
use crate::messaging::commands::TransitionPurchaseOrder;

/// `confirm` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// The delivery date the supplier commits to (not before the order date).
    pub confirmed_delivery_date: NaiveDate,
}

/// `ship` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipBody {
    /// Carrier (≤ 100 characters).
    pub carrier: Option<String>,
    /// Tracking number (≤ 100 characters).
    pub tracking_number: Option<String>,
}

/// One counted line of a `receive`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceivedLineBody {
    /// The purchase-order line (1-based).
    pub line_number: i32,
    /// Units that arrived, 0 … 10 × ordered.
    pub received_quantity: i64,
    /// Note (≤ 500 characters).
    pub note: Option<String>,
}

/// `receive` body: lines not listed arrived in full.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBody {
    /// Lines counted differently from the order, or with a note.
    #[serde(default)]
    pub lines: Vec<ReceivedLineBody>,
}

/// `close` body: `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {}

/// `cancel` and `archive` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why (1–500 characters).
    pub reason: String,
}

/// `invoice` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceBody {
    /// Blue Whale's invoice number (≤ 50 characters).
    pub invoice_number: Option<String>,
}

macro_rules! transition_endpoint {
    ($name:ident, $verb:literal, $body:ty, $summary:literal, |$b:ident| $transition:expr) => {
        #[doc = $summary]
        #[utoipa::path(post, path = concat!("/api/v1/purchase-orders/{id}/", $verb),
            tag = "purchase orders", request_body = $body, summary = $summary,
            params(("id" = Uuid, Path, description = "Purchase-order id"),
                ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
                ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome"),
                ("If-Match" = Option<String>, Header, description = "\"<version>\": refuse (412) if the purchase order changed")),
            security(("bearer" = [])),
            responses((status = 202, body = command_path::CommandAccepted),
                (status = 200, body = purchase_orders::PurchaseOrderView),
                (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
                (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem),
                (status = 412, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
        pub async fn $name(
            State(state): State<AppState>,
            user: AuthUser,
            request_id: RequestId,
            PathId(id): PathId,
            write: WriteRequest,
            ValidJson($b): ValidJson<$body>,
        ) -> ApiResult<Response> {
            transition(&state, &user, &request_id, &write, id, $transition).await
        }
    };
}

transition_endpoint!(
    confirm,
    "confirm",
    ConfirmBody,
    "The supplier (or staff) confirms a REGISTERED purchase order with a delivery date.",
    |b| Transition::Confirm {
        confirmed_delivery_date: b.confirmed_delivery_date
    }
);
transition_endpoint!(
    ship,
    "ship",
    ShipBody,
    "The supplier (or staff) ships a CONFIRMED purchase order.",
    |b| Transition::Ship {
        carrier: b.carrier,
        tracking_number: b.tracking_number
    }
);
transition_endpoint!(
    receive,
    "receive",
    ReceiveBody,
    "The station (or staff) receives a SHIPPED purchase order, line quantities as counted.",
    |b| Transition::Receive {
        lines: b
            .lines
            .into_iter()
            .map(|l| ReceivedLine {
                line_number: l.line_number,
                received_quantity: l.received_quantity,
                note: l.note,
            })
            .collect(),
    }
);
transition_endpoint!(
    close,
    "close",
    CloseBody,
    "The station (or staff) closes a RECEIVED purchase order.",
    |_b| Transition::Close
);
transition_endpoint!(
    cancel,
    "cancel",
    ReasonBody,
    "Cancels a REGISTERED or CONFIRMED purchase order (its supplier: REGISTERED only).",
    |b| Transition::Cancel { reason: b.reason }
);
transition_endpoint!(
    invoice,
    "invoice",
    InvoiceBody,
    "Staff invoice a CLOSED purchase order.",
    |b| Transition::Invoice {
        invoice_number: b.invoice_number
    }
);
transition_endpoint!(
    archive,
    "archive",
    ReasonBody,
    "Archives a purchase order (ADMIN, MANAGER: any non-terminal status; HANDLER: INVOICED).",
    |b| Transition::Archive { reason: b.reason }
);

/// Validates, checks against the read model, and submits one transition.
async fn transition(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    id: Uuid,
    transition: Transition,
) -> ApiResult<Response> {
    let transition = transition
        .normalised()
        .map_err(|errors| ApiError::Validation(errors.into_iter().map(Into::into).collect()))?;
    let expected_version = write.named_version();
    let command = TransitionPurchaseOrder {
        purchase_order_id: id,
        expected_version,
        transition,
    };
    let request_hash = request_hash(TransitionPurchaseOrder::TYPE, &command);
    let requester = TransitionRequester {
        role: user.role,
        org_id: user.org_id,
        expected_version,
    };
    let planned = command.transition.clone();
    // The same decision the worker makes under the lock, on the current read model: refusals
    // are answered at once and publish nothing. A race past it is refused by the worker.
    let precheck = async move {
        let po = purchase_orders::find(&state.db, Scope::All, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let current = po
            .lifecycle_state()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        plan_transition(&current, planned, requester).map_err(ApiError::Refused)?;
        write.if_match().map(|_| ())
    };
    let submission = Submission {
        command,
        request_hash,
        precheck,
    };
    command_path::submit(
        state,
        user,
        request_id,
        write,
        submission,
        &PurchaseOrderAnswer,
    )
    .await
}
