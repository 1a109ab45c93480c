//! Money arithmetic: one rounding rule and the totals triple shared by POs and master orders.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The only currency contracts are written in today (DESIGN §5.2).
pub const CURRENCY_EUR: &str = "EUR";

/// Rounds to cents, half away from zero, and pads to two decimals so JSON shows "18.50".
///
/// Banker's rounding (the `Decimal` default) would turn 0.125 into 0.12; the business rule
/// is commercial rounding, so the strategy is spelled out here once for the whole crate.
pub fn round_money(d: Decimal) -> Decimal {
    let mut rounded = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // Scale is at most 2 after rounding, so rescaling only adds trailing zeros (value unchanged).
    rounded.rescale(2);
    rounded
}

/// Excluding-tax, tax and including-tax amounts of a purchase order or master order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Sum of line totals, excluding VAT.
    pub excluding_tax: Decimal,
    /// VAT, rounded per tax rate (see `pricing::purchase_order_totals`).
    pub tax_amount: Decimal,
    /// `excluding_tax + tax_amount`.
    pub including_tax: Decimal,
}

impl Totals {
    /// Adds totals field by field; master order totals are the sums of their POs' totals.
    pub fn sum<'a>(iter: impl IntoIterator<Item = &'a Totals>) -> Totals {
        let raw = iter.into_iter().fold(Totals::default(), |acc, t| Totals {
            excluding_tax: acc.excluding_tax + t.excluding_tax,
            tax_amount: acc.tax_amount + t.tax_amount,
            including_tax: acc.including_tax + t.including_tax,
        });
        // Inputs are already in cents; rounding here only normalises the scale ("0.00").
        Totals {
            excluding_tax: round_money(raw.excluding_tax),
            tax_amount: round_money(raw.tax_amount),
            including_tax: round_money(raw.including_tax),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::d;

    #[test]
    fn round_money_is_half_away_from_zero() {
        let cases = [
            ("0.125", "0.13"),
            ("0.135", "0.14"),
            ("0.145", "0.15"), // banker's rounding would give 0.14
            ("2.675", "2.68"),
            ("9.5475", "9.55"),
            ("-0.125", "-0.13"),
            ("-2.665", "-2.67"),
            ("1.004", "1.00"),
            ("1.005", "1.01"),
            ("7", "7.00"),
            ("18.5", "18.50"),
        ];
        for (input, expected) in cases {
            let got = round_money(d(input));
            assert_eq!(got, d(expected), "round_money({input})");
            assert_eq!(got.to_string(), expected, "scale of round_money({input})");
        }
    }

    #[test]
    fn banker_rounding_would_differ() {
        let x = d("0.125");
        assert_eq!(x.round_dp(2), d("0.12"));
        assert_eq!(round_money(x), d("0.13"));
    }

    #[test]
    fn totals_sum_adds_each_field() {
        let a = Totals {
            excluding_tax: d("100.00"),
            tax_amount: d("20.00"),
            including_tax: d("120.00"),
        };
        let b = Totals {
            excluding_tax: d("10.55"),
            tax_amount: d("0.58"),
            including_tax: d("11.13"),
        };
        let s = Totals::sum([&a, &b]);
        assert_eq!(s.excluding_tax, d("110.55"));
        assert_eq!(s.tax_amount, d("20.58"));
        assert_eq!(s.including_tax, d("131.13"));
    }

    #[test]
    fn totals_sum_of_nothing_is_zero_cents() {
        let s = Totals::sum(std::iter::empty());
        assert_eq!(s, Totals::default());
        assert_eq!(s.excluding_tax.to_string(), "0.00");
    }

    #[test]
    fn totals_serialise_as_decimal_strings() {
        let t = Totals {
            excluding_tax: d("18.50"),
            tax_amount: d("3.70"),
            including_tax: d("22.20"),
        };
        let json = serde_json::to_value(t).expect("serialise");
        assert_eq!(
            json,
            serde_json::json!({"excluding_tax": "18.50", "tax_amount": "3.70", "including_tax": "22.20"})
        );
        let back: Totals = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, t);
    }
}

/// Serialises amounts, rates and percentages as decimal strings with exactly two decimals
/// ("0.00", "18.50"), whatever scale the value carries (PostgreSQL returns zero unscaled).
pub mod two_decimals {
    use rust_decimal::Decimal;
    use serde::Serializer;

    /// `#[serde(serialize_with = "two_decimals::serialize")]`
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        let mut scaled = *value;
        scaled.rescale(2);
        serializer.collect_str(&scaled)
    }

    /// The same for optional values (`null` stays `null`).
    pub fn option<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serialize(value, serializer),
            None => serializer.serialize_none(),
        }
    }
}
