//! Table-driven tests of `price_order`: split, pricing and every rejection rule.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::*;
use crate::domain::catalogue::{PriceBreak, ProductInfo, SupplierInfo};
use crate::domain::test_support::d;

const S1: Uuid = Uuid::from_u128(0x51);
const S2: Uuid = Uuid::from_u128(0x52);
const S3: Uuid = Uuid::from_u128(0x53);
const S_INACTIVE: Uuid = Uuid::from_u128(0x5f);
const S_UNKNOWN: Uuid = Uuid::from_u128(0x5e);

const P1: Uuid = Uuid::from_u128(0x01);
const P2: Uuid = Uuid::from_u128(0x02);
const P3: Uuid = Uuid::from_u128(0x03);
const P4: Uuid = Uuid::from_u128(0x04);
const P_INACTIVE: Uuid = Uuid::from_u128(0x0f);
const P_UNKNOWN: Uuid = Uuid::from_u128(0x0e);
/// Active product nobody has a contract for.
const P_NO_CONTRACT: Uuid = Uuid::from_u128(0x0d);

fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

fn contract_of(supplier: Uuid) -> Uuid {
    Uuid::from_u128(0xc000 + supplier.as_u128())
}

fn product(id: Uuid, code: &str, active: bool) -> ProductInfo {
    ProductInfo {
        id,
        code: code.into(),
        name: format!("{code} name"),
        conditioning_unit: "box".into(),
        active,
    }
}

/// An offer of the supplier's 2026 contract; tweak fields with struct update syntax.
fn offer(supplier: Uuid, product: Uuid, unit_price: &str, tax_rate: &str) -> Offer {
    Offer {
        contract_id: contract_of(supplier),
        contract_line_id: Uuid::from_u128((supplier.as_u128() << 8) + product.as_u128()),
        supplier_id: supplier,
        product_id: product,
        valid_from: date(2026, 1, 1),
        valid_until: date(2026, 12, 31),
        minimum_order_value: None,
        unit_price: d(unit_price),
        min_order_quantity: 1,
        price_breaks: vec![],
        tax_rate: d(tax_rate),
        supplier_reference: Some(format!("REF-{}-{}", supplier.as_u128(), product.as_u128())),
    }
}

fn catalogue(offers: Vec<Offer>) -> Catalogue {
    Catalogue::new(
        vec![
            product(P1, "TRAY-01", true),
            product(P2, "CRATE-02", true),
            product(P3, "FILM-03", true),
            product(P4, "LABEL-04", true),
            product(P_INACTIVE, "OLD-99", false),
            product(P_NO_CONTRACT, "NEW-50", true),
        ],
        vec![
            SupplierInfo {
                id: S1,
                active: true,
            },
            SupplierInfo {
                id: S2,
                active: true,
            },
            SupplierInfo {
                id: S3,
                active: true,
            },
            SupplierInfo {
                id: S_INACTIVE,
                active: false,
            },
        ],
        offers,
    )
}

/// A catalogue where every active supplier offers every product at 10.00, 20 % VAT.
fn simple_catalogue() -> Catalogue {
    let mut offers = Vec::new();
    for s in [S1, S2, S3, S_INACTIVE] {
        for p in [P1, P2, P3, P4, P_INACTIVE] {
            offers.push(offer(s, p, "10.00", "20.00"));
        }
    }
    catalogue(offers)
}

fn order_on(on: NaiveDate, lines: &[(Uuid, Uuid, u32)]) -> OrderToPrice {
    OrderToPrice {
        station_active: true,
        order_date: on,
        lines: lines
            .iter()
            .map(|&(product_id, supplier_id, quantity)| OrderLine {
                product_id,
                supplier_id,
                quantity,
            })
            .collect(),
    }
}

fn order(lines: &[(Uuid, Uuid, u32)]) -> OrderToPrice {
    order_on(date(2026, 6, 15), lines)
}

/// (index, code) pairs of a rejection, for compact assertions.
fn entries(r: &Rejection) -> Vec<(Option<usize>, RejectionCode)> {
    r.lines.iter().map(|l| (l.index, l.code)).collect()
}

