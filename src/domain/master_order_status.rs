//! Master order status: PENDING/REJECTED from processing, otherwise derived from its POs (§5.4).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::purchase_order_status::PurchaseOrderStatus;

/// Status of a master order as shown to stations and staff.
///
/// `derive_master_status` never yields `All(Cancelled)` or `Partially(Cancelled)`; both print
/// as their nearest meaningful string ("CANCELLED", "PARTIALLY_CANCELLED") if built by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MasterOrderStatus {
    /// Accepted by the ingress, not yet processed by a worker.
    Pending,
    /// Refused by pricing; no purchase order exists.
    Rejected,
    /// Every purchase order was cancelled.
    Cancelled,
    /// Every (non-cancelled) purchase order has this status.
    All(PurchaseOrderStatus),
    /// POs differ; this is the most advanced status some PO has reached.
    Partially(PurchaseOrderStatus),
}

/// A string that is not a master order status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown master order status: {0:?}")]
pub struct ParseMasterOrderStatusError(pub String);

/// Prefix of the derived "some POs are further along" statuses.
const PARTIALLY_PREFIX: &str = "PARTIALLY_";

impl MasterOrderStatus {
    /// The string stored and sent in the API, e.g. "PENDING", "SHIPPED", "PARTIALLY_SHIPPED".
    pub fn as_str(&self) -> String {
        match self {
            MasterOrderStatus::Pending => "PENDING".to_owned(),
            MasterOrderStatus::Rejected => "REJECTED".to_owned(),
            MasterOrderStatus::Cancelled => "CANCELLED".to_owned(),
            MasterOrderStatus::All(status) => status.as_str().to_owned(),
            MasterOrderStatus::Partially(status) => {
                format!("{PARTIALLY_PREFIX}{}", status.as_str())
            }
        }
    }
}

impl fmt::Display for MasterOrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl FromStr for MasterOrderStatus {
    type Err = ParseMasterOrderStatusError;

    /// Inverse of `as_str`; "CANCELLED" parses to `Cancelled`, never `All(Cancelled)`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || ParseMasterOrderStatusError(s.to_owned());
        match s {
            "PENDING" => Ok(MasterOrderStatus::Pending),
            "REJECTED" => Ok(MasterOrderStatus::Rejected),
            "CANCELLED" => Ok(MasterOrderStatus::Cancelled),
            _ => match s.strip_prefix(PARTIALLY_PREFIX) {
                Some(rest) => match rest.parse::<PurchaseOrderStatus>() {
                    // Derivation ignores cancelled POs, so "partially cancelled" is not a state.
                    Ok(PurchaseOrderStatus::Cancelled) | Err(_) => Err(error()),
                    Ok(status) => Ok(MasterOrderStatus::Partially(status)),
                },
                None => s.parse().map(MasterOrderStatus::All).map_err(|_| error()),
            },
        }
    }
}

