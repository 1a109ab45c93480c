//! Turning a requested order into one priced purchase order per supplier, or a rejection.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalogue::{Catalogue, Offer};
use super::money::{CURRENCY_EUR, Totals, round_money};
use super::order::{OrderLine, OrderToPrice};
use super::pricing::{
    applicable_reduction, discounted_unit_price, line_total, purchase_order_totals,
};
use super::rejection::{LineRejection, Rejection, RejectionCode};

/// A priced line, crystallising the contract terms and product data at split time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    /// Position of the line in the request.
    pub index: usize,
    /// Product ordered.
    pub product_id: Uuid,
    /// Product code at split time.
    pub product_code: String,
    /// Product name at split time.
    pub product_name: String,
    /// Conditioning unit the quantity and price refer to.
    pub conditioning_unit: String,
    /// The supplier's own product reference, if the contract line has one.
    pub supplier_reference: Option<String>,
    /// Contract the price comes from.
    pub contract_id: Uuid,
    /// Contract line the price comes from.
    pub contract_line_id: Uuid,
    /// Quantity in conditioning units.
    pub quantity: u32,
    /// Contract unit price before reduction, excluding VAT.
    pub base_unit_price: Decimal,
    /// Reduction percent of the applicable price break (0 if none).
    pub reduction_percent: Decimal,
    /// Unit price after reduction, rounded to cents, excluding VAT.
    pub unit_price: Decimal,
    /// VAT rate in percent.
    pub tax_rate: Decimal,
    /// `unit_price × quantity`, excluding VAT.
    pub line_total: Decimal,
}

/// The purchase order for one supplier: its lines in request order and its totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedPurchaseOrder {
    /// Supplier receiving this purchase order.
    pub supplier_id: Uuid,
    /// Lines of this supplier, in request order.
    pub lines: Vec<PricedLine>,
    /// Totals with VAT rounded per rate.
    pub totals: Totals,
}

/// A fully priced order: one purchase order per distinct supplier, in first-appearance order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedOrder {
    /// Purchase orders, ordered by the supplier's first appearance in the request.
    pub purchase_orders: Vec<PricedPurchaseOrder>,
    /// Sums of the purchase orders' totals (the master order totals).
    pub totals: Totals,
}

/// A purchase order whose total falls short of its contract's minimum order value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    /// The supplier of the purchase order.
    pub supplier_id: Uuid,
    /// The contract whose minimum is the highest one not reached.
    pub contract_id: Uuid,
    /// That minimum, excluding VAT.
    pub minimum_order_value: Decimal,
    /// The purchase order's total excluding VAT.
    pub total_excluding_tax: Decimal,
    /// What is still missing to reach the minimum.
    pub missing: Decimal,
}

/// What pricing makes of an order before the all-or-nothing rule: the purchase order of every
/// supplier whose lines all priced, and every reason the order would be rejected for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Purchase orders of the suppliers whose lines all priced (below their minimum or not),
    /// ordered by the supplier's first appearance.
    pub purchase_orders: Vec<PricedPurchaseOrder>,
    /// Every failure: order-level ones, then per line in request order.
    pub problems: Vec<LineRejection>,
    /// The purchase orders below their minimum order value, with the amount missing.
    pub shortfalls: Vec<Shortfall>,
}

/// Splits and prices an order, all or nothing: any failure rejects the whole order.
///
/// Every failing line is reported (never only the first), each with its first failing reason
/// in the order UNKNOWN_PRODUCT, INACTIVE_PRODUCT, UNKNOWN_SUPPLIER, INACTIVE_SUPPLIER,
/// NO_ACTIVE_CONTRACT, BELOW_MINIMUM_QUANTITY. The minimum order value is only checked for
/// suppliers whose lines all priced, since a PO total is meaningless with a line missing.
pub fn price_order(order: &OrderToPrice, catalogue: &Catalogue) -> Result<PricedOrder, Rejection> {
    let assessment = assess_order(order, catalogue);
    if let Some(rejection) = Rejection::from_lines(assessment.problems) {
        return Err(rejection);
    }
    let purchase_orders = assessment.purchase_orders;
    let totals = Totals::sum(purchase_orders.iter().map(|po| &po.totals));
    Ok(PricedOrder {
        purchase_orders,
        totals,
    })
}