#[test]
fn three_supplier_split_with_exact_totals() {
    let cat = catalogue(vec![
        // S1: P1 at 10.05 with 5 % from 100 (9.5475 → 9.55), P3 at 12.34 with VAT 5.50.
        Offer {
            price_breaks: vec![PriceBreak {
                min_quantity: 100,
                reduction_percent: d("5.00"),
            }],
            ..offer(S1, P1, "10.05", "20.00")
        },
        offer(S1, P3, "12.34", "5.50"),
        // S2: P2 at 18.50.
        offer(S2, P2, "18.50", "20.00"),
        // S3: P4 at 0.25 with 50 % from 1000 (0.125 → 0.13), P2 at 17.00.
        Offer {
            price_breaks: vec![PriceBreak {
                min_quantity: 1000,
                reduction_percent: d("50"),
            }],
            ..offer(S3, P4, "0.25", "5.50")
        },
        offer(S3, P2, "17.00", "20.00"),
    ]);
    let o = order(&[
        (P2, S2, 10),
        (P1, S1, 120),
        (P4, S3, 1000),
        (P3, S1, 3),
        (P2, S3, 2),
    ]);
    let priced = price_order(&o, &cat).expect("order prices");

    let suppliers: Vec<Uuid> = priced
        .purchase_orders
        .iter()
        .map(|po| po.supplier_id)
        .collect();
    assert_eq!(suppliers, vec![S2, S1, S3], "first appearance order");
    let indexes: Vec<Vec<usize>> = priced
        .purchase_orders
        .iter()
        .map(|po| po.lines.iter().map(|l| l.index).collect())
        .collect();
    assert_eq!(indexes, vec![vec![0], vec![1, 3], vec![2, 4]]);

    // (unit price, line total) per request index.
    let expected_lines = [
        (0, "18.50", "185.00"),
        (1, "9.55", "1146.00"),
        (2, "0.13", "130.00"),
        (3, "12.34", "37.02"),
        (4, "17.00", "34.00"),
    ];
    let all_lines: Vec<&PricedLine> = priced
        .purchase_orders
        .iter()
        .flat_map(|po| &po.lines)
        .collect();
    for (index, unit, total) in expected_lines {
        let line = all_lines
            .iter()
            .find(|l| l.index == index)
            .expect("line present");
        assert_eq!(line.unit_price, d(unit), "unit price of line {index}");
        assert_eq!(line.line_total, d(total), "total of line {index}");
        assert_eq!(line.line_total.to_string(), total);
    }

    // (excluding, tax, including) per PO.
    let expected_pos = [
        ("185.00", "37.00", "222.00"),
        // 20 % of 1146.00 = 229.20 ; 5.5 % of 37.02 = 2.0361 → 2.04
        ("1183.02", "231.24", "1414.26"),
        // 5.5 % of 130.00 = 7.15 ; 20 % of 34.00 = 6.80
        ("164.00", "13.95", "177.95"),
    ];
    for (po, (excl, tax, incl)) in priced.purchase_orders.iter().zip(expected_pos) {
        assert_eq!(po.totals.excluding_tax, d(excl), "PO of {}", po.supplier_id);
        assert_eq!(po.totals.tax_amount, d(tax), "PO of {}", po.supplier_id);
        assert_eq!(po.totals.including_tax, d(incl), "PO of {}", po.supplier_id);
    }
    assert_eq!(priced.totals.excluding_tax, d("1532.02"));
    assert_eq!(priced.totals.tax_amount, d("282.19"));
    assert_eq!(priced.totals.including_tax, d("1814.21"));
}

#[test]
fn priced_line_crystallises_contract_and_product_data() {
    let cat = catalogue(vec![Offer {
        price_breaks: vec![PriceBreak {
            min_quantity: 100,
            reduction_percent: d("5.00"),
        }],
        ..offer(S1, P1, "10.05", "20.00")
    }]);
    let priced = price_order(&order(&[(P1, S1, 100)]), &cat).expect("order prices");
    let line = &priced.purchase_orders[0].lines[0];
    assert_eq!(
        *line,
        PricedLine {
            index: 0,
            product_id: P1,
            product_code: "TRAY-01".into(),
            product_name: "TRAY-01 name".into(),
            conditioning_unit: "box".into(),
            supplier_reference: Some(format!("REF-{}-{}", S1.as_u128(), P1.as_u128())),
            contract_id: contract_of(S1),
            contract_line_id: Uuid::from_u128((S1.as_u128() << 8) + P1.as_u128()),
            quantity: 100,
            base_unit_price: d("10.05"),
            reduction_percent: d("5.00"),
            unit_price: d("9.55"),
            tax_rate: d("20.00"),
            line_total: d("955.00"),
        }
    );
}

