//! Master data and contract offers that pricing reads, loaded by the worker as plain data.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The product fields a purchase order line crystallises, plus the active flag pricing checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductInfo {
    /// Product id.
    pub id: Uuid,
    /// Unique product code, quoted in rejection messages because staff recognise it.
    pub code: String,
    /// Display name, copied onto the PO line.
    pub name: String,
    /// Unit the price and quantity are expressed in (e.g. "pallet of 500").
    pub conditioning_unit: String,
    /// Inactive products cannot be ordered.
    pub active: bool,
}

/// The supplier fields pricing needs: only whether it may receive orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierInfo {
    /// Supplier id.
    pub id: Uuid,
    /// Inactive suppliers cannot receive purchase orders.
    pub active: bool,
}

/// A quantity threshold from which a percentage reduction applies to the unit price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceBreak {
    /// Smallest quantity (conditioning units) the reduction applies to.
    pub min_quantity: u32,
    /// Reduction in percent of the base unit price (e.g. 5.00); a decimal string in JSON.
    pub reduction_percent: Decimal,
}

/// One contract line of an ACTIVE contract: the terms supplier S grants for product P.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Master contract id, crystallised on the PO line.
    pub contract_id: Uuid,
    /// Contract line id, crystallised on the PO line.
    pub contract_line_id: Uuid,
    /// Supplier bound by the contract.
    pub supplier_id: Uuid,
    /// Product the line prices.
    pub product_id: Uuid,
    /// First day the contract applies (inclusive).
    pub valid_from: NaiveDate,
    /// Last day the contract applies (inclusive).
    pub valid_until: NaiveDate,
    /// Contract-level minimum per purchase order, excluding VAT; `None` means no minimum.
    pub minimum_order_value: Option<Decimal>,
    /// Base price per conditioning unit, excluding VAT.
    pub unit_price: Decimal,
    /// Smallest quantity a line may order (conditioning units).
    pub min_order_quantity: u32,
    /// Quantity reductions; order in the list does not matter.
    pub price_breaks: Vec<PriceBreak>,
    /// VAT rate in percent (e.g. 20.00).
    pub tax_rate: Decimal,
    /// The supplier's own reference for the product, printed on the PO for the supplier.
    pub supplier_reference: Option<String>,
}

impl Offer {
    /// Whether the contract covers `date`; both validity bounds are inclusive.
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && date <= self.valid_until
    }
}

/// Everything pricing may look up: products, suppliers and offers of ACTIVE contracts only.
///
/// Build it with [`Catalogue::new`] so offers are indexed by (supplier, product); lookups
/// stay correct (by falling back to a scan) if `offers` is changed after construction.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Products by id.
    pub products: HashMap<Uuid, ProductInfo>,
    /// Suppliers by id.
    pub suppliers: HashMap<Uuid, SupplierInfo>,
    /// Offers of ACTIVE contracts; the caller filters on contract status.
    pub offers: Vec<Offer>,
    /// Positions in `offers` per (supplier, product), so pricing a line is not a full scan.
    offer_index: HashMap<(Uuid, Uuid), Vec<usize>>,
    /// `offers.len()` when the index was built; a mismatch means the index is stale.
    indexed_len: usize,
}

impl Catalogue {
    /// Builds a catalogue from the rows the worker loaded and indexes the offers.
    pub fn new(
        products: Vec<ProductInfo>,
        suppliers: Vec<SupplierInfo>,
        offers: Vec<Offer>,
    ) -> Self {
        let mut offer_index: HashMap<(Uuid, Uuid), Vec<usize>> = HashMap::new();
        for (position, offer) in offers.iter().enumerate() {
            offer_index
                .entry((offer.supplier_id, offer.product_id))
                .or_default()
                .push(position);
        }
        Catalogue {
            products: products.into_iter().map(|p| (p.id, p)).collect(),
            suppliers: suppliers.into_iter().map(|s| (s.id, s)).collect(),
            indexed_len: offers.len(),
            offers,
            offer_index,
        }
    }

