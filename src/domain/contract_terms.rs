//! The terms of a master contract (header and lines) and what makes them valid (DESIGN §5.2):
//! checked by the ingress before anything is published and again by the worker.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalogue::PriceBreak;
use super::refusal::FieldIssue;
use super::text::text_issues;

/// The only currency contracts are made in.
pub const CURRENCY: &str = "EUR";
/// Most lines one contract holds.
pub const MAX_LINES: usize = 500;
/// Most price breaks one line holds.
pub const MAX_BREAKS: usize = 20;
/// Longest contract number.
pub const MAX_NUMBER_CHARS: usize = 50;
/// Longest notes.
pub const MAX_NOTES_CHARS: usize = 2000;
/// Largest quantity a minimum or a break names (as an order line's).
pub const MAX_QUANTITY: u32 = 1_000_000;
/// VAT rate of a line that names none.
pub const DEFAULT_TAX_RATE: Decimal = Decimal::from_parts(2000, 0, 0, false, 2);

/// A contract's header: everything but its lines and lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractHeader {
    /// The supplier granting the terms.
    pub supplier_id: Uuid,
    /// First day of validity.
    pub valid_from: NaiveDate,
    /// Last day of validity (inclusive).
    pub valid_until: NaiveDate,
    /// ISO currency, [`CURRENCY`].
    pub currency: String,
    /// Smallest purchase order (excluding VAT) the supplier accepts.
    pub minimum_order_value: Option<Decimal>,
    /// Blue Whale's fee on top of the supplier's price, in percent (sales orders).
    pub platform_fee_percent: Decimal,
    /// Internal notes.
    pub notes: Option<String>,
}

/// The terms of one product in a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractLineTerms {
    /// The product.
    pub product_id: Uuid,
    /// Price per conditioning unit excluding VAT.
    pub unit_price: Decimal,
    /// Fewest conditioning units an order line may ask for.
    pub min_order_quantity: u32,
    /// Quantity reductions, ascending.
    pub price_breaks: Vec<PriceBreak>,
    /// VAT rate in percent.
    pub tax_rate: Decimal,
    /// The supplier's own reference for the product.
    #[serde(default)]
    pub supplier_reference: Option<String>,
}

/// Longest supplier reference.
pub const MAX_REFERENCE_CHARS: usize = 100;

/// Whether a decimal has at most two decimals (18.50, 18.5 and 18.500 all do).
fn at_most_two_decimals(value: Decimal) -> bool {
    value.normalize().scale() <= 2
}

/// Largest amount `numeric(12, 2)` stores.
fn fits_money(value: Decimal) -> bool {
    value.abs() < Decimal::from(10_000_000_000_i64)
}

fn percent_issue(field: &str, value: Decimal, zero_allowed: bool) -> Option<FieldIssue> {
    let low_ok = if zero_allowed {
        value >= Decimal::ZERO
    } else {
        value > Decimal::ZERO
    };
    let range = if zero_allowed { "[0, 100)" } else { "(0, 100)" };
    if !low_ok || value >= Decimal::ONE_HUNDRED {
        Some(FieldIssue::new(
            field,
            "OUT_OF_RANGE",
            format!("{field} must be in {range} percent"),
        ))
    } else if !at_most_two_decimals(value) {
        Some(FieldIssue::new(
            field,
            "TOO_MANY_DECIMALS",
            format!("{field} has at most 2 decimals"),
        ))
    } else {
        None
    }
}

/// The issues of a contract number chosen by hand.
pub fn number_issues(number: &str) -> Vec<FieldIssue> {
    let mut issues = text_issues(number, "number", MAX_NUMBER_CHARS);
    if number.trim().is_empty() || number.chars().any(char::is_whitespace) {
        issues.push(FieldIssue::new(
            "number",
            "INVALID_FORMAT",
            "number is one word without spaces, e.g. MC-2027-0001",
        ));
    }
    issues
}

/// The issues of a header, each naming its field.
pub fn header_issues(header: &ContractHeader) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    if header.valid_until < header.valid_from {
        issues.push(FieldIssue::new(
            "valid_until",
            "BEFORE_VALID_FROM",
            "valid_until is on or after valid_from",
        ));
    }
    if header.currency != CURRENCY {
        issues.push(FieldIssue::new(
            "currency",
            "UNSUPPORTED_CURRENCY",
            format!("contracts are in {CURRENCY}"),
        ));
    }
    if let Some(minimum) = header.minimum_order_value {
        if minimum < Decimal::ZERO || !fits_money(minimum) {
            issues.push(FieldIssue::new(
                "minimum_order_value",
                "OUT_OF_RANGE",
                "minimum_order_value is between 0 and 9999999999.99",
            ));
        } else if !at_most_two_decimals(minimum) {
            issues.push(FieldIssue::new(
                "minimum_order_value",
                "TOO_MANY_DECIMALS",
                "minimum_order_value has at most 2 decimals",
            ));
        }
    }
    issues.extend(percent_issue(
        "platform_fee_percent",
        header.platform_fee_percent,
        true,
    ));
    if let Some(notes) = &header.notes {
        issues.extend(text_issues(notes, "notes", MAX_NOTES_CHARS));
    }
    issues
}