#[test]
fn price_breaks_apply_from_their_min_quantity() {
    let breaks = vec![
        PriceBreak {
            min_quantity: 500,
            reduction_percent: d("10"),
        },
        PriceBreak {
            min_quantity: 100,
            reduction_percent: d("5"),
        },
    ];
    let cat = catalogue(vec![Offer {
        price_breaks: breaks,
        ..offer(S1, P1, "2.00", "20.00")
    }]);
    let cases = [
        (99, "2.00"),
        (100, "1.90"),
        (101, "1.90"),
        (499, "1.90"),
        (500, "1.80"),
        (501, "1.80"),
    ];
    for (q, unit) in cases {
        let priced = price_order(&order(&[(P1, S1, q)]), &cat).expect("order prices");
        let line = &priced.purchase_orders[0].lines[0];
        assert_eq!(line.unit_price, d(unit), "q = {q}");
        assert_eq!(line.line_total, d(unit) * Decimal::from(q), "q = {q}");
    }
}

#[test]
fn minimum_quantity_boundary() {
    let cat = catalogue(vec![Offer {
        min_order_quantity: 10,
        ..offer(S1, P1, "1.00", "20.00")
    }]);
    let below = price_order(&order(&[(P1, S1, 9)]), &cat).expect_err("below minimum");
    assert_eq!(below.code, RejectionCode::BelowMinimumQuantity);
    assert_eq!(
        entries(&below),
        vec![(Some(0), RejectionCode::BelowMinimumQuantity)]
    );
    let message = &below.lines[0].message;
    assert!(
        message.contains("quantity 9") && message.contains("TRAY-01") && message.contains("10"),
        "{message}"
    );

    let equal = price_order(&order(&[(P1, S1, 10)]), &cat).expect("equal to minimum");
    assert_eq!(equal.totals.excluding_tax, d("10.00"));
}

#[test]
fn zero_quantity_is_below_minimum_even_when_contract_says_zero() {
    let cat = catalogue(vec![Offer {
        min_order_quantity: 0,
        ..offer(S1, P1, "1.00", "20.00")
    }]);
    let r = price_order(&order(&[(P1, S1, 0)]), &cat).expect_err("zero quantity");
    assert_eq!(
        entries(&r),
        vec![(Some(0), RejectionCode::BelowMinimumQuantity)]
    );
}

#[test]
fn minimum_order_value_below_lists_every_line_of_the_po() {
    let cat = catalogue(vec![
        Offer {
            minimum_order_value: Some(d("150.00")),
            ..offer(S1, P1, "10.00", "20.00")
        },
        Offer {
            minimum_order_value: Some(d("150.00")),
            ..offer(S1, P2, "10.00", "20.00")
        },
        offer(S2, P3, "10.00", "20.00"),
    ]);
    // S1: 5 × 10 + 3 × 10 = 80.00 < 150.00 ; S2 is fine and not listed.
    let o = order(&[(P1, S1, 5), (P3, S2, 1), (P2, S1, 3)]);
    let r = price_order(&o, &cat).expect_err("below minimum order value");
    assert_eq!(r.code, RejectionCode::BelowMinimumOrderValue);
    assert_eq!(
        entries(&r),
        vec![
            (Some(0), RejectionCode::BelowMinimumOrderValue),
            (Some(2), RejectionCode::BelowMinimumOrderValue)
        ]
    );
    for entry in &r.lines {
        assert!(
            entry.message.contains(
                "purchase order total 80.00 EUR is below the contract minimum 150.00 EUR"
            ),
            "{}",
            entry.message
        );
        assert!(entry.message.contains(&S1.to_string()), "{}", entry.message);
    }
}

#[test]
fn minimum_order_value_reached_exactly_is_accepted() {
    let cat = catalogue(vec![Offer {
        minimum_order_value: Some(d("150.00")),
        ..offer(S1, P1, "10.00", "20.00")
    }]);
    let priced = price_order(&order(&[(P1, S1, 15)]), &cat).expect("equal to minimum");
    assert_eq!(priced.purchase_orders[0].totals.excluding_tax, d("150.00"));
}

