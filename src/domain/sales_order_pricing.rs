//! Blue Whale's sales order to the station (issue 8 §4): one line per purchase-order line,
//! priced at the supplier's unit price plus the line's contract fee, VAT rounded once per
//! rate as for purchase orders; the invoice credits the lines of cancelled purchase orders.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::money::{Totals, round_money};
use super::pricing::{line_total, totals_by_rate};

/// A purchase-order line as the sales order sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoughtLine {
    /// The purchase order it was bought on.
    pub purchase_order_id: Uuid,
    /// Its line number there.
    pub line_number: i32,
    /// The product.
    pub product_id: Uuid,
    /// Conditioning units.
    pub quantity: u32,
    /// What Blue Whale pays the supplier per unit, excluding VAT.
    pub purchase_unit_price: Decimal,
    /// Blue Whale's fee from the line's contract, in percent.
    pub platform_fee_percent: Decimal,
    /// VAT rate in percent.
    pub tax_rate: Decimal,
}

/// A line of the sales order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesLine {
    /// The purchase-order line it resells.
    pub bought: BoughtLine,
    /// What the station pays per unit, excluding VAT.
    pub unit_price: Decimal,
    /// `unit_price × quantity`.
    pub line_total: Decimal,
}

/// The price the station pays per unit:
/// `round_half_away_from_zero(purchase price × (100 + fee) / 100, 2)`.
pub fn sales_unit_price(purchase_unit_price: Decimal, platform_fee_percent: Decimal) -> Decimal {
    round_money(
        purchase_unit_price * (Decimal::ONE_HUNDRED + platform_fee_percent) / Decimal::ONE_HUNDRED,
    )
}

/// The sales order's lines, in the order given, and its totals.
pub fn price_sales_order(bought: &[BoughtLine]) -> (Vec<SalesLine>, Totals) {
    let lines: Vec<SalesLine> = bought
        .iter()
        .map(|b| {
            let unit_price = sales_unit_price(b.purchase_unit_price, b.platform_fee_percent);
            SalesLine {
                bought: b.clone(),
                unit_price,
                line_total: line_total(unit_price, b.quantity),
            }
        })
        .collect();
    let totals = totals_by_rate(lines.iter().map(|l| (l.bought.tax_rate, l.line_total)));
    (lines, totals)
}

/// The invoice's totals: the lines of purchase orders not cancelled (the others are
/// credited), VAT rounded once per rate over what remains.
pub fn invoice_totals(lines: &[SalesLine], cancelled: &[Uuid]) -> Totals {
    totals_by_rate(
        lines
            .iter()
            .filter(|l| !cancelled.contains(&l.bought.purchase_order_id))
            .map(|l| (l.bought.tax_rate, l.line_total)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::d;

    fn bought(po: u128, price: &str, fee: &str, quantity: u32, tax: &str) -> BoughtLine {
        BoughtLine {
            purchase_order_id: Uuid::from_u128(po),
            line_number: 1,
            product_id: Uuid::from_u128(100 + po),
            quantity,
            purchase_unit_price: d(price),
            platform_fee_percent: d(fee),
            tax_rate: d(tax),
        }
    }

    #[test]
    fn unit_prices_with_fees_and_half_cent_ties() {
        let cases = [
            // (purchase price, fee, expected)
            ("18.50", "0", "18.50"),
            ("18.50", "4.00", "19.24"),
            ("10.05", "5", "10.55"),      // 10.5525
            ("0.10", "25", "0.13"),       // 0.125: half away from zero, not to even
            ("2.50", "3", "2.58"),        // 2.575
            ("0.30", "15", "0.35"),       // 0.345
            ("1.00", "0.50", "1.01"),     // 1.005
            ("99.99", "99.99", "199.97"), // 199.970001
            ("0.01", "49", "0.01"),       // 0.0149
            ("0.01", "50", "0.02"),       // 0.015
        ];
        for (price, fee, expected) in cases {
            assert_eq!(
                sales_unit_price(d(price), d(fee)),
                d(expected),
                "{price} + {fee} %"
            );
        }
    }

    #[test]
    fn a_sales_order_by_hand() {
        // Two suppliers' lines at 20 % and one at 5.5 %, fees 4 % and 2.5 %.
        let (lines, totals) = price_sales_order(&[
            bought(1, "18.50", "4.00", 50, "20.00"), // 19.24 × 50 = 962.00
            bought(1, "96.00", "4.00", 3, "5.50"),   // 99.84 × 3 = 299.52
            bought(2, "14.20", "2.50", 60, "20.00"), // 14.555 → 14.56 × 60 = 873.60
        ]);
        let totals_of: Vec<Decimal> = lines.iter().map(|l| l.line_total).collect();
        assert_eq!(totals_of, [d("962.00"), d("299.52"), d("873.60")]);
        assert_eq!(totals.excluding_tax, d("2135.12"));
        // VAT once per rate: 1835.60 × 20 % = 367.12; 299.52 × 5.5 % = 16.4736 → 16.47.
        assert_eq!(totals.tax_amount, d("383.59"));
        assert_eq!(totals.including_tax, d("2518.71"));
    }

    #[test]
    fn vat_is_rounded_per_rate_not_per_line() {
        // Each line is 0.105 → 0.11. Rounded per line, VAT would be 3 × (0.022 → 0.02) = 0.06;
        // rounded once for the rate it is 0.066 → 0.07.
        let (_, totals) = price_sales_order(&[
            bought(1, "0.10", "5", 1, "20.00"),
            bought(1, "0.10", "5", 1, "20.00"),
            bought(1, "0.10", "5", 1, "20.00"),
        ]);
        assert_eq!(totals.excluding_tax, d("0.33"));
        assert_eq!(totals.tax_amount, d("0.07"));
    }

    #[test]
    fn cancelled_purchase_orders_are_credited_on_the_invoice() {
        let (lines, totals) = price_sales_order(&[
            bought(1, "10.00", "10", 2, "20.00"),
            bought(2, "5.00", "10", 4, "20.00"),
        ]);
        assert_eq!(totals.excluding_tax, d("44.00"));
        let invoiced = invoice_totals(&lines, &[Uuid::from_u128(2)]);
        assert_eq!(invoiced.excluding_tax, d("22.00"));
        assert_eq!(invoiced.tax_amount, d("4.40"));
        assert_eq!(invoiced.including_tax, d("26.40"));
        assert_eq!(invoice_totals(&lines, &[]), totals);
    }
}
