//! What a purchase-order transition changes: the step with its details, checked against the
//! order as it stands, gives the field updates and the history entry (DESIGN.md §5.4).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::purchase_order_status::PurchaseOrderStatus;
use super::purchase_order_transitions::{
    PurchaseOrderParties, TransitionKind, TransitionRefusal, decide_transition,
};
use super::refusal::{FieldIssue, Refusal, RefusalCode};
use super::roles::Role;
use super::text::text_issues;

/// Longest carrier name and tracking number.
pub const MAX_SHIPPING_TEXT: usize = 100;
/// Longest cancellation or archive reason, and reception note.
pub const MAX_REASON: usize = 500;
/// Longest invoice number.
pub const MAX_INVOICE_NUMBER: usize = 50;
/// A line may be received up to this many times its ordered quantity (a typing slip beyond).
pub const MAX_RECEIVED_FACTOR: i64 = 10;

/// A requested transition with its details, as carried by the command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transition {
    /// The supplier commits to a delivery date.
    Confirm {
        /// Not before the order date.
        confirmed_delivery_date: NaiveDate,
    },
    /// The goods left.
    Ship {
        /// Carrier name.
        carrier: Option<String>,
        /// Carrier's tracking number.
        tracking_number: Option<String>,
    },
    /// The station counted what arrived; lines not listed arrived in full.
    Receive {
        /// Lines received in another quantity than ordered, or with a note.
        lines: Vec<ReceivedLine>,
    },
    /// The station is done with it.
    Close,
    /// Called off before shipping.
    Cancel {
        /// Why.
        reason: String,
    },
    /// Blue Whale invoiced the station for it.
    Invoice {
        /// Blue Whale's invoice number.
        invoice_number: Option<String>,
    },
    /// Filed away.
    Archive {
        /// Why.
        reason: String,
    },
}

/// One line as counted at reception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedLine {
    /// The purchase-order line (1-based).
    pub line_number: i32,
    /// Conditioning units that arrived, 0 … 10 × ordered.
    pub received_quantity: i64,
    /// Free text about this line.
    pub note: Option<String>,
}

impl Transition {
    /// Which lifecycle step this is.
    pub fn kind(&self) -> TransitionKind {
        match self {
            Transition::Confirm { .. } => TransitionKind::Confirm,
            Transition::Ship { .. } => TransitionKind::Ship,
            Transition::Receive { .. } => TransitionKind::Receive,
            Transition::Close => TransitionKind::Close,
            Transition::Cancel { .. } => TransitionKind::Cancel,
            Transition::Invoice { .. } => TransitionKind::Invoice,
            Transition::Archive { .. } => TransitionKind::Archive,
        }
    }

    /// Checks what needs no purchase order: lengths and required texts. Texts are trimmed,
    /// and blank optional ones become absent.
    pub fn normalised(self) -> Result<Transition, Vec<FieldIssue>> {
        let mut errors = Vec::new();
        let transition = match self {
            Transition::Ship {
                carrier,
                tracking_number,
            } => Transition::Ship {
                carrier: optional_text(carrier, "carrier", MAX_SHIPPING_TEXT, &mut errors),
                tracking_number: optional_text(
                    tracking_number,
                    "tracking_number",
                    MAX_SHIPPING_TEXT,
                    &mut errors,
                ),
            },
            Transition::Receive { lines } => Transition::Receive {
                lines: lines
                    .into_iter()
                    .enumerate()
                    .map(|(i, line)| ReceivedLine {
                        note: optional_text(
                            line.note,
                            &format!("lines[{i}].note"),
                            MAX_REASON,
                            &mut errors,
                        ),
                        ..line
                    })
                    .collect(),
            },
            Transition::Cancel { reason } => Transition::Cancel {
                reason: required_text(reason, "reason", MAX_REASON, &mut errors),
            },
            Transition::Archive { reason } => Transition::Archive {
                reason: required_text(reason, "reason", MAX_REASON, &mut errors),
            },
            Transition::Invoice { invoice_number } => Transition::Invoice {
                invoice_number: optional_text(
                    invoice_number,
                    "invoice_number",
                    MAX_INVOICE_NUMBER,
                    &mut errors,
                ),
            },
            other => other,
        };
        if errors.is_empty() {
            Ok(transition)
        } else {
            Err(errors)
        }
    }
}

