//! A catalogue product's fields as staff set them, and their rules: a unique code, a name, a
//! category, the conditioning unit and how many items it holds (more than 0).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::master_fields::{
    MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS, code_issues, default_active, optional_text,
    required_text,
};
use super::master_record::{MasterKind, UniqueKey};
use super::refusal::{FieldIssue, RefusalCode};

/// Most items in one conditioning unit.
pub const MAX_QUANTITY_PER_CONDITIONING: i32 = 1_000_000;

/// The product kind of master data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product;

/// A product's fields (`POST /products` body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductFields {
    /// Unique code (letters, digits, `-`, `_`, `.`; ≤ 50).
    pub code: String,
    /// Name (≤ 200).
    pub name: String,
    /// Description (≤ 2000).
    #[serde(default)]
    pub description: Option<String>,
    /// Category, e.g. `TRAY` (≤ 50).
    pub category: String,
    /// Unit it is ordered and priced in, e.g. `box_of_100` (≤ 50).
    pub conditioning_unit: String,
    /// Items per conditioning unit, 1 … 1 000 000.
    pub quantity_per_conditioning: i32,
    /// Whether it may be ordered (default true); `false` deactivates it.
    #[serde(default = "default_active")]
    pub active: bool,
}

impl MasterKind for Product {
    const ENTITY: &'static str = "product";
    type Fields = ProductFields;
    type Extra = ();

    fn issues(f: &ProductFields) -> Vec<FieldIssue> {
        let mut issues = code_issues(&f.code, "code");
        issues.extend(required_text(&f.name, "name", MAX_NAME_CHARS));
        issues.extend(optional_text(
            f.description.as_deref(),
            "description",
            MAX_TEXT_CHARS,
        ));
        issues.extend(required_text(&f.category, "category", MAX_CODE_CHARS));
        issues.extend(required_text(
            &f.conditioning_unit,
            "conditioning_unit",
            MAX_CODE_CHARS,
        ));
        if !(1..=MAX_QUANTITY_PER_CONDITIONING).contains(&f.quantity_per_conditioning) {
            issues.push(FieldIssue::new(
                "quantity_per_conditioning",
                "OUT_OF_RANGE",
                format!("quantity_per_conditioning is 1 to {MAX_QUANTITY_PER_CONDITIONING}"),
            ));
        }
        issues
    }

    fn unique_keys(f: &ProductFields) -> Vec<UniqueKey> {
        vec![UniqueKey {
            field: "code",
            value: f.code.clone(),
            case_insensitive: false,
            taken: RefusalCode::ProductCodeTaken,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{Case, check_table};

    fn product() -> ProductFields {
        ProductFields {
            code: "BW-TRAY-0999".into(),
            name: "Tray".into(),
            description: None,
            category: "TRAY".into(),
            conditioning_unit: "box_of_100".into(),
            quantity_per_conditioning: 100,
            active: true,
        }
    }

    #[test]
    fn product_rules_table() {
        let cases: &[Case<'_, ProductFields>] = &[
            ("valid", |_| {}, &[]),
            (
                "no code",
                |p| p.code = String::new(),
                &[("code", "REQUIRED")],
            ),
            (
                "bad code",
                |p| p.code = "a b".into(),
                &[("code", "INVALID_CODE")],
            ),
            ("no name", |p| p.name = " ".into(), &[("name", "REQUIRED")]),
            (
                "blank description",
                |p| p.description = Some(String::new()),
                &[("description", "REQUIRED")],
            ),
            (
                "no category",
                |p| p.category = String::new(),
                &[("category", "REQUIRED")],
            ),
            (
                "no unit",
                |p| p.conditioning_unit = String::new(),
                &[("conditioning_unit", "REQUIRED")],
            ),
            (
                "zero per unit",
                |p| p.quantity_per_conditioning = 0,
                &[("quantity_per_conditioning", "OUT_OF_RANGE")],
            ),
            (
                "negative per unit",
                |p| p.quantity_per_conditioning = -3,
                &[("quantity_per_conditioning", "OUT_OF_RANGE")],
            ),
        ];
        check_table(&product(), cases, Product::issues);
        assert_eq!(
            Product::unique_keys(&product())[0].taken,
            RefusalCode::ProductCodeTaken
        );
    }
}