#[test]
fn minimum_order_value_compares_excluding_tax() {
    // 140.00 excl. VAT is 168.00 incl. VAT: still below a 150.00 minimum.
    let cat = catalogue(vec![Offer {
        minimum_order_value: Some(d("150.00")),
        ..offer(S1, P1, "10.00", "20.00")
    }]);
    let r = price_order(&order(&[(P1, S1, 14)]), &cat).expect_err("below");
    assert_eq!(r.code, RejectionCode::BelowMinimumOrderValue);
}

#[test]
fn minimum_order_value_with_several_contracts_uses_whole_po_total() {
    let contract_a = Uuid::from_u128(0xa);
    let contract_b = Uuid::from_u128(0xb);
    let cat = catalogue(vec![
        Offer {
            contract_id: contract_a,
            minimum_order_value: Some(d("100.00")),
            ..offer(S1, P1, "10.00", "20.00")
        },
        Offer {
            contract_id: contract_b,
            minimum_order_value: Some(d("200.00")),
            ..offer(S1, P2, "10.00", "20.00")
        },
        Offer {
            contract_id: contract_b,
            minimum_order_value: Some(d("200.00")),
            ..offer(S1, P3, "10.00", "20.00")
        },
    ]);
    // 90 + 60 = 150: satisfies A's 100 but not B's 200 → whole PO rejected, every line listed.
    let r = price_order(&order(&[(P1, S1, 9), (P2, S1, 6)]), &cat).expect_err("below B");
    assert_eq!(
        entries(&r),
        vec![
            (Some(0), RejectionCode::BelowMinimumOrderValue),
            (Some(1), RejectionCode::BelowMinimumOrderValue)
        ]
    );
    assert!(
        r.lines[0]
            .message
            .contains("150.00 EUR is below the contract minimum 200.00 EUR"),
        "{}",
        r.lines[0].message
    );
    assert!(r.lines[0].message.contains(&contract_b.to_string()));

    // The whole PO total is compared, not each contract's share: A's 50 alone would miss
    // A's 100, but the PO's 110 meets it; it still misses B's 200.
    let r = price_order(&order(&[(P1, S1, 5), (P2, S1, 6)]), &cat).expect_err("below both");
    assert!(
        r.lines[0]
            .message
            .contains("110.00 EUR is below the contract minimum 200.00 EUR")
    );

    // 90 (A) + 120 (B) = 210 ≥ both minimums, even though A's own lines are only 90.
    let priced = price_order(&order(&[(P1, S1, 9), (P2, S1, 12)]), &cat).expect("above both");
    assert_eq!(priced.purchase_orders[0].totals.excluding_tax, d("210.00"));
    // Lines from contract A only: 100 meets A's minimum; B's minimum does not apply.
    assert!(price_order(&order(&[(P1, S1, 10)]), &cat).is_ok());
}

#[test]
fn minimum_order_value_not_checked_when_a_line_of_the_supplier_failed() {
    let cat = catalogue(vec![
        Offer {
            minimum_order_value: Some(d("150.00")),
            ..offer(S1, P1, "10.00", "20.00")
        },
        Offer {
            min_order_quantity: 5,
            minimum_order_value: Some(d("150.00")),
            ..offer(S1, P2, "10.00", "20.00")
        },
    ]);
    let r = price_order(&order(&[(P1, S1, 1), (P2, S1, 1)]), &cat).expect_err("rejected");
    assert_eq!(
        entries(&r),
        vec![(Some(1), RejectionCode::BelowMinimumQuantity)]
    );
}

#[test]
fn contract_validity_is_inclusive_on_the_order_date() {
    let cat = catalogue(vec![Offer {
        valid_from: date(2026, 3, 1),
        valid_until: date(2026, 8, 31),
        ..offer(S1, P1, "10.00", "20.00")
    }]);
    let cases = [
        (date(2026, 2, 28), false),
        (date(2026, 3, 1), true),
        (date(2026, 8, 31), true),
        (date(2026, 9, 1), false),
    ];
    for (on, ok) in cases {
        let result = price_order(&order_on(on, &[(P1, S1, 1)]), &cat);
        match result {
            Ok(_) => assert!(ok, "{on} should be outside the contract"),
            Err(r) => {
                assert!(!ok, "{on} should be inside the contract: {r:?}");
                assert_eq!(
                    entries(&r),
                    vec![(Some(0), RejectionCode::NoActiveContract)]
                );
                assert!(
                    r.lines[0].message.contains(&on.to_string()),
                    "{}",
                    r.lines[0].message
                );
            }
        }
    }
}