impl Serialize for MasterOrderStatus {
    /// Serialised as its string form so the API and events carry "PARTIALLY_SHIPPED".
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for MasterOrderStatus {
    /// Parsed from its string form, refusing unknown strings.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Derives a processed master order's status from its purchase orders' statuses (DESIGN §5.4).
///
/// Cancelled POs are left out entirely: once cancelled they are no longer part of what the
/// station waits for, so [SHIPPED, CANCELLED] reads SHIPPED, not PARTIALLY_SHIPPED. If every PO
/// is cancelled the order is CANCELLED. Among the rest, one shared status S gives S; otherwise
/// PARTIALLY_ + the most advanced status. An empty slice means no PO exists yet: PENDING.
pub fn derive_master_status(po_statuses: &[PurchaseOrderStatus]) -> MasterOrderStatus {
    if po_statuses.is_empty() {
        return MasterOrderStatus::Pending;
    }
    let mut live = po_statuses
        .iter()
        .copied()
        .filter(|s| *s != PurchaseOrderStatus::Cancelled);
    let Some(first) = live.next() else {
        return MasterOrderStatus::Cancelled;
    };
    let mut most_advanced = first;
    let mut all_same = true;
    for status in live {
        all_same &= status == first;
        if status.rank() > most_advanced.rank() {
            most_advanced = status;
        }
    }
    if all_same {
        MasterOrderStatus::All(first)
    } else {
        MasterOrderStatus::Partially(most_advanced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MasterOrderStatus as M;
    use PurchaseOrderStatus::*;

    #[test]
    fn derivation_table() {
        let cases: &[(&[PurchaseOrderStatus], &str)] = &[
            (&[], "PENDING"),
            (&[Registered], "REGISTERED"),
            (&[Registered, Registered, Registered], "REGISTERED"),
            (&[Shipped, Shipped], "SHIPPED"),
            (&[Registered, Confirmed], "PARTIALLY_CONFIRMED"),
            (&[Confirmed, Registered, Registered], "PARTIALLY_CONFIRMED"),
            (&[Registered, Shipped, Confirmed], "PARTIALLY_SHIPPED"),
            (&[Received, Shipped], "PARTIALLY_RECEIVED"),
            (&[Closed, Received, Closed], "PARTIALLY_CLOSED"),
            (&[Invoiced, Closed], "PARTIALLY_INVOICED"),
            (&[Archived, Invoiced], "PARTIALLY_ARCHIVED"),
            (&[Archived, Archived], "ARCHIVED"),
            (&[Cancelled], "CANCELLED"),
            (&[Cancelled, Cancelled, Cancelled], "CANCELLED"),
            (&[Shipped, Cancelled], "SHIPPED"),
            (&[Cancelled, Registered, Registered], "REGISTERED"),
            (&[Cancelled, Registered, Confirmed], "PARTIALLY_CONFIRMED"),
            (
                &[Registered, Cancelled, Received, Cancelled],
                "PARTIALLY_RECEIVED",
            ),
        ];
        for (statuses, expected) in cases {
            assert_eq!(
                derive_master_status(statuses).as_str(),
                *expected,
                "{statuses:?}"
            );
        }
    }

    #[test]
    fn derivation_returns_expected_variants() {
        assert_eq!(derive_master_status(&[]), M::Pending);
        assert_eq!(derive_master_status(&[Cancelled, Cancelled]), M::Cancelled);
        assert_eq!(
            derive_master_status(&[Confirmed, Confirmed]),
            M::All(Confirmed)
        );
        assert_eq!(
            derive_master_status(&[Registered, Shipped]),
            M::Partially(Shipped)
        );
    }

    #[test]
    fn string_round_trip() {
        let mut all = vec![M::Pending, M::Rejected, M::Cancelled];
        for status in PurchaseOrderStatus::ALL {
            if status != Cancelled {
                all.push(M::All(status));
                all.push(M::Partially(status));
            }
        }
        for status in all {
            let s = status.as_str();
            assert_eq!(status.to_string(), s);
            assert_eq!(s.parse::<MasterOrderStatus>(), Ok(status), "{s}");
            let json = serde_json::to_value(status).expect("serialise");
            assert_eq!(json, serde_json::Value::String(s.clone()));
            assert_eq!(
                serde_json::from_value::<MasterOrderStatus>(json).ok(),
                Some(status)
            );
        }
    }

    #[test]
    fn parse_refuses_nonsense() {
        for bad in [
            "",
            "pending",
            "PARTIALLY_",
            "PARTIALLY_CANCELLED",
            "PARTIALLY_PENDING",
            "SHIPPED_PARTIALLY",
            "DONE",
        ] {
            assert_eq!(
                bad.parse::<MasterOrderStatus>(),
                Err(ParseMasterOrderStatusError(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(serde_json::from_value::<MasterOrderStatus>(serde_json::json!("DONE")).is_err());
    }

    #[test]
    fn hand_built_all_cancelled_prints_cancelled() {
        assert_eq!(M::All(Cancelled).as_str(), "CANCELLED");
    }
}
