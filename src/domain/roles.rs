//! Roles and organisations (DESIGN.md §5.1), and who may see or order what.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Blue Whale administrator: everything.
    Admin,
    /// Blue Whale manager: master data, contracts, all orders.
    Manager,
    /// Blue Whale handler: day-to-day order handling.
    Handler,
    /// Staff of one packing station.
    Station,
    /// Staff of one supplier.
    Supplier,
}

impl Role {
    /// Database and JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Manager => "MANAGER",
            Role::Handler => "HANDLER",
            Role::Station => "STATION",
            Role::Supplier => "SUPPLIER",
        }
    }

    /// Parses the database spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "ADMIN" => Role::Admin,
            "MANAGER" => Role::Manager,
            "HANDLER" => Role::Handler,
            "STATION" => Role::Station,
            "SUPPLIER" => Role::Supplier,
            _ => return None,
        })
    }

    /// Blue Whale staff see every organisation's data.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Manager | Role::Handler)
    }
}

/// The kind of organisation a user belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrgType {
    /// Blue Whale itself.
    Bluewhale,
    /// A packing station.
    Station,
    /// A supplier.
    Supplier,
}

impl OrgType {
    /// Database and JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgType::Bluewhale => "BLUEWHALE",
            OrgType::Station => "STATION",
            OrgType::Supplier => "SUPPLIER",
        }
    }

    /// Parses the database spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "BLUEWHALE" => OrgType::Bluewhale,
            "STATION" => OrgType::Station,
            "SUPPLIER" => OrgType::Supplier,
            _ => return None,
        })
    }
}

/// Which rows of station- or supplier-owned data a user may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Staff: everything.
    All,
    /// A station user: its own station's rows.
    Station(Uuid),
    /// A supplier user: its own supplier's rows.
    Supplier(Uuid),
    /// A user whose organisation is missing: nothing.
    Nothing,
}

impl Scope {
    /// The scope of a user with this role and organisation id.
    pub fn of(role: Role, org_id: Option<Uuid>) -> Self {
        match (role, org_id) {
            (r, _) if r.is_staff() => Scope::All,
            (Role::Station, Some(id)) => Scope::Station(id),
            (Role::Supplier, Some(id)) => Scope::Supplier(id),
            _ => Scope::Nothing,
        }
    }

    /// The station filter to apply to a list, or `None` for no filter.
    pub fn station_filter(self) -> Option<Uuid> {
        match self {
            Scope::Station(id) => Some(id),
            _ => None,
        }
    }

    /// The supplier filter to apply to a list, or `None` for no filter.
    pub fn supplier_filter(self) -> Option<Uuid> {
        match self {
            Scope::Supplier(id) => Some(id),
            _ => None,
        }
    }
}

/// Why a user may not submit an order for a station.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderingRefusal {
    /// Suppliers never order.
    RoleCannotOrder,
    /// A station user ordering for another station.
    OtherStation,
}

/// A station user orders for its own station only; staff for any; suppliers never.
pub fn may_order_for(
    role: Role,
    org_id: Option<Uuid>,
    station_id: Uuid,
) -> Result<(), OrderingRefusal> {
    match Scope::of(role, org_id) {
        Scope::All => Ok(()),
        Scope::Station(own) if own == station_id => Ok(()),
        Scope::Station(_) => Err(OrderingRefusal::OtherStation),
        Scope::Supplier(_) | Scope::Nothing => Err(OrderingRefusal::RoleCannotOrder),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_rights_follow_the_role_table() {
        let own = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let cases = [
            (Role::Admin, None, own, Ok(())),
            (Role::Manager, None, other, Ok(())),
            (Role::Handler, None, own, Ok(())),
            (Role::Station, Some(own), own, Ok(())),
            (
                Role::Station,
                Some(own),
                other,
                Err(OrderingRefusal::OtherStation),
            ),
            (
                Role::Supplier,
                Some(own),
                own,
                Err(OrderingRefusal::RoleCannotOrder),
            ),
            (
                Role::Station,
                None,
                own,
                Err(OrderingRefusal::RoleCannotOrder),
            ),
        ];
        for (role, org, station, expected) in cases {
            assert_eq!(
                may_order_for(role, org, station),
                expected,
                "{role:?} {org:?}"
            );
        }
    }

    #[test]
    fn spellings_round_trip() {
        for role in [
            Role::Admin,
            Role::Manager,
            Role::Handler,
            Role::Station,
            Role::Supplier,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for org in [OrgType::Bluewhale, OrgType::Station, OrgType::Supplier] {
            assert_eq!(OrgType::parse(org.as_str()), Some(org));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