#[test]
fn single_line_failures_table() {
    let cat = catalogue(vec![
        offer(S1, P1, "10.00", "20.00"),
        offer(S_INACTIVE, P1, "10.00", "20.00"),
    ]);
    let cases = [
        (
            (P_UNKNOWN, S1),
            RejectionCode::UnknownProduct,
            P_UNKNOWN.to_string(),
        ),
        (
            (P_INACTIVE, S1),
            RejectionCode::InactiveProduct,
            "OLD-99".to_owned(),
        ),
        (
            (P1, S_UNKNOWN),
            RejectionCode::UnknownSupplier,
            S_UNKNOWN.to_string(),
        ),
        (
            (P1, S_INACTIVE),
            RejectionCode::InactiveSupplier,
            S_INACTIVE.to_string(),
        ),
        (
            (P_NO_CONTRACT, S1),
            RejectionCode::NoActiveContract,
            "NEW-50".to_owned(),
        ),
        ((P1, S2), RejectionCode::NoActiveContract, S2.to_string()),
    ];
    for ((p, s), code, named) in cases {
        let r = price_order(&order(&[(p, s, 1)]), &cat).expect_err("rejected");
        assert_eq!(r.code, code, "{p} from {s}");
        assert_eq!(entries(&r), vec![(Some(0), code)]);
        assert!(
            r.lines[0].message.contains(&named),
            "{} should name {named}",
            r.lines[0].message
        );
    }
}

#[test]
fn only_the_first_failing_reason_per_line_is_reported() {
    let cat = simple_catalogue();
    // Unknown product from an unknown supplier → UNKNOWN_PRODUCT.
    // Inactive product from an inactive supplier → INACTIVE_PRODUCT.
    // Active product from an inactive supplier → INACTIVE_SUPPLIER.
    let r = price_order(
        &order(&[
            (P_UNKNOWN, S_UNKNOWN, 1),
            (P_INACTIVE, S_INACTIVE, 1),
            (P1, S_INACTIVE, 1),
        ]),
        &cat,
    )
    .expect_err("rejected");
    assert_eq!(
        entries(&r),
        vec![
            (Some(0), RejectionCode::UnknownProduct),
            (Some(1), RejectionCode::InactiveProduct),
            (Some(2), RejectionCode::InactiveSupplier),
        ]
    );
    assert_eq!(r.code, RejectionCode::MultipleReasons);
}

#[test]
fn inactive_station_alone() {
    let cat = simple_catalogue();
    let mut o = order(&[(P1, S1, 1)]);
    o.station_active = false;
    let r = price_order(&o, &cat).expect_err("inactive station");
    assert_eq!(r.code, RejectionCode::InactiveStation);
    assert_eq!(entries(&r), vec![(None, RejectionCode::InactiveStation)]);
}

#[test]
fn inactive_station_still_lists_line_failures() {
    let cat = simple_catalogue();
    let mut o = order(&[(P1, S1, 1), (P_UNKNOWN, S1, 1)]);
    o.station_active = false;
    let r = price_order(&o, &cat).expect_err("inactive station");
    assert_eq!(r.code, RejectionCode::MultipleReasons);
    assert_eq!(
        entries(&r),
        vec![
            (None, RejectionCode::InactiveStation),
            (Some(1), RejectionCode::UnknownProduct)
        ]
    );
}

#[test]
fn every_failure_is_listed_together() {
    let cat = catalogue(vec![
        Offer {
            min_order_quantity: 10,
            ..offer(S1, P1, "10.00", "20.00")
        },
        offer(S1, P2, "10.00", "20.00"),
        Offer {
            minimum_order_value: Some(d("500.00")),
            ..offer(S2, P3, "10.00", "20.00")
        },
        offer(S3, P4, "10.00", "20.00"),
    ]);
    let o = order(&[
        (P1, S1, 5),            // 0: below minimum quantity
        (P2, S1, 1),            // 1: fine
        (P3, S2, 2),            // 2: PO of S2 below minimum order value
        (P_UNKNOWN, S3, 1),     // 3: unknown product
        (P4, S3, 1),            // 4: fine
        (P_NO_CONTRACT, S1, 1), // 5: no contract
        (P_INACTIVE, S2, 1),    // 6: inactive product (so S2's MOV is not checked)
        (P3, S_INACTIVE, 1),    // 7: inactive supplier
    ]);
    let r = price_order(&o, &cat).expect_err("rejected");
    assert_eq!(r.code, RejectionCode::MultipleReasons);
    assert_eq!(
        entries(&r),
        vec![
            (Some(0), RejectionCode::BelowMinimumQuantity),
            (Some(3), RejectionCode::UnknownProduct),
            (Some(5), RejectionCode::NoActiveContract),
            (Some(6), RejectionCode::InactiveProduct),
            (Some(7), RejectionCode::InactiveSupplier),
        ]
    );

    // Without the inactive product line, S2's PO is complete and its MOV failure shows too.
    let mut o2 = o.clone();
    o2.lines.remove(6);
    let r2 = price_order(&o2, &cat).expect_err("rejected");
    assert_eq!(
        entries(&r2),
        vec![
            (Some(0), RejectionCode::BelowMinimumQuantity),
            (Some(2), RejectionCode::BelowMinimumOrderValue),
            (Some(3), RejectionCode::UnknownProduct),
            (Some(5), RejectionCode::NoActiveContract),
            (Some(6), RejectionCode::InactiveSupplier),
        ]
    );
}