fn optional_text(
    value: Option<String>,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldIssue>,
) -> Option<String> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(v) = &value {
        check_text(v, field, max, errors);
    }
    value
}

fn required_text(value: String, field: &str, max: usize, errors: &mut Vec<FieldIssue>) -> String {
    let value = value.trim().to_owned();
    if value.is_empty() {
        errors.push(FieldIssue::new(
            field,
            "REQUIRED",
            format!("{field} is required"),
        ));
    } else {
        check_text(&value, field, max, errors);
    }
    value
}

fn check_text(value: &str, field: &str, max: usize, errors: &mut Vec<FieldIssue>) {
    errors.extend(text_issues(value, field, max));
}

/// A purchase-order line as ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderedLine {
    /// 1-based position.
    pub line_number: i32,
    /// Conditioning units ordered.
    pub quantity: i32,
}

/// What the decision needs to know about the purchase order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseOrderState {
    /// Supplier and station.
    pub parties: PurchaseOrderParties,
    /// Current status.
    pub status: PurchaseOrderStatus,
    /// Current version.
    pub version: i32,
    /// Order date (a delivery cannot be confirmed before it).
    pub order_date: NaiveDate,
    /// Its lines.
    pub lines: Vec<OrderedLine>,
}

/// Who asks, and against which version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionRequester {
    /// Role at issue time.
    pub role: Role,
    /// Organisation (none for staff).
    pub org_id: Option<Uuid>,
    /// The version the requester saw (`If-Match`), if it gave one.
    pub expected_version: Option<i32>,
}

/// The reception of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineReception {
    /// 1-based position.
    pub line_number: i32,
    /// Ordered.
    pub ordered_quantity: i32,
    /// Arrived.
    pub received_quantity: i32,
    /// received − ordered.
    pub discrepancy: i32,
    /// Note.
    pub note: Option<String>,
}

/// The accepted transition: the new status and every field it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionPlan {
    /// Status before.
    pub from: PurchaseOrderStatus,
    /// Status after.
    pub to: PurchaseOrderStatus,
    /// The details as accepted (normalised), kept in the status history.
    pub transition: Transition,
    /// Every line's reception, for a receive.
    pub receptions: Vec<LineReception>,
}

impl TransitionPlan {
    /// Whether a reception differs from the order on some line.
    pub fn has_discrepancy(&self) -> bool {
        self.receptions.iter().any(|r| r.discrepancy != 0)
    }

    /// The reason the history shows (cancel and archive).
    pub fn reason(&self) -> Option<&str> {
        match &self.transition {
            Transition::Cancel { reason } | Transition::Archive { reason } => Some(reason),
            _ => None,
        }
    }
}

/// Decides a transition against the purchase order as it stands. Checks run in the order the
/// HTTP contract ranks them: visibility (404), role (403), version (412), status (409), then
/// the fields that depend on the order (422).
pub fn plan_transition(
    state: &PurchaseOrderState,
    transition: Transition,
    requester: TransitionRequester,
) -> Result<TransitionPlan, Refusal> {
    let kind = transition.kind();
    let decided = decide_transition(
        kind,
        requester.role,
        requester.org_id,
        state.parties,
        state.status,
    );
    let to = match decided {
        Err(TransitionRefusal::NotVisible) => {
            return Err(Refusal::new(
                RefusalCode::NotFound,
                "No such purchase order.",
            ));
        }
        Err(TransitionRefusal::Forbidden) => {
            return Err(Refusal::new(
                RefusalCode::Forbidden,
                format!(
                    "the {} role may not {kind} a purchase order",
                    requester.role.as_str()
                ),
            ));
        }
        _ if requester
            .expected_version
            .is_some_and(|v| v != state.version) =>
        {
            return Err(Refusal::new(
                RefusalCode::PreconditionFailed,
                format!(
                    "the purchase order is at version {}, not {} (If-Match)",
                    state.version,
                    requester.expected_version.unwrap_or_default()
                ),
            ));
        }
        Err(TransitionRefusal::InvalidTransition { from, to }) => {
            return Err(Refusal::new(
                RefusalCode::InvalidTransition,
                format!(
                    "cannot {kind} a purchase order that is {from}: {from} → {to} is not allowed"
                ),
            ));
        }
        Ok(to) => to,
    };
    let receptions = match &transition {
        Transition::Confirm {
            confirmed_delivery_date,
        } if *confirmed_delivery_date < state.order_date => {
            return Err(Refusal::invalid(vec![FieldIssue::new(
                "confirmed_delivery_date",
                "BEFORE_ORDER_DATE",
                format!(
                    "confirmed delivery date {confirmed_delivery_date} is before the order date {}",
                    state.order_date
                ),
            )]));
        }
        Transition::Receive { lines } => {
            receptions(&state.lines, lines).map_err(Refusal::invalid)?
        }
        _ => Vec::new(),
    };
    Ok(TransitionPlan {
        from: state.status,
        to,
        transition,
        receptions,
    })
}

