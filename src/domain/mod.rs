//! Pure business rules: plain functions over plain data, no I/O, no clock, no async (DESIGN §1.4).
//!
//! Workers load the inputs (catalogue, order, statuses), call into this module and write the
//! outputs; everything here is unit-tested without infrastructure.
#![warn(missing_docs)]

pub mod audit;
pub mod business_date;
pub mod cart;
pub mod catalogue;
pub mod client_address;
pub mod contract_lifecycle;
pub mod contract_overlap;
pub mod contract_terms;
pub mod dead_letter_reason;
pub mod dead_letter_resolution;
pub mod delivery_policy;
pub mod ip_network;
pub mod login_limits;
pub mod master_fields;
pub mod master_order_status;
pub mod master_record;
pub mod money;
pub mod numbering;
pub mod order;
pub mod password_policy;
pub mod pricing;
pub mod product_terms;
pub mod purchase_order_lifecycle;
pub mod purchase_order_status;
pub mod purchase_order_transitions;
pub mod refusal;
pub mod rejection;
pub mod roles;
pub mod sales_order_invoicing;
pub mod sales_order_pricing;
pub mod split;
pub mod station_terms;
pub mod supplier_terms;
pub mod text;
pub mod user_account_protection;
pub mod user_terms;
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

    /// `(field, code)` of each issue, to compare with a table's expectation.
    pub fn field_codes(issues: Vec<crate::domain::refusal::FieldIssue>) -> Vec<(String, String)> {
        issues.into_iter().map(|i| (i.field, i.code)).collect()
    }

    /// One row of a field-rules table: its name, an edit of a valid value, the issues expected.
    pub type Case<'a, T> = (&'a str, fn(&mut T), &'a [(&'a str, &'a str)]);

    /// Checks each case of a table: `issues` of `valid` edited by the case give its issues.
    pub fn check_table<T: Clone>(
        valid: &T,
        cases: &[Case<'_, T>],
        issues: fn(&T) -> Vec<crate::domain::refusal::FieldIssue>,
    ) {
        for (name, edit, want) in cases {
            let mut value = valid.clone();
            edit(&mut value);
            assert_eq!(field_codes(issues(&value)), expected(want), "{name}");
        }
    }

    /// A table's expected `(field, code)` pairs, owned.
    pub fn expected(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
            .collect()
    }
}