/// The issues of a contract's lines, each naming its field (`lines[2].unit_price`).
pub fn line_issues(lines: &[ContractLineTerms]) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    if lines.is_empty() || lines.len() > MAX_LINES {
        issues.push(FieldIssue::new(
            "lines",
            "COUNT_OUT_OF_RANGE",
            format!("a contract has 1 to {MAX_LINES} lines"),
        ));
    }
    let mut first_line_of: HashMap<Uuid, usize> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        if let Some(first) = first_line_of.insert(line.product_id, i) {
            first_line_of.insert(line.product_id, first);
            issues.push(FieldIssue::new(
                field("product_id"),
                "DUPLICATE_PRODUCT",
                format!("this product has a line already (lines[{first}])"),
            ));
        }
        if line.unit_price <= Decimal::ZERO || !fits_money(line.unit_price) {
            issues.push(FieldIssue::new(
                field("unit_price"),
                "OUT_OF_RANGE",
                "unit_price is more than 0 and at most 9999999999.99",
            ));
        } else if !at_most_two_decimals(line.unit_price) {
            issues.push(FieldIssue::new(
                field("unit_price"),
                "TOO_MANY_DECIMALS",
                "unit_price has at most 2 decimals",
            ));
        }
        if !(1..=MAX_QUANTITY).contains(&line.min_order_quantity) {
            issues.push(FieldIssue::new(
                field("min_order_quantity"),
                "OUT_OF_RANGE",
                format!("min_order_quantity is 1 to {MAX_QUANTITY}"),
            ));
        }
        issues.extend(percent_issue(&field("tax_rate"), line.tax_rate, true));
        if let Some(reference) = &line.supplier_reference {
            issues.extend(text_issues(
                reference,
                &field("supplier_reference"),
                MAX_REFERENCE_CHARS,
            ));
        }
        issues.extend(break_issues(i, &line.price_breaks));
    }
    issues
}

/// What the database knows of the organisations and products a contract names.
#[derive(Debug, Clone, Default)]
pub struct KnownReferences {
    /// The supplier's `active` flag, if it exists.
    pub supplier_active: Option<bool>,
    /// Each existing product's `active` flag.
    pub products_active: HashMap<Uuid, bool>,
}

/// A supplier and products that exist and are active, or the issue of each that is not.
pub fn reference_issues(
    known: &KnownReferences,
    lines: Option<&[ContractLineTerms]>,
) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    match known.supplier_active {
        None => issues.push(FieldIssue::new(
            "supplier_id",
            "UNKNOWN_SUPPLIER",
            "no supplier has this id",
        )),
        Some(false) => issues.push(FieldIssue::new(
            "supplier_id",
            "INACTIVE_SUPPLIER",
            "this supplier is deactivated",
        )),
        Some(true) => {}
    }
    for (i, line) in lines.unwrap_or_default().iter().enumerate() {
        let field = format!("lines[{i}].product_id");
        match known.products_active.get(&line.product_id) {
            None => issues.push(FieldIssue::new(
                field,
                "UNKNOWN_PRODUCT",
                "no product has this id",
            )),
            Some(false) => issues.push(FieldIssue::new(
                field,
                "INACTIVE_PRODUCT",
                "this product is deactivated",
            )),
            Some(true) => {}
        }
    }
    issues
}

