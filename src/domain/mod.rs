//! Pure business rules: plain functions over plain data, no I/O, no clock, no async (DESIGN §1.4).
//!
//! Workers load the inputs (catalogue, order, statuses), call into this module and write the
//! outputs; everything here is unit-tested without infrastructure.
#![warn(missing_docs)]

pub mod audit;
pub mod business_date;
pub mod cart;
pub mod catalogue;
pub mod contract_lifecycle;
pub mod contract_overlap;
pub mod contract_terms;
pub mod dead_letter_reason;
pub mod dead_letter_resolution;
pub mod delivery_policy;
pub mod master_order_status;
pub mod money;
pub mod numbering;
pub mod order;
pub mod pricing;
pub mod purchase_order_lifecycle;
pub mod purchase_order_status;
pub mod purchase_order_transitions;
pub mod refusal;
pub mod rejection;
pub mod roles;
pub mod sales_order_invoicing;
pub mod sales_order_pricing;
pub mod split;
pub mod text;
pub mod webhook_endpoint_changes;
pub mod webhook_url;

/// Test helpers shared by the domain unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use rust_decimal::Decimal;

    /// Exact decimal literal; the crate has no `dec!` macro enabled (no `macros` feature).
    pub fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("valid decimal literal in test")
    }
}
