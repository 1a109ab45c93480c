//! `POST /api/v1/suppliers`, `PATCH …/{id}` (`active: false` deactivates; `sites` replaces
//! the list of sites) and `GET …/{id}` with its sites: MANAGER, ADMIN write.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::AuthUser;
use super::master_record_writes::{RecordPatch, RecordResource};
use crate::db::catalogue::SupplierView;
use crate::domain::roles::Scope;
use crate::domain::supplier_terms::{Supplier, SupplierFields, SupplierSite, sites_with_ids};
use crate::messaging::commands::webhook_endpoint::present;

impl RecordResource for Supplier {
    const PATH: &'static str = "/api/v1/suppliers";

    /// Staff and stations (they order from them), and the supplier itself.
    fn may_read(user: &AuthUser, id: Uuid) -> bool {
        match user.scope() {
            Scope::All | Scope::Station(_) => true,
            Scope::Supplier(own) => own == id,
            Scope::Nothing => false,
        }
    }

    fn seeded(fields: SupplierFields, seed: Uuid) -> SupplierFields {
        fields.with_site_ids(seed)
    }
}

/// `PATCH /suppliers/{id}` body: the fields present change; `null` clears an optional one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierPatch {
    /// New unique code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New SIRET, or `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub siret: Option<Option<String>>,
    /// New order contact (purchase orders are e-mailed there), or `null` for none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub order_contact_email: Option<Option<String>>,
    /// `false` deactivates (pricing refuses it from the next order on), `true` reactivates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Every site from now on (sites left out are removed; keep a site's `id` to keep it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sites: Option<Vec<SupplierSite>>,
}

impl RecordPatch for SupplierPatch {
    fn seeded(mut self, seed: Uuid) -> Self {
        self.sites = self.sites.map(|sites| sites_with_ids(sites, seed));
        self
    }
}

crate::record_endpoints!(
    Supplier,
    "/api/v1/suppliers",
    "catalogue",
    "supplier",
    SupplierFields,
    SupplierPatch,
    SupplierView
);