    /// The offer of `supplier_id` for `product_id` valid on `date`, if any.
    ///
    /// Activation forbids overlapping ACTIVE contracts, so at most one should match; if data
    /// breaks that rule anyway the choice is still deterministic: latest `valid_from`, then the
    /// smallest contract id, then the smallest contract line id.
    pub fn offer_on(&self, supplier_id: Uuid, product_id: Uuid, date: NaiveDate) -> Option<&Offer> {
        let matches = |o: &&Offer| {
            o.supplier_id == supplier_id && o.product_id == product_id && o.is_valid_on(date)
        };
        let preference = |o: &&Offer| {
            (
                o.valid_from,
                Reverse(o.contract_id),
                Reverse(o.contract_line_id),
            )
        };
        if self.indexed_len == self.offers.len() && !self.offers.is_empty() {
            self.offer_index
                .get(&(supplier_id, product_id))
                .into_iter()
                .flatten()
                .filter_map(|&position| self.offers.get(position))
                .filter(matches)
                .max_by_key(preference)
        } else {
            self.offers.iter().filter(matches).max_by_key(preference)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::d;

    fn date(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn offer(
        contract: u128,
        supplier: u128,
        product: u128,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Offer {
        Offer {
            contract_id: Uuid::from_u128(contract),
            contract_line_id: Uuid::from_u128(contract * 1000 + product),
            supplier_id: Uuid::from_u128(supplier),
            product_id: Uuid::from_u128(product),
            valid_from: from,
            valid_until: until,
            minimum_order_value: None,
            unit_price: d("10.00"),
            min_order_quantity: 1,
            price_breaks: vec![],
            tax_rate: d("20.00"),
            supplier_reference: None,
        }
    }

    #[test]
    fn offer_on_respects_inclusive_validity() {
        let cat = Catalogue::new(
            vec![],
            vec![],
            vec![offer(1, 10, 100, date(2026, 1, 1), date(2026, 12, 31))],
        );
        let s = Uuid::from_u128(10);
        let p = Uuid::from_u128(100);
        let cases = [
            (date(2025, 12, 31), false),
            (date(2026, 1, 1), true),
            (date(2026, 6, 15), true),
            (date(2026, 12, 31), true),
            (date(2027, 1, 1), false),
        ];
        for (on, found) in cases {
            assert_eq!(cat.offer_on(s, p, on).is_some(), found, "on {on}");
        }
    }

    #[test]
    fn offer_on_matches_supplier_and_product() {
        let cat = Catalogue::new(
            vec![],
            vec![],
            vec![offer(1, 10, 100, date(2026, 1, 1), date(2026, 12, 31))],
        );
        let on = date(2026, 3, 1);
        assert!(
            cat.offer_on(Uuid::from_u128(11), Uuid::from_u128(100), on)
                .is_none()
        );
        assert!(
            cat.offer_on(Uuid::from_u128(10), Uuid::from_u128(101), on)
                .is_none()
        );
    }

    #[test]
    fn offer_on_picks_deterministically_among_overlaps() {
        let a = offer(2, 10, 100, date(2026, 1, 1), date(2026, 12, 31));
        let b = offer(1, 10, 100, date(2026, 3, 1), date(2026, 12, 31));
        let c = offer(3, 10, 100, date(2026, 3, 1), date(2026, 12, 31));
        let cat = Catalogue::new(vec![], vec![], vec![a, c, b]);
        let s = Uuid::from_u128(10);
        let p = Uuid::from_u128(100);
        // Latest valid_from wins, then the smallest contract id.
        let got = cat.offer_on(s, p, date(2026, 4, 1)).expect("offer");
        assert_eq!(got.contract_id, Uuid::from_u128(1));
        // Before the later contracts start only contract 2 applies.
        let got = cat.offer_on(s, p, date(2026, 2, 1)).expect("offer");
        assert_eq!(got.contract_id, Uuid::from_u128(2));
    }

    #[test]
    fn offer_on_stays_correct_when_offers_change_after_new() {
        let mut cat = Catalogue::new(vec![], vec![], vec![]);
        cat.offers
            .push(offer(1, 10, 100, date(2026, 1, 1), date(2026, 12, 31)));
        assert!(
            cat.offer_on(Uuid::from_u128(10), Uuid::from_u128(100), date(2026, 5, 5))
                .is_some()
        );

        let mut by_default = Catalogue::default();
        by_default
            .offers
            .push(offer(1, 10, 100, date(2026, 1, 1), date(2026, 12, 31)));
        assert!(
            by_default
                .offer_on(Uuid::from_u128(10), Uuid::from_u128(100), date(2026, 5, 5))
                .is_some()
        );
    }

    #[test]
    fn new_indexes_products_and_suppliers_by_id() {
        let p = ProductInfo {
            id: Uuid::from_u128(100),
            code: "TRAY-01".into(),
            name: "Tray".into(),
            conditioning_unit: "box of 50".into(),
            active: true,
        };
        let s = SupplierInfo {
            id: Uuid::from_u128(10),
            active: false,
        };
        let cat = Catalogue::new(vec![p.clone()], vec![s.clone()], vec![]);
        assert_eq!(cat.products.get(&p.id), Some(&p));
        assert_eq!(cat.suppliers.get(&s.id), Some(&s));
    }

    #[test]
    fn price_break_json_uses_decimal_strings() {
        let json = serde_json::json!({"min_quantity": 100, "reduction_percent": "5.00"});
        let pb: PriceBreak = serde_json::from_value(json.clone()).expect("deserialise");
        assert_eq!(
            pb,
            PriceBreak {
                min_quantity: 100,
                reduction_percent: d("5.00")
            }
        );
        assert_eq!(serde_json::to_value(&pb).expect("serialise"), json);
    }
}