/// Breaks strictly ascending in quantity and in reduction, each reduction in (0, 100).
fn break_issues(line: usize, breaks: &[PriceBreak]) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    if breaks.len() > MAX_BREAKS {
        issues.push(FieldIssue::new(
            format!("lines[{line}].price_breaks"),
            "COUNT_OUT_OF_RANGE",
            format!("a line has at most {MAX_BREAKS} price breaks"),
        ));
    }
    for (j, brk) in breaks.iter().enumerate() {
        let field = |name: &str| format!("lines[{line}].price_breaks[{j}].{name}");
        if !(1..=MAX_QUANTITY).contains(&brk.min_quantity) {
            issues.push(FieldIssue::new(
                field("min_quantity"),
                "OUT_OF_RANGE",
                format!("min_quantity is 1 to {MAX_QUANTITY}"),
            ));
        }
        issues.extend(percent_issue(
            &field("reduction_percent"),
            brk.reduction_percent,
            false,
        ));
        if let Some(previous) = j.checked_sub(1).map(|p| &breaks[p]) {
            if brk.min_quantity <= previous.min_quantity {
                issues.push(FieldIssue::new(
                    field("min_quantity"),
                    "NOT_ASCENDING",
                    "each break's min_quantity is greater than the previous one's",
                ));
            }
            if brk.reduction_percent <= previous.reduction_percent {
                issues.push(FieldIssue::new(
                    field("reduction_percent"),
                    "NOT_ASCENDING",
                    "each break's reduction_percent is greater than the previous one's",
                ));
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::d;

    fn header() -> ContractHeader {
        ContractHeader {
            supplier_id: Uuid::from_u128(1),
            valid_from: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2027, 12, 31).unwrap(),
            currency: CURRENCY.to_owned(),
            minimum_order_value: Some(d("150.00")),
            platform_fee_percent: d("3.50"),
            notes: None,
        }
    }

    fn line(product: u128, price: &str) -> ContractLineTerms {
        ContractLineTerms {
            product_id: Uuid::from_u128(product),
            unit_price: d(price),
            min_order_quantity: 1,
            price_breaks: Vec::new(),
            tax_rate: DEFAULT_TAX_RATE,
            supplier_reference: None,
        }
    }

    fn brk(min_quantity: u32, reduction: &str) -> PriceBreak {
        PriceBreak {
            min_quantity,
            reduction_percent: d(reduction),
        }
    }

    /// `(field, code)` pairs a case expects.
    type Expected = Vec<(&'static str, &'static str)>;
    /// A change to the valid header.
    type Edit = fn(&mut ContractHeader);

    fn codes(issues: &[FieldIssue]) -> Vec<(String, String)> {
        issues
            .iter()
            .map(|i| (i.field.clone(), i.code.clone()))
            .collect()
    }

    #[test]
    fn the_default_tax_rate_is_twenty_percent() {
        assert_eq!(DEFAULT_TAX_RATE, d("20.00"));
    }

    #[test]
    fn header_table() {
        let cases: Vec<(&str, Edit, Expected)> = vec![
            ("valid", |_| {}, vec![]),
            ("one day", |h| h.valid_until = h.valid_from, vec![]),
            (
                "until before from",
                |h| h.valid_until = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                vec![("valid_until", "BEFORE_VALID_FROM")],
            ),
            (
                "dollars",
                |h| h.currency = "USD".into(),
                vec![("currency", "UNSUPPORTED_CURRENCY")],
            ),
            (
                "negative minimum",
                |h| h.minimum_order_value = Some(d("-1")),
                vec![("minimum_order_value", "OUT_OF_RANGE")],
            ),
            (
                "minimum in tenths of cents",
                |h| h.minimum_order_value = Some(d("150.005")),
                vec![("minimum_order_value", "TOO_MANY_DECIMALS")],
            ),
            (
                "trailing zeros are fine",
                |h| h.minimum_order_value = Some(d("150.000")),
                vec![],
            ),
            ("no fee", |h| h.platform_fee_percent = Decimal::ZERO, vec![]),
            (
                "fee of 100 %",
                |h| h.platform_fee_percent = Decimal::ONE_HUNDRED,
                vec![("platform_fee_percent", "OUT_OF_RANGE")],
            ),
            (
                "NUL in notes",
                |h| h.notes = Some("a\u{0}b".into()),
                vec![("notes", "INVALID_CHARACTERS")],
            ),
        ];
        for (name, change, expected) in cases {
            let mut h = header();
            change(&mut h);
            let expected: Vec<(String, String)> = expected
                .into_iter()
                .map(|(f, c)| (f.to_owned(), c.to_owned()))
                .collect();
            assert_eq!(codes(&header_issues(&h)), expected, "{name}");
        }
    }

    #[test]
    fn line_table() {
        let with = |change: fn(&mut ContractLineTerms)| {
            let mut l = line(1, "18.50");
            change(&mut l);
            vec![l]
        };
        let cases: Vec<(&str, Vec<ContractLineTerms>, Expected)> = vec![
            ("valid", vec![line(1, "18.50"), line(2, "0.01")], vec![]),
            ("no lines", vec![], vec![("lines", "COUNT_OUT_OF_RANGE")]),
            (
                "free",
                vec![line(1, "0")],
                vec![("lines[0].unit_price", "OUT_OF_RANGE")],
            ),
            (
                "negative price",
                vec![line(1, "-2.00")],
                vec![("lines[0].unit_price", "OUT_OF_RANGE")],
            ),
            (
                "three decimals",
                vec![line(1, "18.505")],
                vec![("lines[0].unit_price", "TOO_MANY_DECIMALS")],
            ),
            (
                "one product twice",
                vec![line(1, "1.00"), line(2, "2.00"), line(1, "3.00")],
                vec![("lines[2].product_id", "DUPLICATE_PRODUCT")],
            ),
            (
                "minimum of zero",
                with(|l| l.min_order_quantity = 0),
                vec![("lines[0].min_order_quantity", "OUT_OF_RANGE")],
            ),
            ("tax 0 %", with(|l| l.tax_rate = Decimal::ZERO), vec![]),
            (
                "tax 100 %",
                with(|l| l.tax_rate = Decimal::ONE_HUNDRED),
                vec![("lines[0].tax_rate", "OUT_OF_RANGE")],
            ),
            (
                "tax 5.555 %",
                with(|l| l.tax_rate = d("5.555")),
                vec![("lines[0].tax_rate", "TOO_MANY_DECIMALS")],
            ),
            (
                "ascending breaks",
                with(|l| l.price_breaks = vec![brk(50, "2.5"), brk(100, "5"), brk(500, "7.25")]),
                vec![],
            ),
            (
                "quantities not ascending",
                with(|l| l.price_breaks = vec![brk(100, "2.5"), brk(100, "5")]),
                vec![("lines[0].price_breaks[1].min_quantity", "NOT_ASCENDING")],
            ),
            (
                "reductions not ascending",
                with(|l| l.price_breaks = vec![brk(50, "5"), brk(100, "5")]),
                vec![(
                    "lines[0].price_breaks[1].reduction_percent",
                    "NOT_ASCENDING",
                )],
            ),
            (
                "descending in both",
                with(|l| l.price_breaks = vec![brk(100, "5"), brk(50, "2")]),
                vec![
                    ("lines[0].price_breaks[1].min_quantity", "NOT_ASCENDING"),
                    (
                        "lines[0].price_breaks[1].reduction_percent",
                        "NOT_ASCENDING",
                    ),
                ],
            ),
            (
                "reduction of zero",
                with(|l| l.price_breaks = vec![brk(10, "0")]),
                vec![("lines[0].price_breaks[0].reduction_percent", "OUT_OF_RANGE")],
            ),
            (
                "reduction of 100 %",
                with(|l| l.price_breaks = vec![brk(10, "100")]),
                vec![("lines[0].price_breaks[0].reduction_percent", "OUT_OF_RANGE")],
            ),
            (
                "break from zero units",
                with(|l| l.price_breaks = vec![brk(0, "1")]),
                vec![("lines[0].price_breaks[0].min_quantity", "OUT_OF_RANGE")],
            ),
        ];
        for (name, lines, expected) in cases {
            let expected: Vec<(String, String)> = expected
                .into_iter()
                .map(|(f, c)| (f.to_owned(), c.to_owned()))
                .collect();
            assert_eq!(codes(&line_issues(&lines)), expected, "{name}");
        }
    }

    #[test]
    fn references_must_exist_and_be_active() {
        let known = KnownReferences {
            supplier_active: Some(false),
            products_active: [(Uuid::from_u128(1), true), (Uuid::from_u128(2), false)].into(),
        };
        let lines = [line(1, "1.00"), line(2, "1.00"), line(3, "1.00")];
        assert_eq!(
            codes(&reference_issues(&known, Some(&lines))),
            [
                ("supplier_id".to_owned(), "INACTIVE_SUPPLIER".to_owned()),
                (
                    "lines[1].product_id".to_owned(),
                    "INACTIVE_PRODUCT".to_owned()
                ),
                (
                    "lines[2].product_id".to_owned(),
                    "UNKNOWN_PRODUCT".to_owned()
                ),
            ]
        );
        let unknown = KnownReferences::default();
        assert_eq!(
            codes(&reference_issues(&unknown, None)),
            [("supplier_id".to_owned(), "UNKNOWN_SUPPLIER".to_owned())]
        );
    }

    #[test]
    fn numbers_are_one_visible_word() {
        assert!(number_issues("MC-2027-0001").is_empty());
        for bad in ["", "MC 2027", "MC-\u{7}", &"M".repeat(51)] {
            assert!(!number_issues(bad).is_empty(), "{bad:?}");
        }
    }
}