#[test]
fn same_code_everywhere_keeps_that_code() {
    let cat = simple_catalogue();
    let r = price_order(
        &order(&[
            (P_UNKNOWN, S1, 1),
            (P1, S1, 1),
            (Uuid::from_u128(0x0c), S2, 1),
        ]),
        &cat,
    )
    .expect_err("rejected");
    assert_eq!(r.code, RejectionCode::UnknownProduct);
    assert_eq!(
        entries(&r),
        vec![
            (Some(0), RejectionCode::UnknownProduct),
            (Some(2), RejectionCode::UnknownProduct)
        ]
    );
}

#[test]
fn empty_order_prices_to_nothing() {
    // The ingress refuses empty orders; the domain just returns no purchase order.
    let priced = price_order(&order(&[]), &simple_catalogue()).expect("empty");
    assert!(priced.purchase_orders.is_empty());
    assert_eq!(priced.totals.excluding_tax, d("0.00"));
}

#[test]
fn an_assessment_keeps_the_would_be_purchase_orders_and_every_problem() {
    let cat = catalogue(vec![
        Offer {
            minimum_order_value: Some(d("150.00")),
            ..offer(S1, P1, "10.00", "20.00")
        },
        offer(S2, P3, "12.34", "5.50"),
        offer(S3, P4, "10.00", "20.00"),
    ]);
    // S1 is 30.00 short of its minimum; S2 prices; S3 has a line without a contract.
    let o = order(&[
        (P1, S1, 12),
        (P3, S2, 2),
        (P4, S3, 1),
        (P_NO_CONTRACT, S3, 1),
    ]);
    let assessed = assess_order(&o, &cat);
    let suppliers: Vec<Uuid> = assessed
        .purchase_orders
        .iter()
        .map(|po| po.supplier_id)
        .collect();
    assert_eq!(
        suppliers,
        [S1, S2],
        "S3 has a failing line: no purchase order"
    );
    assert_eq!(
        assessed.purchase_orders[0].totals.excluding_tax,
        d("120.00")
    );
    assert_eq!(assessed.purchase_orders[1].totals.including_tax, d("26.04"));
    assert_eq!(
        assessed.shortfalls,
        [Shortfall {
            supplier_id: S1,
            contract_id: contract_of(S1),
            minimum_order_value: d("150.00"),
            total_excluding_tax: d("120.00"),
            missing: d("30.00"),
        }]
    );
    let problems: Vec<(Option<usize>, RejectionCode)> = assessed
        .problems
        .iter()
        .map(|p| (p.index, p.code))
        .collect();
    assert_eq!(
        problems,
        [
            (Some(0), RejectionCode::BelowMinimumOrderValue),
            (Some(3), RejectionCode::NoActiveContract),
        ]
    );
    // The decision on the same order rejects it for exactly these reasons.
    let rejected = price_order(&o, &cat).expect_err("rejected");
    assert_eq!(rejected.lines, assessed.problems);
    // Fixed, the assessment has no problem and its purchase orders are the priced order's.
    let fixed = order(&[(P1, S1, 15), (P3, S2, 2)]);
    let assessed = assess_order(&fixed, &cat);
    assert!(assessed.problems.is_empty() && assessed.shortfalls.is_empty());
    assert_eq!(
        price_order(&fixed, &cat).expect("priced").purchase_orders,
        assessed.purchase_orders
    );
}
