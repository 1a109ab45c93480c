//! Price arithmetic of DESIGN §5.2: break selection, discounted unit price, line and PO totals.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::catalogue::PriceBreak;
use super::money::{Totals, round_money};
use super::split::PricedLine;

/// Reduction percent of the break with the greatest `min_quantity ≤ quantity`, or 0 if none.
///
/// The list order does not matter: contracts are edited by hand and need not be sorted.
/// If two breaks share a `min_quantity` (data error) the larger reduction wins, deterministically.
pub fn applicable_reduction(breaks: &[PriceBreak], quantity: u32) -> Decimal {
    breaks
        .iter()
        .filter(|b| b.min_quantity <= quantity)
        .max_by(|a, b| {
            a.min_quantity
                .cmp(&b.min_quantity)
                .then(a.reduction_percent.cmp(&b.reduction_percent))
        })
        .map_or(Decimal::ZERO, |b| b.reduction_percent)
}

/// Unit price after reduction: `round(base × (100 − r) / 100)`, rounded once, to cents.
pub fn discounted_unit_price(base: Decimal, reduction_percent: Decimal) -> Decimal {
    let hundred = Decimal::ONE_HUNDRED;
    round_money(base * (hundred - reduction_percent) / hundred)
}

/// `unit_price × quantity`; exact for a unit price in cents, normalised to two decimals.
pub fn line_total(unit_price: Decimal, quantity: u32) -> Decimal {
    round_money(unit_price * Decimal::from(quantity))
}

/// Totals of one purchase order, with VAT rounded once per distinct tax rate.
///
/// Rounding per rate (not per line, not on the whole) is the rule of DESIGN §5.2; a
/// `BTreeMap` groups rates by value, so 20 and 20.00 are the same rate.
pub fn purchase_order_totals(lines: &[PricedLine]) -> Totals {
    totals_by_rate(lines.iter().map(|l| (l.tax_rate, l.line_total)))
}

