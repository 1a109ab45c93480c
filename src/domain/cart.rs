//! A station's shopping cart: what a change does to its items (DESIGN §5.3, issue 8 §3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::refusal::{FieldIssue, Refusal, RefusalCode};

/// Most items a cart holds: the lines one order may have.
pub const MAX_ITEMS: usize = 200;
/// Largest quantity of one item (as an order line's).
pub const MAX_QUANTITY: u32 = 1_000_000;

/// One product from one supplier in the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartItem {
    /// The product.
    pub product_id: Uuid,
    /// The supplier chosen for it.
    pub supplier_id: Uuid,
    /// Conditioning units.
    pub quantity: u32,
    /// Who put it in the cart.
    pub added_by: Uuid,
    /// When.
    pub added_at: DateTime<Utc>,
}

/// What someone does to a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum CartChange {
    /// Puts a product from a supplier in the cart, or changes its quantity (0 removes it).
    SetItem {
        /// The product.
        product_id: Uuid,
        /// The supplier.
        supplier_id: Uuid,
        /// Conditioning units, 0 … 1 000 000.
        quantity: u32,
    },
    /// Takes an item out.
    RemoveItem {
        /// The product.
        product_id: Uuid,
        /// The supplier.
        supplier_id: Uuid,
    },
    /// Takes every item out.
    Empty,
}

/// The field issues of a change, before anything is looked up.
pub fn change_issues(change: &CartChange) -> Vec<FieldIssue> {
    match change {
        CartChange::SetItem { quantity, .. } if *quantity > MAX_QUANTITY => {
            vec![FieldIssue::new(
                "quantity",
                "OUT_OF_RANGE",
                format!("quantity is 0 (to remove the item) to {MAX_QUANTITY}"),
            )]
        }
        _ => Vec::new(),
    }
}

/// The items after `change` by `who` at `now`, in cart order (a new item goes last), or why
/// the change is refused.
pub fn apply_change(
    items: &[CartItem],
    change: &CartChange,
    who: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<CartItem>, Refusal> {
    let issues = change_issues(change);
    if !issues.is_empty() {
        return Err(Refusal::invalid(issues));
    }
    let position = |product_id: Uuid, supplier_id: Uuid| {
        items
            .iter()
            .position(|i| i.product_id == product_id && i.supplier_id == supplier_id)
    };
    let mut after = items.to_vec();
    match *change {
        CartChange::SetItem {
            product_id,
            supplier_id,
            quantity,
        } => match (position(product_id, supplier_id), quantity) {
            (Some(at), 0) => {
                after.remove(at);
            }
            (Some(at), quantity) => after[at].quantity = quantity,
            (None, 0) => {}
            (None, _) if items.len() >= MAX_ITEMS => {
                return Err(Refusal::invalid(vec![FieldIssue::new(
                    "product_id",
                    "CART_FULL",
                    format!("a cart holds at most {MAX_ITEMS} items, as an order has lines"),
                )]));
            }
            (None, quantity) => after.push(CartItem {
                product_id,
                supplier_id,
                quantity,
                added_by: who,
                added_at: now,
            }),
        },
        CartChange::RemoveItem {
            product_id,
            supplier_id,
        } => {
            let at = position(product_id, supplier_id).ok_or_else(|| {
                Refusal::new(
                    RefusalCode::NotFound,
                    "This product from this supplier is not in the cart.",
                )
            })?;
            after.remove(at);
        }
        CartChange::Empty => after.clear(),
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: Uuid = Uuid::from_u128(0xa);
    const BOB: Uuid = Uuid::from_u128(0xb);

    fn set(product: u128, supplier: u128, quantity: u32) -> CartChange {
        CartChange::SetItem {
            product_id: Uuid::from_u128(product),
            supplier_id: Uuid::from_u128(supplier),
            quantity,
        }
    }

    fn quantities(items: &[CartItem]) -> Vec<(u128, u128, u32)> {
        items
            .iter()
            .map(|i| (i.product_id.as_u128(), i.supplier_id.as_u128(), i.quantity))
            .collect()
    }

    #[test]
    fn items_are_added_changed_and_removed_in_cart_order() {
        let t0 = Utc::now();
        let t1 = t0 + chrono::Duration::seconds(5);
        let cart = apply_change(&[], &set(1, 7, 10), ALICE, t0).unwrap();
        let cart = apply_change(&cart, &set(2, 7, 3), ALICE, t0).unwrap();
        // The same product from another supplier is another item.
        let cart = apply_change(&cart, &set(1, 8, 4), BOB, t1).unwrap();
        assert_eq!(quantities(&cart), [(1, 7, 10), (2, 7, 3), (1, 8, 4)]);
        // Changing a quantity keeps who added it, and when.
        let cart = apply_change(&cart, &set(1, 7, 12), BOB, t1).unwrap();
        assert_eq!(
            (cart[0].quantity, cart[0].added_by, cart[0].added_at),
            (12, ALICE, t0)
        );
        assert_eq!((cart[2].added_by, cart[2].added_at), (BOB, t1));
        // Quantity 0 removes; removing what is not there with 0 changes nothing.
        let cart = apply_change(&cart, &set(2, 7, 0), ALICE, t1).unwrap();
        assert_eq!(quantities(&cart), [(1, 7, 12), (1, 8, 4)]);
        assert_eq!(apply_change(&cart, &set(9, 9, 0), ALICE, t1).unwrap(), cart);
        let remove = CartChange::RemoveItem {
            product_id: Uuid::from_u128(1),
            supplier_id: Uuid::from_u128(8),
        };
        let cart = apply_change(&cart, &remove, ALICE, t1).unwrap();
        assert_eq!(quantities(&cart), [(1, 7, 12)]);
        assert_eq!(
            apply_change(&cart, &remove, ALICE, t1).unwrap_err().code,
            RefusalCode::NotFound
        );
        assert!(
            apply_change(&cart, &CartChange::Empty, ALICE, t1)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn limits() {
        let now = Utc::now();
        let refused = apply_change(&[], &set(1, 1, MAX_QUANTITY + 1), ALICE, now).unwrap_err();
        assert_eq!(refused.errors[0].field, "quantity");
        assert!(apply_change(&[], &set(1, 1, MAX_QUANTITY), ALICE, now).is_ok());
        let mut full = Vec::new();
        for p in 0..MAX_ITEMS as u128 {
            full = apply_change(&full, &set(p, 1, 1), ALICE, now).unwrap();
        }
        let refused = apply_change(&full, &set(999, 1, 1), ALICE, now).unwrap_err();
        assert_eq!(refused.errors[0].code, "CART_FULL");
        // A full cart still takes changes to its items.
        assert!(apply_change(&full, &set(0, 1, 5), ALICE, now).is_ok());
    }
}