/// Every ordered line's reception: listed lines as counted, the others in full.
fn receptions(
    ordered: &[OrderedLine],
    counted: &[ReceivedLine],
) -> Result<Vec<LineReception>, Vec<FieldIssue>> {
    let mut errors = Vec::new();
    let mut result: Vec<LineReception> = ordered
        .iter()
        .map(|l| LineReception {
            line_number: l.line_number,
            ordered_quantity: l.quantity,
            received_quantity: l.quantity,
            discrepancy: 0,
            note: None,
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in counted.iter().enumerate() {
        let Some(reception) = result
            .iter_mut()
            .find(|r| r.line_number == line.line_number)
        else {
            errors.push(FieldIssue::new(
                format!("lines[{i}].line_number"),
                "UNKNOWN_LINE",
                format!("the purchase order has no line {}", line.line_number),
            ));
            continue;
        };
        if !seen.insert(line.line_number) {
            errors.push(FieldIssue::new(
                format!("lines[{i}].line_number"),
                "DUPLICATE_LINE",
                format!("line {} is listed more than once", line.line_number),
            ));
            continue;
        }
        let max = i64::from(reception.ordered_quantity) * MAX_RECEIVED_FACTOR;
        if !(0..=max).contains(&line.received_quantity) {
            errors.push(FieldIssue::new(
                format!("lines[{i}].received_quantity"),
                "OUT_OF_RANGE",
                format!(
                    "received quantity must be from 0 to {max} ({MAX_RECEIVED_FACTOR} × ordered), got {}",
                    line.received_quantity
                ),
            ));
            continue;
        }
        let received = i32::try_from(line.received_quantity).unwrap_or(i32::MAX);
        reception.received_quantity = received;
        reception.discrepancy = received - reception.ordered_quantity;
        reception.note = line.note.clone();
    }
    if errors.is_empty() {
        Ok(result)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PurchaseOrderStatus::*;

    const STATION: Uuid = Uuid::from_u128(1);
    const SUPPLIER: Uuid = Uuid::from_u128(3);

    fn state(status: PurchaseOrderStatus) -> PurchaseOrderState {
        PurchaseOrderState {
            parties: PurchaseOrderParties {
                supplier_id: SUPPLIER,
                station_id: STATION,
            },
            status,
            version: 3,
            order_date: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            lines: vec![
                OrderedLine {
                    line_number: 1,
                    quantity: 50,
                },
                OrderedLine {
                    line_number: 2,
                    quantity: 3,
                },
            ],
        }
    }

    fn by(role: Role, org_id: Option<Uuid>, expected_version: Option<i32>) -> TransitionRequester {
        TransitionRequester {
            role,
            org_id,
            expected_version,
        }
    }

    fn code(result: Result<TransitionPlan, Refusal>) -> RefusalCode {
        result.unwrap_err().code
    }

    #[test]
    fn checks_run_in_contract_order() {
        let confirm = || Transition::Confirm {
            confirmed_delivery_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        };
        let stranger = by(Role::Supplier, Some(Uuid::from_u128(9)), Some(1));
        assert_eq!(
            code(plan_transition(&state(Shipped), confirm(), stranger)),
            RefusalCode::NotFound
        );
        let station = by(Role::Station, Some(STATION), Some(1));
        assert_eq!(
            code(plan_transition(&state(Shipped), confirm(), station)),
            RefusalCode::Forbidden
        );
        let stale = by(Role::Supplier, Some(SUPPLIER), Some(1));
        assert_eq!(
            code(plan_transition(&state(Shipped), confirm(), stale)),
            RefusalCode::PreconditionFailed
        );
        let current = by(Role::Supplier, Some(SUPPLIER), Some(3));
        let refusal = plan_transition(&state(Shipped), confirm(), current).unwrap_err();
        assert_eq!(refusal.code, RefusalCode::InvalidTransition);
        assert!(refusal.detail.contains("SHIPPED") && refusal.detail.contains("CONFIRMED"));
        let refusal = plan_transition(&state(Registered), confirm(), current).unwrap_err();
        assert_eq!(refusal.code, RefusalCode::ValidationFailed);
        assert_eq!(refusal.errors[0].field, "confirmed_delivery_date");
    }

    #[test]
    fn confirm_on_the_order_date_is_fine() {
        let plan = plan_transition(
            &state(Registered),
            Transition::Confirm {
                confirmed_delivery_date: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            },
            by(Role::Handler, None, None),
        )
        .unwrap();
        assert_eq!((plan.from, plan.to), (Registered, Confirmed));
        assert!(plan.receptions.is_empty());
    }

    #[test]
    fn reception_fills_unlisted_lines_and_records_discrepancies() {
        let plan = plan_transition(
            &state(Shipped),
            Transition::Receive {
                lines: vec![ReceivedLine {
                    line_number: 1,
                    received_quantity: 48,
                    note: Some("2 crushed".into()),
                }],
            },
            by(Role::Station, Some(STATION), None),
        )
        .unwrap();
        assert_eq!(
            plan.receptions
                .iter()
                .map(|r| (r.line_number, r.received_quantity, r.discrepancy))
                .collect::<Vec<_>>(),
            [(1, 48, -2), (2, 3, 0)]
        );
        assert!(plan.has_discrepancy());
    }

    #[test]
    fn reception_refuses_unknown_duplicate_and_absurd_lines() {
        let line = |n, q| ReceivedLine {
            line_number: n,
            received_quantity: q,
            note: None,
        };
        let refusal = plan_transition(
            &state(Shipped),
            Transition::Receive {
                lines: vec![
                    line(7, 1),
                    line(1, 501),
                    line(2, -1),
                    line(2, 0),
                    line(2, 1),
                ],
            },
            by(Role::Admin, None, None),
        )
        .unwrap_err();
        assert_eq!(
            refusal
                .errors
                .iter()
                .map(|e| (e.field.as_str(), e.code.as_str()))
                .collect::<Vec<_>>(),
            [
                ("lines[0].line_number", "UNKNOWN_LINE"),
                ("lines[1].received_quantity", "OUT_OF_RANGE"),
                ("lines[2].received_quantity", "OUT_OF_RANGE"),
                ("lines[3].line_number", "DUPLICATE_LINE"),
                ("lines[4].line_number", "DUPLICATE_LINE"),
            ]
        );
        // 10 × ordered is still accepted.
        assert!(
            plan_transition(
                &state(Shipped),
                Transition::Receive {
                    lines: vec![line(1, 500)]
                },
                by(Role::Admin, None, None)
            )
            .is_ok()
        );
    }

    #[test]
    fn texts_are_trimmed_bounded_and_required() {
        let ship = Transition::Ship {
            carrier: Some("  Geodis ".into()),
            tracking_number: Some("   ".into()),
        }
        .normalised()
        .unwrap();
        assert_eq!(
            ship,
            Transition::Ship {
                carrier: Some("Geodis".into()),
                tracking_number: None
            }
        );
        let errors = Transition::Cancel { reason: " ".into() }
            .normalised()
            .unwrap_err();
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code.as_str()),
            ("reason", "REQUIRED")
        );
        let errors = Transition::Invoice {
            invoice_number: Some("x".repeat(51)),
        }
        .normalised()
        .unwrap_err();
        assert_eq!(errors[0].code, "TOO_LONG");
        let errors = Transition::Archive {
            reason: "bad\u{0}byte".into(),
        }
        .normalised()
        .unwrap_err();
        assert_eq!(errors[0].code, "INVALID_CHARACTERS");
    }

    #[test]
    fn wire_form_is_tagged_by_action() {
        let t: Transition = serde_json::from_value(serde_json::json!({"action": "close"})).unwrap();
        assert_eq!(t, Transition::Close);
        let t: Transition =
            serde_json::from_value(serde_json::json!({"action": "cancel", "reason": "duplicate"}))
                .unwrap();
        assert_eq!(t.kind(), TransitionKind::Cancel);
    }
}
