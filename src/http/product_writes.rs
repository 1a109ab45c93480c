//! `POST /api/v1/products`, `PATCH …/{id}` (`active: false` deactivates, `true` reactivates)
//! and `GET …/{id}` (MANAGER, ADMIN write; everyone reads the catalogue).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::AuthUser;
use super::master_record_writes::{RecordPatch, RecordResource};
use crate::db::catalogue::ProductView;
use crate::domain::product_terms::{Product, ProductFields};
use crate::messaging::commands::webhook_endpoint::present;

impl RecordResource for Product {
    const PATH: &'static str = "/api/v1/products";

    fn may_read(_user: &AuthUser, _id: Uuid) -> bool {
        true
    }
}

/// `PATCH /products/{id}` body: the fields present change; `null` clears the description.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    /// New unique code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description, or `null` for none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// New conditioning unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditioning_unit: Option<String>,
    /// New items per conditioning unit (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_per_conditioning: Option<i32>,
    /// `false` deactivates (pricing refuses it from the next order on), `true` reactivates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl RecordPatch for ProductPatch {}

crate::record_endpoints!(
    Product,
    "/api/v1/products",
    "catalogue",
    "product",
    ProductFields,
    ProductPatch,
    ProductView
);
