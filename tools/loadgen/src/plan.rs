//! Pure part of the set-up: which (supplier, product, quantity) lines every order carries.
//!
//! Orders must be priced, not rejected, so quantities respect each line's minimum order
//! quantity and each purchase order reaches its contract's minimum order value.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// Products taken per supplier: 3 suppliers × 3 products = the DESIGN's 9-line order.
pub const PRODUCTS_PER_SUPPLIER: usize = 3;

/// Largest quantity the API accepts on one line (DESIGN §6).
pub const MAX_QUANTITY: u64 = 1_000_000;

/// One contract as returned by `GET /api/v1/contracts` (only the fields used here).
#[derive(Debug, Clone, Deserialize)]
pub struct Contract {
    /// Contract id.
    pub id: Uuid,
    /// Supplier bound by the contract.
    pub supplier_id: Uuid,
    /// Lifecycle status; only ACTIVE is used.
    #[serde(default)]
    pub status: String,
    /// First valid day, inclusive.
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// Last valid day, inclusive.
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    /// Minimum purchase-order value excl. VAT (decimal string or null).
    #[serde(default)]
    pub minimum_order_value: Value,
    /// Priced products.
    #[serde(default)]
    pub lines: Vec<ContractLine>,
}

/// One contract line (amounts kept as raw JSON: decimal strings or numbers are both accepted).
#[derive(Debug, Clone, Deserialize)]
pub struct ContractLine {
    /// Product priced by the line.
    pub product_id: Uuid,
    /// Base unit price excl. VAT.
    pub unit_price: Value,
    /// Minimum quantity per order line (default 1).
    #[serde(default)]
    pub min_order_quantity: Value,
    /// Quantity breaks.
    #[serde(default)]
    pub price_breaks: Vec<PriceBreak>,
}

/// A price break; its `min_quantity` threshold is not read: `floor_price` assumes the largest
/// reduction applies, whatever the quantity.
#[derive(Debug, Clone, Deserialize)]
pub struct PriceBreak {
    /// Reduction in percent.
    #[serde(default)]
    pub reduction_percent: Value,
}

/// One line of the order body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLine {
    /// Product ordered.
    pub product_id: Uuid,
    /// Supplier it is ordered from.
    pub supplier_id: Uuid,
    /// Quantity in conditioning units.
    pub quantity: u64,
}

/// The order every request submits, plus remarks about shortfalls.
#[derive(Debug, Clone, Default)]
pub struct OrderPlan {
    /// Order lines, grouped by supplier.
    pub lines: Vec<PlannedLine>,
    /// Number of distinct suppliers used.
    pub suppliers: usize,
    /// Human-readable remarks (fewer suppliers or products than asked, unreachable minimums).
    pub notes: Vec<String>,
}

