//! Purchase order status codes and their French labels (DESIGN §5.4); transitions come later.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a purchase order stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PurchaseOrderStatus {
    /// Created by the split, sent to the supplier.
    Registered,
    /// The supplier confirmed a delivery date.
    Confirmed,
    /// The goods left the supplier.
    Shipped,
    /// The station received the goods.
    Received,
    /// The station closed the PO after reception.
    Closed,
    /// Blue Whale invoiced it.
    Invoiced,
    /// Archived; terminal.
    Archived,
    /// Cancelled before shipping; terminal.
    Cancelled,
}

/// A string that is not a purchase order status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown purchase order status: {0:?}")]
pub struct ParsePurchaseOrderStatusError(pub String);

impl PurchaseOrderStatus {
    /// Every status, in lifecycle order with Cancelled last; handy for tables and docs.
    pub const ALL: [PurchaseOrderStatus; 8] = [
        PurchaseOrderStatus::Registered,
        PurchaseOrderStatus::Confirmed,
        PurchaseOrderStatus::Shipped,
        PurchaseOrderStatus::Received,
        PurchaseOrderStatus::Closed,
        PurchaseOrderStatus::Invoiced,
        PurchaseOrderStatus::Archived,
        PurchaseOrderStatus::Cancelled,
    ];

    /// The code stored in the database and sent in the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            PurchaseOrderStatus::Registered => "REGISTERED",
            PurchaseOrderStatus::Confirmed => "CONFIRMED",
            PurchaseOrderStatus::Shipped => "SHIPPED",
            PurchaseOrderStatus::Received => "RECEIVED",
            PurchaseOrderStatus::Closed => "CLOSED",
            PurchaseOrderStatus::Invoiced => "INVOICED",
            PurchaseOrderStatus::Archived => "ARCHIVED",
            PurchaseOrderStatus::Cancelled => "CANCELLED",
        }
    }

    /// The French label the API returns alongside the code, for the stations' users.
    pub fn label_fr(&self) -> &'static str {
        match self {
            PurchaseOrderStatus::Registered => "Enregistrée",
            PurchaseOrderStatus::Confirmed => "Confirmée",
            PurchaseOrderStatus::Shipped => "Expédiée",
            PurchaseOrderStatus::Received => "Réceptionnée",
            PurchaseOrderStatus::Closed => "Clôturée",
            PurchaseOrderStatus::Invoiced => "Facturée",
            PurchaseOrderStatus::Archived => "Archivée",
            PurchaseOrderStatus::Cancelled => "Annulée",
        }
    }

    /// Position along the lifecycle (Registered 0 … Archived 6), to find the most advanced PO.
    ///
    /// `None` for Cancelled: it is a side exit, not a step, and master-status derivation ignores it.
    pub fn rank(&self) -> Option<u8> {
        match self {
            PurchaseOrderStatus::Registered => Some(0),
            PurchaseOrderStatus::Confirmed => Some(1),
            PurchaseOrderStatus::Shipped => Some(2),
            PurchaseOrderStatus::Received => Some(3),
            PurchaseOrderStatus::Closed => Some(4),
            PurchaseOrderStatus::Invoiced => Some(5),
            PurchaseOrderStatus::Archived => Some(6),
            PurchaseOrderStatus::Cancelled => None,
        }
    }

    /// Whether no further transition can leave this status (Archived, Cancelled).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            PurchaseOrderStatus::Archived | PurchaseOrderStatus::Cancelled
        )
    }
}

impl fmt::Display for PurchaseOrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PurchaseOrderStatus {
    type Err = ParsePurchaseOrderStatusError;

    /// Parses the exact upper-case code; anything else is refused rather than guessed.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PurchaseOrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| ParsePurchaseOrderStatusError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PurchaseOrderStatus::*;

    #[test]
    fn codes_labels_ranks_table() {
        let cases = [
            (Registered, "REGISTERED", "Enregistrée", Some(0), false),
            (Confirmed, "CONFIRMED", "Confirmée", Some(1), false),
            (Shipped, "SHIPPED", "Expédiée", Some(2), false),
            (Received, "RECEIVED", "Réceptionnée", Some(3), false),
            (Closed, "CLOSED", "Clôturée", Some(4), false),
            (Invoiced, "INVOICED", "Facturée", Some(5), false),
            (Archived, "ARCHIVED", "Archivée", Some(6), true),
            (Cancelled, "CANCELLED", "Annulée", None, true),
        ];
        assert_eq!(cases.len(), PurchaseOrderStatus::ALL.len());
        for (status, code, label, rank, terminal) in cases {
            assert_eq!(status.as_str(), code);
            assert_eq!(status.to_string(), code);
            assert_eq!(status.label_fr(), label);
            assert_eq!(status.rank(), rank, "{code}");
            assert_eq!(status.is_terminal(), terminal, "{code}");
            assert_eq!(code.parse::<PurchaseOrderStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).expect("serialise"),
                serde_json::json!(code)
            );
            assert_eq!(
                serde_json::from_value::<PurchaseOrderStatus>(serde_json::json!(code)).ok(),
                Some(status)
            );
        }
    }

    #[test]
    fn parse_refuses_unknown_and_wrong_case() {
        for bad in [
            "",
            "shipped",
            "Shipped",
            "SHIPPED ",
            "PARTIALLY_SHIPPED",
            "PENDING",
        ] {
            assert_eq!(
                bad.parse::<PurchaseOrderStatus>(),
                Err(ParsePurchaseOrderStatusError(bad.to_owned()))
            );
        }
    }
}
