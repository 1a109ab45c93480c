//! Station groups and packing stations as staff set them: a group has a unique code and a
//! name; a station a unique code, a name, its group, its address and an `active` flag.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::master_fields::{
    MAX_NAME_CHARS, address_issues, code_issues, default_active, default_country, required_text,
};
use super::master_record::{MasterKind, UniqueKey};
use super::refusal::{FieldIssue, RefusalCode};

/// The station-group kind of master data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StationGroup;

/// A station group's fields (`POST /station-groups` body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationGroupFields {
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
}

impl MasterKind for StationGroup {
    const ENTITY: &'static str = "station_group";
    type Fields = StationGroupFields;
    type Extra = ();

    fn issues(f: &StationGroupFields) -> Vec<FieldIssue> {
        let mut issues = code_issues(&f.code, "code");
        issues.extend(required_text(&f.name, "name", MAX_NAME_CHARS));
        issues
    }

    fn unique_keys(f: &StationGroupFields) -> Vec<UniqueKey> {
        vec![code_key(&f.code, RefusalCode::StationGroupCodeTaken)]
    }
}

/// The station kind of master data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Station;

/// A station's fields (`POST /stations` body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationFields {
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its station group.
    #[serde(default)]
    pub group_id: Option<Uuid>,
    /// The Blue Whale platform serving it.
    #[serde(default)]
    pub platform_id: Option<Uuid>,
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
    /// Whether it may order (default true); `false` deactivates it.
    #[serde(default = "default_active")]
    pub active: bool,
}

impl MasterKind for Station {
    const ENTITY: &'static str = "station";
    type Fields = StationFields;
    type Extra = ();

    fn issues(f: &StationFields) -> Vec<FieldIssue> {
        let mut issues = code_issues(&f.code, "code");
        issues.extend(required_text(&f.name, "name", MAX_NAME_CHARS));
        let parts = (
            f.address.as_deref(),
            f.postal_code.as_deref(),
            f.city.as_deref(),
        );
        issues.extend(address_issues(parts, &f.country, ""));
        issues
    }

    fn unique_keys(f: &StationFields) -> Vec<UniqueKey> {
        vec![code_key(&f.code, RefusalCode::StationCodeTaken)]
    }
}

fn code_key(code: &str, taken: RefusalCode) -> UniqueKey {
    UniqueKey {
        field: "code",
        value: code.to_owned(),
        case_insensitive: false,
        taken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{Case, check_table, expected, field_codes};

    #[test]
    fn station_rules_table() {
        let station = StationFields {
            code: "ST-NEW-01".into(),
            name: "New station".into(),
            group_id: None,
            platform_id: None,
            address: Some("1 rue des Lilas".into()),
            postal_code: None,
            city: None,
            country: "FR".into(),
            active: true,
        };
        let cases: &[Case<'_, StationFields>] = &[
            ("valid", |_| {}, &[]),
            (
                "no code",
                |s| s.code = String::new(),
                &[("code", "REQUIRED")],
            ),
            (
                "blank city",
                |s| s.city = Some(" ".into()),
                &[("city", "REQUIRED")],
            ),
            (
                "bad country",
                |s| s.country = "France".into(),
                &[("country", "INVALID_COUNTRY")],
            ),
        ];
        check_table(&station, cases, Station::issues);
        let group = StationGroupFields {
            code: "G 1".into(),
            name: String::new(),
        };
        assert_eq!(
            field_codes(StationGroup::issues(&group)),
            expected(&[("code", "INVALID_CODE"), ("name", "REQUIRED")])
        );
        assert_eq!(
            Station::unique_keys(&station)[0].taken,
            RefusalCode::StationCodeTaken
        );
    }
}
