//! The order submission body, and its parsing into a validated order.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::FieldError;
use crate::domain::order::OrderLine;
use crate::domain::text::text_issues;
use crate::messaging::command::CommandSpec;
use crate::messaging::commands::SubmitOrder;

/// Most lines an order may have.
pub const MAX_LINES: usize = 200;
/// Largest quantity of one line, in conditioning units.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Longest notes, in characters.
pub const MAX_NOTES_CHARS: usize = 2_000;

/// One requested line.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineRequest {
    /// Product.
    pub product_id: Uuid,
    /// Supplier to buy it from.
    pub supplier_id: Uuid,
    /// Conditioning units, 1–1 000 000.
    pub quantity: i64,
}

/// `POST /api/v1/orders` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitOrderRequest {
    /// Ordering station.
    pub station_id: Uuid,
    /// Delivery date asked for (not before the order date).
    pub requested_delivery_date: Option<NaiveDate>,
    /// Free text for the suppliers.
    pub notes: Option<String>,
    /// 1–200 lines, each (product, supplier) at most once.
    pub lines: Vec<OrderLineRequest>,
}

/// A submission that passed validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidOrder {
    /// Ordering station.
    pub station_id: Uuid,
    /// Delivery date asked for.
    pub requested_delivery_date: Option<NaiveDate>,
    /// Notes, trimmed, none if empty.
    pub notes: Option<String>,
    /// Lines.
    pub lines: Vec<OrderLine>,
}

impl ValidOrder {
    /// Hex SHA-256 of the canonical form: tells a replay from a reused idempotency key.
    pub fn request_hash(&self) -> String {
        super::command_path::request_hash(SubmitOrder::TYPE, self)
    }
}

impl SubmitOrderRequest {
    /// Checks every rule and reports every failing field at once.
    pub fn validate(self, order_date: NaiveDate) -> Result<ValidOrder, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.lines.is_empty() || self.lines.len() > MAX_LINES {
            errors.push(FieldError::new(
                "lines",
                "LINE_COUNT",
                format!(
                    "an order has 1 to {MAX_LINES} lines, got {}",
                    self.lines.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                errors.push(FieldError::new(
                    format!("lines[{i}].quantity"),
                    "OUT_OF_RANGE",
                    format!(
                        "quantity must be an integer from 1 to {MAX_QUANTITY}, got {}",
                        line.quantity
                    ),
                ));
            }
            if !seen.insert((line.product_id, line.supplier_id)) {
                errors.push(FieldError::new(
                    format!("lines[{i}]"),
                    "DUPLICATE_LINE",
                    format!(
                        "product {} from supplier {} appears more than once; combine the quantities",
                        line.product_id, line.supplier_id
                    ),
                ));
            }
            lines.push(OrderLine {
                product_id: line.product_id,
                supplier_id: line.supplier_id,
                quantity: u32::try_from(line.quantity).unwrap_or(0),
            });
        }
        let notes = self
            .notes
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if let Some(notes) = &notes {
            errors.extend(
                text_issues(notes, "notes", MAX_NOTES_CHARS)
                    .into_iter()
                    .map(FieldError::from),
            );
        }
        if let Some(date) = self.requested_delivery_date.filter(|d| *d < order_date) {
            errors.push(FieldError::new(
                "requested_delivery_date",
                "IN_THE_PAST",
                format!("requested delivery date {date} is before the order date {order_date}"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidOrder {
            station_id: self.station_id,
            requested_delivery_date: self.requested_delivery_date,
            notes,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(p: u128, s: u128, q: i64) -> OrderLineRequest {
        OrderLineRequest {
            product_id: Uuid::from_u128(p),
            supplier_id: Uuid::from_u128(s),
            quantity: q,
        }
    }

    fn request(lines: Vec<OrderLineRequest>) -> SubmitOrderRequest {
        SubmitOrderRequest {
            station_id: Uuid::from_u128(9),
            requested_delivery_date: None,
            notes: None,
            lines,
        }
    }

    const TODAY: NaiveDate = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();

    fn fields(result: Result<ValidOrder, Vec<FieldError>>) -> Vec<(String, String)> {
        result
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn reports_every_failing_field() {
        let mut bad = request(vec![line(1, 1, 0), line(2, 1, 1_000_001), line(1, 1, 5)]);
        bad.requested_delivery_date = NaiveDate::from_ymd_opt(2026, 11, 23);
        bad.notes = Some("x".repeat(MAX_NOTES_CHARS + 1));
        assert_eq!(
            fields(bad.validate(TODAY)),
            [
                ("lines[0].quantity".to_owned(), "OUT_OF_RANGE".to_owned()),
                ("lines[1].quantity".to_owned(), "OUT_OF_RANGE".to_owned()),
                ("lines[2]".to_owned(), "DUPLICATE_LINE".to_owned()),
                ("notes".to_owned(), "TOO_LONG".to_owned()),
                (
                    "requested_delivery_date".to_owned(),
                    "IN_THE_PAST".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn notes_refuse_control_characters() {
        let mut bad = request(vec![line(1, 1, 1)]);
        bad.notes = Some("deliver\u{0}early".into());
        assert_eq!(
            fields(bad.validate(TODAY)),
            [("notes".to_owned(), "INVALID_CHARACTERS".to_owned())]
        );
    }

    #[test]
    fn line_count_bounds() {
        assert_eq!(fields(request(vec![]).validate(TODAY))[0].1, "LINE_COUNT");
        let many = (0..=MAX_LINES as u128).map(|i| line(i, 1, 1)).collect();
        assert_eq!(fields(request(many).validate(TODAY))[0].1, "LINE_COUNT");
        let max = (0..MAX_LINES as u128).map(|i| line(i, 1, 1)).collect();
        assert!(request(max).validate(TODAY).is_ok());
    }

    #[test]
    fn same_product_from_two_suppliers_is_two_lines() {
        let ok = request(vec![line(1, 1, 1), line(1, 2, MAX_QUANTITY)])
            .validate(TODAY)
            .unwrap();
        assert_eq!(ok.lines[1].quantity, 1_000_000);
    }

    #[test]
    fn hash_ignores_blank_notes_and_depends_on_content() {
        let a = request(vec![line(1, 1, 3)]).validate(TODAY).unwrap();
        let mut with_blank_notes = request(vec![line(1, 1, 3)]);
        with_blank_notes.notes = Some("   ".into());
        assert_eq!(
            a.request_hash(),
            with_blank_notes.validate(TODAY).unwrap().request_hash()
        );
        let b = request(vec![line(1, 1, 4)]).validate(TODAY).unwrap();
        assert_ne!(a.request_hash(), b.request_hash());
        assert_eq!(a.request_hash().len(), 64);
    }
}