/// Prices what can be priced of an order and lists every problem: the decision
/// [`price_order`] takes, and the preview of a cart (which shows the would-be purchase orders
/// with the problems still to fix).
pub fn assess_order(order: &OrderToPrice, catalogue: &Catalogue) -> Assessment {
    let mut failures = Vec::new();
    if !order.station_active {
        failures.push(LineRejection::order_level(
            RejectionCode::InactiveStation,
            "the ordering station is inactive and cannot place orders",
        ));
    }

    let mut groups: Vec<SupplierGroup> = Vec::new();
    let mut group_of_supplier: HashMap<Uuid, usize> = HashMap::new();
    for (index, line) in order.lines.iter().enumerate() {
        let position = *group_of_supplier
            .entry(line.supplier_id)
            .or_insert_with(|| {
                groups.push(SupplierGroup::new(line.supplier_id));
                groups.len() - 1
            });
        // `position` was just returned by the map, which only holds indexes pushed above.
        let group = &mut groups[position];
        match price_line(index, line, order, catalogue) {
            Ok((priced, offer)) => {
                if let Some(minimum) = offer.minimum_order_value {
                    group.minimums.push((offer.contract_id, minimum));
                }
                group.lines.push(priced);
            }
            Err(failure) => {
                group.complete = false;
                failures.push(failure);
            }
        }
    }

    let mut purchase_orders = Vec::with_capacity(groups.len());
    let mut shortfalls = Vec::new();
    for group in groups.into_iter().filter(|g| g.complete) {
        let totals = purchase_order_totals(&group.lines);
        if let Some((contract_id, minimum)) = group.violated_minimum(totals.excluding_tax) {
            let message = format!(
                "purchase order total {} {CURRENCY_EUR} is below the contract minimum {} {CURRENCY_EUR} \
                 (supplier {}, contract {contract_id}; amounts exclude VAT)",
                totals.excluding_tax,
                round_money(minimum),
                group.supplier_id,
            );
            failures.extend(group.lines.iter().map(|l| {
                LineRejection::line(
                    l.index,
                    RejectionCode::BelowMinimumOrderValue,
                    message.clone(),
                )
            }));
            shortfalls.push(Shortfall {
                supplier_id: group.supplier_id,
                contract_id,
                minimum_order_value: round_money(minimum),
                total_excluding_tax: totals.excluding_tax,
                missing: round_money(minimum - totals.excluding_tax),
            });
        }
        purchase_orders.push(PricedPurchaseOrder {
            supplier_id: group.supplier_id,
            lines: group.lines,
            totals,
        });
    }
    failures.sort_by_key(|l| l.index.map_or((0, 0), |i| (1, i)));
    Assessment {
        purchase_orders,
        problems: failures,
        shortfalls,
    }
}

/// Lines of one supplier gathered while pricing, before they become a purchase order.
struct SupplierGroup {
    supplier_id: Uuid,
    lines: Vec<PricedLine>,
    /// (contract, minimum order value) of every priced line whose contract sets a minimum.
    minimums: Vec<(Uuid, Decimal)>,
    /// False as soon as one of the supplier's lines failed.
    complete: bool,
}

impl SupplierGroup {
    fn new(supplier_id: Uuid) -> Self {
        SupplierGroup {
            supplier_id,
            lines: Vec::new(),
            minimums: Vec::new(),
            complete: true,
        }
    }

    /// The highest contract minimum the PO total falls short of, if any.
    ///
    /// A supplier may serve one PO from several contracts (different products). Each
    /// contract's minimum is compared with the whole PO's total, because the minimum is a
    /// per-PO commitment and the supplier ships one PO; the PO fails if it falls short of any
    /// of them, and the message names the highest one, the amount the station must reach.
    fn violated_minimum(&self, po_total: Decimal) -> Option<(Uuid, Decimal)> {
        self.minimums
            .iter()
            .copied()
            .filter(|(_, minimum)| po_total < *minimum)
            .max_by(|(ca, ma), (cb, mb)| ma.cmp(mb).then(cb.cmp(ca)))
    }
}

/// Prices one request line or returns its first failing reason.
fn price_line<'c>(
    index: usize,
    line: &OrderLine,
    order: &OrderToPrice,
    catalogue: &'c Catalogue,
) -> Result<(PricedLine, &'c Offer), LineRejection> {
    let fail = |code, message: String| LineRejection::line(index, code, message);
    let product = catalogue.products.get(&line.product_id).ok_or_else(|| {
        fail(
            RejectionCode::UnknownProduct,
            format!("product {} does not exist", line.product_id),
        )
    })?;
    if !product.active {
        return Err(fail(
            RejectionCode::InactiveProduct,
            format!(
                "product {} ({}) is inactive and cannot be ordered",
                product.code, product.id
            ),
        ));
    }
    let supplier = catalogue.suppliers.get(&line.supplier_id).ok_or_else(|| {
        fail(
            RejectionCode::UnknownSupplier,
            format!("supplier {} does not exist", line.supplier_id),
        )
    })?;
    if !supplier.active {
        return Err(fail(
            RejectionCode::InactiveSupplier,
            format!(
                "supplier {} is inactive and cannot receive orders",
                supplier.id
            ),
        ));
    }
    let offer = catalogue
        .offer_on(supplier.id, product.id, order.order_date)
        .ok_or_else(|| {
            fail(
                RejectionCode::NoActiveContract,
                format!(
                    "supplier {} has no active contract for product {} ({}) valid on {}",
                    supplier.id, product.code, product.id, order.order_date
                ),
            )
        })?;
    // A zero quantity is never a purchase, even if a contract line says its minimum is 0.
    let minimum_quantity = offer.min_order_quantity.max(1);
    if line.quantity < minimum_quantity {
        return Err(fail(
            RejectionCode::BelowMinimumQuantity,
            format!(
                "quantity {} of product {} is below the minimum order quantity {} ({}) of contract {}",
                line.quantity,
                product.code,
                minimum_quantity,
                product.conditioning_unit,
                offer.contract_id
            ),
        ));
    }

    let reduction_percent = applicable_reduction(&offer.price_breaks, line.quantity);
    let unit_price = discounted_unit_price(offer.unit_price, reduction_percent);
    let priced = PricedLine {
        index,
        product_id: product.id,
        product_code: product.code.clone(),
        product_name: product.name.clone(),
        conditioning_unit: product.conditioning_unit.clone(),
        supplier_reference: offer.supplier_reference.clone(),
        contract_id: offer.contract_id,
        contract_line_id: offer.contract_line_id,
        quantity: line.quantity,
        base_unit_price: offer.unit_price,
        reduction_percent,
        unit_price,
        tax_rate: offer.tax_rate,
        line_total: line_total(unit_price, line.quantity),
    };
    Ok((priced, offer))
}

#[cfg(test)]
mod tests;
