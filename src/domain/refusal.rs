//! A business refusal of a command: a typed outcome with a stable code, recorded with the
//! command (REJECTED) and rendered by the ingress as problem+json. Never a retry.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::rejection::Rejection;

/// Stable machine code of a refusal; the ingress maps each to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefusalCode {
    /// Pricing refused the order (422).
    OrderRejected,
    /// The aggregate is not in a status the command starts from (409).
    InvalidTransition,
    /// The command was issued against another version of the aggregate (412).
    PreconditionFailed,
    /// The aggregate does not exist or is not visible to the issuer (404).
    NotFound,
    /// The issuer's role may never do this (403).
    Forbidden,
    /// A field is invalid given the aggregate's state (422).
    ValidationFailed,
    /// The webhook endpoint is disabled, so nothing can be delivered to it (409).
    WebhookEndpointDisabled,
    /// The dead letter was replayed or discarded already (409).
    DeadLetterNotOpen,
    /// The dead letter's payload cannot be published as a command again (409).
    DeadLetterNotReplayable,
    /// The contract is not a DRAFT, so its terms are fixed (409).
    ContractNotEditable,
    /// Activating would make two contracts price one product of one supplier on one day (409).
    ContractOverlap,
    /// Another contract has this number (409).
    ContractNumberTaken,
    /// The cart is being checked out by another request (409).
    CheckoutPending,
    /// The sales order has its invoice already (409).
    SalesOrderInvoiced,
    /// Some purchase order of the sales order has not been received yet (409).
    PurchaseOrdersNotReceived,
    /// Every purchase order of the sales order was cancelled: nothing to bill (409).
    NothingToInvoice,
    /// Another product has this code (409).
    ProductCodeTaken,
    /// Another supplier has this code (409).
    SupplierCodeTaken,
    /// Another station group has this code (409).
    StationGroupCodeTaken,
    /// Another station has this code (409).
    StationCodeTaken,
    /// Another user has this e-mail, whatever its case (409).
    UserEmailTaken,
    /// The user was erased: their account takes no changes (409).
    UserErased,
    /// An administrator asked to deactivate, demote or erase their own account (403).
    OwnAccountProtected,
}

impl RefusalCode {
    /// The wire form, identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::OrderRejected => "ORDER_REJECTED",
            RefusalCode::InvalidTransition => "INVALID_TRANSITION",
            RefusalCode::PreconditionFailed => "PRECONDITION_FAILED",
            RefusalCode::NotFound => "NOT_FOUND",
            RefusalCode::Forbidden => "FORBIDDEN",
            RefusalCode::ValidationFailed => "VALIDATION_FAILED",
            RefusalCode::WebhookEndpointDisabled => "WEBHOOK_ENDPOINT_DISABLED",
            RefusalCode::DeadLetterNotOpen => "DEAD_LETTER_NOT_OPEN",
            RefusalCode::DeadLetterNotReplayable => "DEAD_LETTER_NOT_REPLAYABLE",
            RefusalCode::ContractNotEditable => "CONTRACT_NOT_EDITABLE",
            RefusalCode::ContractOverlap => "CONTRACT_OVERLAP",
            RefusalCode::ContractNumberTaken => "CONTRACT_NUMBER_TAKEN",
            RefusalCode::CheckoutPending => "CHECKOUT_PENDING",
            RefusalCode::SalesOrderInvoiced => "SALES_ORDER_INVOICED",
            RefusalCode::PurchaseOrdersNotReceived => "PURCHASE_ORDERS_NOT_RECEIVED",
            RefusalCode::NothingToInvoice => "NOTHING_TO_INVOICE",
            RefusalCode::ProductCodeTaken => "PRODUCT_CODE_TAKEN",
            RefusalCode::SupplierCodeTaken => "SUPPLIER_CODE_TAKEN",
            RefusalCode::StationGroupCodeTaken => "STATION_GROUP_CODE_TAKEN",
            RefusalCode::StationCodeTaken => "STATION_CODE_TAKEN",
            RefusalCode::UserEmailTaken => "USER_EMAIL_TAKEN",
            RefusalCode::UserErased => "USER_ERASED",
            RefusalCode::OwnAccountProtected => "OWN_ACCOUNT_PROTECTED",
        }
    }
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failing field of a refused command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldIssue {
    /// JSON path in the request (`lines[2].received_quantity`).
    pub field: String,
    /// Machine code, e.g. `OUT_OF_RANGE`.
    pub code: String,
    /// Human explanation.
    pub message: String,
}

impl FieldIssue {
    /// A field issue.
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Why a command was refused: `{code, detail, errors}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct Refusal {
    /// Stable code.
    pub code: RefusalCode,
    /// Explanation of this occurrence.
    pub detail: String,
    /// Failing fields, if any.
    #[serde(default)]
    pub errors: Vec<FieldIssue>,
}

impl Refusal {
    /// A refusal without field errors.
    pub fn new(code: RefusalCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A validation refusal listing the failing fields.
    pub fn invalid(errors: Vec<FieldIssue>) -> Self {
        Self {
            code: RefusalCode::ValidationFailed,
            detail: "The request is invalid; see errors for each failing field.".to_owned(),
            errors,
        }
    }
}

impl From<&Rejection> for Refusal {
    /// An order rejection: one field error per failing line (`station_id` for order-level ones).
    fn from(rejection: &Rejection) -> Self {
        Self {
            code: RefusalCode::OrderRejected,
            detail: "The order was processed and rejected; see errors for each failing line."
                .to_owned(),
            errors: rejection
                .lines
                .iter()
                .map(|line| FieldIssue {
                    field: line
                        .index
                        .map_or_else(|| "station_id".to_owned(), |i| format!("lines[{i}]")),
                    code: line.code.as_str().to_owned(),
                    message: line.message.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rejection::{LineRejection, RejectionCode};

    #[test]
    fn rejection_becomes_field_errors() {
        let rejection = Rejection::from_lines(vec![
            LineRejection::line(1, RejectionCode::NoActiveContract, "no contract"),
            LineRejection::order_level(RejectionCode::InactiveStation, "inactive"),
        ])
        .unwrap();
        let refusal = Refusal::from(&rejection);
        assert_eq!(refusal.code, RefusalCode::OrderRejected);
        let fields: Vec<_> = refusal
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("station_id", "INACTIVE_STATION"),
                ("lines[1]", "NO_ACTIVE_CONTRACT")
            ]
        );
    }

    #[test]
    fn wire_form() {
        let refusal = Refusal::new(RefusalCode::InvalidTransition, "x");
        assert_eq!(
            serde_json::to_value(&refusal).unwrap(),
            serde_json::json!({"code": "INVALID_TRANSITION", "detail": "x", "errors": []})
        );
        for code in [
            RefusalCode::OrderRejected,
            RefusalCode::InvalidTransition,
            RefusalCode::PreconditionFailed,
            RefusalCode::NotFound,
            RefusalCode::Forbidden,
            RefusalCode::ValidationFailed,
            RefusalCode::SalesOrderInvoiced,
            RefusalCode::PurchaseOrdersNotReceived,
            RefusalCode::NothingToInvoice,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
