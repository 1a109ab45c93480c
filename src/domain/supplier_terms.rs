//! A supplier's fields as staff set them, and their rules: a unique code, a name, the order
//! contact (the address the notifier mails purchase orders to, `suppliers.order_contact_email`)
//! and its sites, at most one of them primary.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::master_fields::{
    MAX_NAME_CHARS, address_issues, code_issues, default_active, default_country, email_issues,
    optional_text, required_text,
};
use super::master_record::{MasterKind, UniqueKey};
use super::refusal::{FieldIssue, RefusalCode};

/// Most sites of one supplier.
pub const MAX_SITES: usize = 50;

/// The supplier kind of master data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supplier;

/// One site of a supplier (a factory, a warehouse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierSite {
    /// Id (kept across edits; a new site gets one when left out).
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Name (≤ 200).
    pub name: String,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// ISO country code (default `FR`).
    #[serde(default = "default_country")]
    pub country: String,
    /// The supplier's main site (at most one).
    #[serde(default)]
    pub is_primary: bool,
}

/// A supplier's fields (`POST /suppliers` body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierFields {
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// French company id.
    #[serde(default)]
    pub siret: Option<String>,
    /// Where purchase orders are e-mailed.
    #[serde(default)]
    pub order_contact_email: Option<String>,
    /// Whether it receives orders (default true); `false` deactivates it.
    #[serde(default = "default_active")]
    pub active: bool,
    /// Its sites (all of them: a change replaces the list).
    #[serde(default)]
    pub sites: Vec<SupplierSite>,
}

impl SupplierFields {
    /// These fields with [`sites_with_ids`].
    pub fn with_site_ids(mut self, seed: Uuid) -> Self {
        self.sites = sites_with_ids(self.sites, seed);
        self
    }
}

/// Gives every site without an id one derived from `seed` (the command id) and its place, so
/// the same request always names the same sites; sites come out in id order, as they are
/// read back.
pub fn sites_with_ids(mut sites: Vec<SupplierSite>, seed: Uuid) -> Vec<SupplierSite> {
    for (index, site) in sites.iter_mut().enumerate() {
        if site.id.is_none() {
            site.id = Some(Uuid::new_v5(
                &seed,
                format!("supplier_site:{index}").as_bytes(),
            ));
        }
    }
    sites.sort_by_key(|s| s.id);
    sites
}

fn site_issues(index: usize, site: &SupplierSite) -> Vec<FieldIssue> {
    let field = |name: &str| format!("sites[{index}].{name}");
    let mut issues = required_text(&site.name, &field("name"), MAX_NAME_CHARS);
    let parts = (
        site.address.as_deref(),
        site.postal_code.as_deref(),
        site.city.as_deref(),
    );
    issues.extend(address_issues(parts, &site.country, &field("")));
    issues
}

impl MasterKind for Supplier {
    const ENTITY: &'static str = "supplier";
    type Fields = SupplierFields;
    type Extra = ();

    fn issues(f: &SupplierFields) -> Vec<FieldIssue> {
        let mut issues = code_issues(&f.code, "code");
        issues.extend(required_text(&f.name, "name", MAX_NAME_CHARS));
        issues.extend(optional_text(f.siret.as_deref(), "siret", 14));
        if let Some(email) = &f.order_contact_email {
            issues.extend(email_issues(email, "order_contact_email"));
        }
        if f.sites.len() > MAX_SITES {
            issues.push(FieldIssue::new(
                "sites",
                "TOO_MANY",
                format!("at most {MAX_SITES} sites"),
            ));
        }
        for (index, site) in f.sites.iter().enumerate() {
            issues.extend(site_issues(index, site));
        }
        if f.sites.iter().filter(|s| s.is_primary).count() > 1 {
            issues.push(FieldIssue::new(
                "sites",
                "SEVERAL_PRIMARY",
                "at most one site is primary",
            ));
        }
        let mut ids: Vec<Uuid> = f.sites.iter().filter_map(|s| s.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            issues.push(FieldIssue::new(
                "sites",
                "DUPLICATE_ID",
                "each site appears once",
            ));
        }
        issues
    }

    fn unique_keys(f: &SupplierFields) -> Vec<UniqueKey> {
        vec![UniqueKey {
            field: "code",
            value: f.code.clone(),
            case_insensitive: false,
            taken: RefusalCode::SupplierCodeTaken,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{Case, check_table, expected, field_codes};

    fn site(primary: bool) -> SupplierSite {
        SupplierSite {
            id: None,
            name: "Usine".into(),
            address: None,
            postal_code: None,
            city: Some("Lyon".into()),
            country: "FR".into(),
            is_primary: primary,
        }
    }

    fn supplier() -> SupplierFields {
        SupplierFields {
            code: "NEWSUP".into(),
            name: "New supplier".into(),
            siret: None,
            order_contact_email: Some("orders@newsup.example".into()),
            active: true,
            sites: vec![site(true), site(false)],
        }
    }

    #[test]
    fn supplier_rules_table() {
        let cases: &[Case<'_, SupplierFields>] = &[
            ("valid", |_| {}, &[]),
            (
                "bad contact",
                |s| s.order_contact_email = Some("orders".into()),
                &[("order_contact_email", "INVALID_EMAIL")],
            ),
            (
                "two primaries",
                |s| s.sites[1].is_primary = true,
                &[("sites", "SEVERAL_PRIMARY")],
            ),
            (
                "unnamed site",
                |s| s.sites[1].name = String::new(),
                &[("sites[1].name", "REQUIRED")],
            ),
            (
                "bad country",
                |s| s.sites[0].country = "fr".into(),
                &[("sites[0].country", "INVALID_COUNTRY")],
            ),
            (
                "no name",
                |s| s.name = String::new(),
                &[("name", "REQUIRED")],
            ),
        ];
        check_table(&supplier(), cases, Supplier::issues);
    }

    #[test]
    fn sites_get_stable_ids() {
        let seed = Uuid::from_u128(7);
        let a = supplier().with_site_ids(seed);
        let b = supplier().with_site_ids(seed);
        assert_eq!(a, b);
        assert_ne!(a.sites[0].id, a.sites[1].id);
        let mut duplicate = a.clone();
        duplicate.sites[1].id = duplicate.sites[0].id;
        assert_eq!(
            field_codes(Supplier::issues(&duplicate)),
            expected(&[("sites", "DUPLICATE_ID")])
        );
    }
}
