//! Which contracts in force a contract being activated would overlap: the same supplier, a
//! line for the same product, and validity ranges (inclusive dates) sharing at least one day.

use chrono::NaiveDate;
use uuid::Uuid;

/// A contract as the overlap rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractSpan {
    /// Contract id.
    pub id: Uuid,
    /// Contract number, for the refusal.
    pub number: String,
    /// Its supplier.
    pub supplier_id: Uuid,
    /// First day of validity.
    pub valid_from: NaiveDate,
    /// Last day of validity (inclusive).
    pub valid_until: NaiveDate,
    /// The products it has lines for.
    pub product_ids: Vec<Uuid>,
}

/// A contract in force that prices some of the same products over some of the same days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// The conflicting contract's number.
    pub number: String,
    /// The products both price, in the candidate's line order.
    pub product_ids: Vec<Uuid>,
}

/// Whether two inclusive date ranges share a day.
pub fn ranges_overlap(a: (NaiveDate, NaiveDate), b: (NaiveDate, NaiveDate)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

/// The overlaps of `candidate` with `in_force` (the ACTIVE and SUSPENDED contracts; the
/// candidate itself and other suppliers' contracts are ignored), in the order given.
pub fn overlaps(candidate: &ContractSpan, in_force: &[ContractSpan]) -> Vec<Overlap> {
    in_force
        .iter()
        .filter(|other| other.id != candidate.id && other.supplier_id == candidate.supplier_id)
        .filter(|other| {
            ranges_overlap(
                (candidate.valid_from, candidate.valid_until),
                (other.valid_from, other.valid_until),
            )
        })
        .filter_map(|other| {
            let shared: Vec<Uuid> = candidate
                .product_ids
                .iter()
                .copied()
                .filter(|p| other.product_ids.contains(p))
                .collect();
            (!shared.is_empty()).then(|| Overlap {
                number: other.number.clone(),
                product_ids: shared,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn span(id: u128, supplier: u128, range: (&str, &str), products: &[u128]) -> ContractSpan {
        ContractSpan {
            id: Uuid::from_u128(id),
            number: format!("MC-{id}"),
            supplier_id: Uuid::from_u128(supplier),
            valid_from: day(range.0),
            valid_until: day(range.1),
            product_ids: products.iter().map(|p| Uuid::from_u128(*p)).collect(),
        }
    }

    #[test]
    fn overlap_table() {
        let candidate = span(1, 7, ("2027-01-01", "2027-12-31"), &[10, 11, 12]);
        let cases = [
            (
                "same range, same product",
                span(2, 7, ("2027-01-01", "2027-12-31"), &[10]),
                Some(vec![10]),
            ),
            (
                "touching on the last day",
                span(2, 7, ("2026-01-01", "2027-01-01"), &[11]),
                Some(vec![11]),
            ),
            (
                "touching on the first day",
                span(2, 7, ("2027-12-31", "2028-12-31"), &[12]),
                Some(vec![12]),
            ),
            (
                "ends the day before",
                span(2, 7, ("2026-01-01", "2026-12-31"), &[10]),
                None,
            ),
            (
                "starts the day after",
                span(2, 7, ("2028-01-01", "2028-12-31"), &[10]),
                None,
            ),
            (
                "open-ended, started long ago",
                span(2, 7, ("2000-01-01", "9999-12-31"), &[12, 10]),
                Some(vec![10, 12]),
            ),
            (
                "inside the candidate",
                span(2, 7, ("2027-03-01", "2027-03-31"), &[11]),
                Some(vec![11]),
            ),
            (
                "different products",
                span(2, 7, ("2027-01-01", "2027-12-31"), &[20, 21]),
                None,
            ),
            (
                "another supplier",
                span(2, 8, ("2027-01-01", "2027-12-31"), &[10]),
                None,
            ),
            (
                "itself",
                span(1, 7, ("2027-01-01", "2027-12-31"), &[10]),
                None,
            ),
        ];
        for (name, other, expected) in cases {
            let expected: Vec<Overlap> = expected
                .map(|products| Overlap {
                    number: other.number.clone(),
                    product_ids: products.into_iter().map(Uuid::from_u128).collect(),
                })
                .into_iter()
                .collect();
            assert_eq!(
                overlaps(&candidate, std::slice::from_ref(&other)),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn every_conflicting_contract_is_named() {
        let candidate = span(1, 7, ("2027-01-01", "2027-12-31"), &[10, 11]);
        let found = overlaps(
            &candidate,
            &[
                span(2, 7, ("2027-01-01", "2027-06-30"), &[10]),
                span(3, 7, ("2026-01-01", "2026-12-31"), &[10]),
                span(4, 7, ("2027-07-01", "2027-12-31"), &[10, 11]),
            ],
        );
        let numbers: Vec<&str> = found.iter().map(|o| o.number.as_str()).collect();
        assert_eq!(numbers, ["MC-2", "MC-4"]);
    }
}
