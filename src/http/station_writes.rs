//! `POST /api/v1/station-groups`, `PATCH …/{id}`, `GET …/{id}`, and the same for
//! `/api/v1/stations` (`active: false` deactivates a station): MANAGER, ADMIN write.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::AuthUser;
use super::master_record_writes::{RecordPatch, RecordResource};
use crate::db::catalogue::{StationGroupView, StationView};
use crate::domain::roles::Scope;
use crate::domain::station_terms::{Station, StationFields, StationGroup, StationGroupFields};
use crate::messaging::commands::webhook_endpoint::present;

impl RecordResource for StationGroup {
    const PATH: &'static str = "/api/v1/station-groups";
}

impl RecordResource for Station {
    const PATH: &'static str = "/api/v1/stations";

    /// Staff, and the station itself.
    fn may_read(user: &AuthUser, id: Uuid) -> bool {
        match user.scope() {
            Scope::All => true,
            Scope::Station(own) => own == id,
            Scope::Supplier(_) | Scope::Nothing => false,
        }
    }
}

/// `PATCH /station-groups/{id}` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationGroupPatch {
    /// New unique code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl RecordPatch for StationGroupPatch {}

/// `PATCH /stations/{id}` body: the fields present change; `null` clears an optional one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationPatch {
    /// New unique code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New group, or `null` for none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub group_id: Option<Option<Uuid>>,
    /// New platform, or `null` for none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub platform_id: Option<Option<Uuid>>,
    /// New street address, or `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// New postal code, or `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub postal_code: Option<Option<String>>,
    /// New city, or `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    /// New country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// `false` deactivates (its orders are refused `INACTIVE_STATION`), `true` reactivates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl RecordPatch for StationPatch {}

/// Station groups.
pub mod groups {
    use super::*;

    crate::record_endpoints!(
        StationGroup,
        "/api/v1/station-groups",
        "catalogue",
        "station group",
        StationGroupFields,
        StationGroupPatch,
        StationGroupView
    );
}

/// Stations.
pub mod stations {
    use super::*;

    crate::record_endpoints!(
        Station,
        "/api/v1/stations",
        "catalogue",
        "station",
        StationFields,
        StationPatch,
        StationView
    );
}