/// Totals of `(tax rate, line total)` pairs, VAT rounded once per distinct rate: the rule of
/// purchase orders, and of sales orders and invoices alike.
pub fn totals_by_rate(lines: impl IntoIterator<Item = (Decimal, Decimal)>) -> Totals {
    let mut base_by_rate: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    for (rate, total) in lines {
        *base_by_rate.entry(rate).or_default() += total;
    }
    let excluding_tax = round_money(base_by_rate.values().copied().sum());
    let tax_amount = round_money(
        base_by_rate
            .iter()
            .map(|(rate, base)| round_money(*base * *rate / Decimal::ONE_HUNDRED))
            .sum(),
    );
    Totals {
        excluding_tax,
        tax_amount,
        including_tax: round_money(excluding_tax + tax_amount),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::d;
    use uuid::Uuid;

    fn pb(min_quantity: u32, reduction: &str) -> PriceBreak {
        PriceBreak {
            min_quantity,
            reduction_percent: d(reduction),
        }
    }

    #[test]
    fn applicable_reduction_table() {
        // Deliberately unordered.
        let breaks = vec![pb(500, "10.00"), pb(100, "5.00"), pb(250, "7.50")];
        let cases = [
            (0, "0"),
            (1, "0"),
            (99, "0"),
            (100, "5.00"),
            (101, "5.00"),
            (249, "5.00"),
            (250, "7.50"),
            (499, "7.50"),
            (500, "10.00"),
            (1_000_000, "10.00"),
        ];
        for (q, expected) in cases {
            assert_eq!(applicable_reduction(&breaks, q), d(expected), "q = {q}");
        }
    }

    #[test]
    fn applicable_reduction_without_breaks_is_zero() {
        assert_eq!(applicable_reduction(&[], 10), Decimal::ZERO);
    }

    #[test]
    fn applicable_reduction_greatest_min_quantity_wins_not_greatest_reduction() {
        // A smaller reduction at a higher threshold still applies: the rule is by threshold.
        let breaks = vec![pb(10, "8.00"), pb(20, "3.00")];
        assert_eq!(applicable_reduction(&breaks, 25), d("3.00"));
    }

    #[test]
    fn discounted_unit_price_table() {
        let cases = [
            ("0.125", "0", "0.13"), // half away from zero; banker's gives 0.12
            ("10.05", "5", "9.55"), // 9.5475 → 9.55
            ("10.00", "5.00", "9.50"),
            ("18.50", "0.00", "18.50"),
            ("3.33", "10", "3.00"), // 2.997 → 3.00
            ("0.25", "50", "0.13"), // 0.125 → 0.13 (banker's: 0.12)
            ("0.35", "50", "0.18"), // 0.175 → 0.18
            ("1.00", "100", "0.00"),
            ("12.34", "12.5", "10.80"), // 10.7975 → 10.80
        ];
        for (base, r, expected) in cases {
            let got = discounted_unit_price(d(base), d(r));
            assert_eq!(got, d(expected), "{base} at {r} %");
            assert_eq!(got.to_string(), expected, "scale of {base} at {r} %");
        }
    }

    #[test]
    fn line_total_table() {
        let cases = [
            ("9.55", 3, "28.65"),
            ("0.13", 1000, "130.00"),
            ("18.50", 1, "18.50"),
            ("7", 2, "14.00"),
        ];
        for (unit, q, expected) in cases {
            let got = line_total(d(unit), q);
            assert_eq!(got, d(expected));
            assert_eq!(got.to_string(), expected);
        }
    }

    fn line(total: &str, rate: &str) -> PricedLine {
        PricedLine {
            index: 0,
            product_id: Uuid::nil(),
            product_code: String::new(),
            product_name: String::new(),
            conditioning_unit: String::new(),
            supplier_reference: None,
            contract_id: Uuid::nil(),
            contract_line_id: Uuid::nil(),
            quantity: 1,
            base_unit_price: d(total),
            reduction_percent: Decimal::ZERO,
            unit_price: d(total),
            tax_rate: d(rate),
            line_total: d(total),
        }
    }

    #[test]
    fn interleaved_rates_are_grouped_by_rate() {
        // 5.50 %: 0.05 + 0.05 = 0.10 → 0.0055 → 0.01 ; 20.00 %: 0.03 + 0.04 = 0.07 → 0.014 → 0.01.
        let lines = vec![
            line("0.05", "5.50"),
            line("0.03", "20.00"),
            line("0.05", "5.50"),
            line("0.04", "20.00"),
        ];
        let t = purchase_order_totals(&lines);
        assert_eq!(t.excluding_tax, d("0.17"));
        assert_eq!(t.tax_amount, d("0.02"));
        assert_eq!(t.including_tax, d("0.19"));
    }

    #[test]
    fn per_rate_rounding_differs_from_rounding_the_whole() {
        // 5.50 % of 10.10 = 0.5555 → 0.56 ; 20.00 % of 0.03 = 0.006 → 0.01 ; per rate = 0.57.
        // Whole: 0.5555 + 0.006 = 0.5615 → 0.56. Per rate must give 0.57.
        let lines = vec![line("10.10", "5.50"), line("0.03", "20.00")];
        let t = purchase_order_totals(&lines);
        assert_eq!(t.excluding_tax, d("10.13"));
        assert_eq!(t.tax_amount, d("0.57"));
        assert_eq!(t.including_tax, d("10.70"));
    }

    #[test]
    fn per_rate_rounding_differs_from_rounding_each_line() {
        // Per line at 20 %: 0.02 × 0.2 = 0.004 → 0.00, three times = 0.00.
        // Per rate: 0.06 × 0.2 = 0.012 → 0.01.
        let lines = vec![
            line("0.02", "20.00"),
            line("0.02", "20"),
            line("0.02", "20.0"),
        ];
        let t = purchase_order_totals(&lines);
        assert_eq!(t.tax_amount, d("0.01"));
        assert_eq!(t.including_tax, d("0.07"));
    }

    #[test]
    fn realistic_two_rate_purchase_order() {
        // 5.50 %: 123.45 + 67.89 = 191.34 → 10.5237 → 10.52
        // 20.00 %: 18.50 × 3 = 55.50 → 11.10
        let lines = vec![
            line("123.45", "5.50"),
            line("55.50", "20.00"),
            line("67.89", "5.50"),
        ];
        let t = purchase_order_totals(&lines);
        assert_eq!(t.excluding_tax, d("246.84"));
        assert_eq!(t.tax_amount, d("21.62"));
        assert_eq!(t.including_tax, d("268.46"));
    }

    #[test]
    fn empty_purchase_order_totals_are_zero() {
        let t = purchase_order_totals(&[]);
        assert_eq!(
            t,
            Totals {
                excluding_tax: d("0.00"),
                tax_amount: d("0.00"),
                including_tax: d("0.00")
            }
        );
    }
}