/// Reads a decimal from a JSON string or number; `None` for null, absent or malformed values.
pub fn decimal_from_json(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// Lowest unit price the worker can charge for this line: the largest break applied, truncated.
///
/// Pricing rounds half away from zero, which never goes below truncation, so a purchase order
/// reaching the minimum at these prices reaches it at the real prices too.
pub fn floor_price(line: &ContractLine) -> Option<Decimal> {
    let base = decimal_from_json(&line.unit_price)?;
    let max_reduction = line
        .price_breaks
        .iter()
        .filter_map(|b| decimal_from_json(&b.reduction_percent))
        .fold(Decimal::ZERO, Decimal::max)
        .clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
    let reduced = base * (Decimal::ONE_HUNDRED - max_reduction) / Decimal::ONE_HUNDRED;
    Some(reduced.round_dp_with_strategy(2, RoundingStrategy::ToZero))
}

/// Minimum order quantity of a line, rounded up to an integer and at least 1.
pub fn min_quantity(line: &ContractLine) -> u64 {
    decimal_from_json(&line.min_order_quantity)
        .map(|d| d.ceil())
        .and_then(|d| u64::try_from(d).ok())
        .unwrap_or(1)
        .max(1)
}

/// Quantities for one purchase order: each line's minimum, scaled by the smallest integer factor
/// that makes `Σ price × quantity` reach `minimum`. `None` when the minimum cannot be reached
/// (all prices zero, or a quantity would exceed `MAX_QUANTITY`).
pub fn quantities_for_minimum(
    prices_and_minimums: &[(Decimal, u64)],
    minimum: Option<Decimal>,
) -> Option<Vec<u64>> {
    let base: Vec<u64> = prices_and_minimums.iter().map(|&(_, q)| q.max(1)).collect();
    let total: Decimal = prices_and_minimums
        .iter()
        .zip(&base)
        .map(|(&(p, _), &q)| p * Decimal::from(q))
        .sum();
    let factor = match minimum {
        None => 1,
        Some(m) if m <= total => 1,
        Some(_) if total <= Decimal::ZERO => return None,
        Some(m) => u64::try_from((m / total).ceil()).ok()?,
    };
    let scaled: Vec<u64> = base
        .iter()
        .map(|q| q.checked_mul(factor))
        .collect::<Option<_>>()?;
    scaled.iter().all(|&q| q <= MAX_QUANTITY).then_some(scaled)
}

/// A line a supplier could deliver, with the minimum order value of its contract.
type Candidate = (ContractLine, Option<Decimal>);

/// Picks `suppliers` suppliers and up to `PRODUCTS_PER_SUPPLIER` products each from the ACTIVE
/// contracts valid on `today`, with quantities that should be priced without rejection.
pub fn plan_order(contracts: &[Contract], suppliers: usize, today: NaiveDate) -> OrderPlan {
    // supplier -> candidate (line, minimum order value of its contract), one per product.
    let mut by_supplier: BTreeMap<Uuid, Vec<Candidate>> = BTreeMap::new();
    let mut seen: HashSet<(Uuid, Uuid)> = HashSet::new();
    let mut usable: Vec<&Contract> = contracts
        .iter()
        .filter(|c| c.status.eq_ignore_ascii_case("ACTIVE"))
        .filter(|c| c.valid_from.is_none_or(|d| d <= today))
        .filter(|c| c.valid_until.is_none_or(|d| today <= d))
        .collect();
    // Contracts with more lines first, so one supplier's products tend to share one contract.
    usable.sort_by(|a, b| b.lines.len().cmp(&a.lines.len()).then(a.id.cmp(&b.id)));
    for c in usable {
        let minimum = decimal_from_json(&c.minimum_order_value);
        for line in &c.lines {
            if floor_price(line).is_some() && seen.insert((c.supplier_id, line.product_id)) {
                by_supplier
                    .entry(c.supplier_id)
                    .or_default()
                    .push((line.clone(), minimum));
            }
        }
    }
    // Suppliers offering the most products first; ties broken by id for reproducibility.
    let mut ranked: Vec<(Uuid, Vec<Candidate>)> = by_supplier.into_iter().collect();
    ranked.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));

    let mut plan = OrderPlan::default();
    for (supplier_id, candidates) in ranked {
        if plan.suppliers == suppliers {
            break;
        }
        let chosen = &candidates[..candidates.len().min(PRODUCTS_PER_SUPPLIER)];
        // Lines may come from several contracts of the supplier: satisfy the strictest minimum.
        let minimum = chosen.iter().filter_map(|(_, m)| *m).max();
        let inputs: Vec<(Decimal, u64)> = chosen
            .iter()
            .map(|(l, _)| (floor_price(l).unwrap_or_default(), min_quantity(l)))
            .collect();
        let Some(quantities) = quantities_for_minimum(&inputs, minimum) else {
            plan.notes.push(format!(
                "supplier {supplier_id}: minimum order value {} unreachable, skipped",
                minimum.unwrap_or_default()
            ));
            continue;
        };
        if chosen.len() < PRODUCTS_PER_SUPPLIER {
            plan.notes.push(format!(
                "supplier {supplier_id}: only {} product(s) under contract, not {PRODUCTS_PER_SUPPLIER}",
                chosen.len()
            ));
        }
        for ((line, _), quantity) in chosen.iter().zip(quantities) {
            plan.lines.push(PlannedLine {
                product_id: line.product_id,
                supplier_id,
                quantity,
            });
        }
        plan.suppliers += 1;
    }
    if plan.suppliers < suppliers {
        plan.notes.push(format!(
            "only {} supplier(s) with a usable ACTIVE contract, {suppliers} asked",
            plan.suppliers
        ));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn line(product: u128, price: &str, moq: Value, breaks: &[&str]) -> ContractLine {
        ContractLine {
            product_id: Uuid::from_u128(product),
            unit_price: json!(price),
            min_order_quantity: moq,
            price_breaks: breaks
                .iter()
                .map(|r| PriceBreak {
                    reduction_percent: json!(r),
                })
                .collect(),
        }
    }

    fn contract(id: u128, supplier: u128, min: Value, lines: Vec<ContractLine>) -> Contract {
        Contract {
            id: Uuid::from_u128(id),
            supplier_id: Uuid::from_u128(supplier),
            status: "ACTIVE".into(),
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1),
            valid_until: NaiveDate::from_ymd_opt(2026, 12, 31),
            minimum_order_value: min,
            lines,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    }

    #[test]
    fn decimals_from_strings_and_numbers() {
        assert_eq!(decimal_from_json(&json!("18.50")), Some(d("18.50")));
        assert_eq!(decimal_from_json(&json!(12)), Some(d("12")));
        assert_eq!(decimal_from_json(&json!(1.5)), Some(d("1.5")));
        assert_eq!(decimal_from_json(&Value::Null), None);
        assert_eq!(decimal_from_json(&json!("abc")), None);
    }

    #[test]
    fn floor_price_applies_the_largest_break_and_truncates() {
        assert_eq!(
            floor_price(&line(1, "10.00", json!(1), &[])),
            Some(d("10.00"))
        );
        // 9.99 × 0.85 = 8.4915 → 8.49 (never above what the worker charges).
        assert_eq!(
            floor_price(&line(1, "9.99", json!(1), &["5", "15.00"])),
            Some(d("8.49"))
        );
        assert_eq!(floor_price(&line(1, "bad", json!(1), &[])), None);
    }

    #[test]
    fn min_quantity_defaults_to_one_and_rounds_up() {
        assert_eq!(min_quantity(&line(1, "1", Value::Null, &[])), 1);
        assert_eq!(min_quantity(&line(1, "1", json!(0), &[])), 1);
        assert_eq!(min_quantity(&line(1, "1", json!("2.5"), &[])), 3);
        assert_eq!(min_quantity(&line(1, "1", json!(24), &[])), 24);
    }

    #[test]
    fn quantities_untouched_without_or_below_minimum() {
        let inputs = [(d("2.00"), 5), (d("1.00"), 1)];
        assert_eq!(quantities_for_minimum(&inputs, None), Some(vec![5, 1]));
        assert_eq!(
            quantities_for_minimum(&inputs, Some(d("11.00"))),
            Some(vec![5, 1])
        );
    }

    #[test]
    fn quantities_scaled_to_reach_the_minimum() {
        // Base total 11.00; minimum 100 → factor ceil(100/11) = 10 → total 110.
        let inputs = [(d("2.00"), 5), (d("1.00"), 1)];
        let q = quantities_for_minimum(&inputs, Some(d("100"))).unwrap();
        assert_eq!(q, vec![50, 10]);
        let total: Decimal = inputs
            .iter()
            .zip(&q)
            .map(|(&(p, _), &q)| p * Decimal::from(q))
            .sum();
        assert!(total >= d("100"));
        // Exactly reachable: factor 2 gives exactly the minimum.
        assert_eq!(
            quantities_for_minimum(&[(d("0.25"), 2)], Some(d("1.00"))),
            Some(vec![4])
        );
    }

    #[test]
    fn unreachable_minimum_is_none() {
        assert_eq!(quantities_for_minimum(&[(d("0"), 1)], Some(d("1"))), None);
        assert_eq!(
            quantities_for_minimum(&[(d("0.01"), 1)], Some(d("1000000000"))),
            None
        );
    }

    #[test]
    fn plans_three_suppliers_three_products() {
        let mut contracts = Vec::new();
        for s in 1..=4u128 {
            let lines = (1..=4u128)
                .map(|p| line(s * 100 + p, "3.00", json!(2), &["10"]))
                .collect();
            contracts.push(contract(s, s, json!("150.00"), lines));
        }
        let plan = plan_order(&contracts, 3, today());
        assert_eq!(plan.suppliers, 3);
        assert_eq!(plan.lines.len(), 9);
        assert!(plan.notes.is_empty(), "{:?}", plan.notes);
        for s in plan.lines.chunks(3) {
            // floor price 2.70 × 2 × 3 lines = 16.20 → factor ceil(150 / 16.2) = 10.
            assert!(s.iter().all(|l| l.quantity == 20));
            assert!(s.iter().all(|l| l.supplier_id == s[0].supplier_id));
        }
    }

    #[test]
    fn reports_shortfalls_and_ignores_unusable_contracts() {
        let mut expired = contract(1, 1, Value::Null, vec![line(11, "1", json!(1), &[])]);
        expired.valid_until = NaiveDate::from_ymd_opt(2026, 5, 31);
        let mut draft = contract(2, 2, Value::Null, vec![line(21, "1", json!(1), &[])]);
        draft.status = "DRAFT".into();
        let small = contract(3, 3, Value::Null, vec![line(31, "1", json!(1), &[])]);
        let plan = plan_order(&[expired, draft, small], 3, today());
        assert_eq!(plan.suppliers, 1);
        assert_eq!(plan.lines.len(), 1);
        assert_eq!(plan.lines[0].supplier_id, Uuid::from_u128(3));
        assert_eq!(plan.notes.len(), 2, "{:?}", plan.notes);
    }

    #[test]
    fn same_product_twice_for_a_supplier_is_used_once() {
        let a = contract(1, 1, json!("10"), vec![line(11, "1", json!(1), &[])]);
        let b = contract(2, 1, json!("50"), vec![line(11, "1", json!(1), &[])]);
        let plan = plan_order(&[a, b], 1, today());
        assert_eq!(plan.lines.len(), 1);
        // The contract listed first after sorting (id 1) provides the line and its minimum.
        assert_eq!(plan.lines[0].quantity, 10);
    }
}
