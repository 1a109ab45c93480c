//! Human document numbers such as "MO-2026-000042" (DESIGN §5.3).

use serde::{Deserialize, Serialize};

/// Which document family a number belongs to; each family has its own gapless yearly sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A station's order, parent of the purchase orders.
    MasterOrder,
    /// The order sent to one supplier.
    PurchaseOrder,
    /// Blue Whale's bill to the station.
    SalesOrder,
}

impl DocumentKind {
    /// Letters that start the printed number.
    pub fn prefix(&self) -> &'static str {
        match self {
            DocumentKind::MasterOrder => "MO",
            DocumentKind::PurchaseOrder => "PO",
            DocumentKind::SalesOrder => "SO",
        }
    }

    /// Key of the sequence in `number_sequences`; must stay stable once data exists.
    pub fn as_str(&self) -> &'static str {
        match self {
            DocumentKind::MasterOrder => "master_order",
            DocumentKind::PurchaseOrder => "purchase_order",
            DocumentKind::SalesOrder => "sales_order",
        }
    }
}

/// Formats `PREFIX-YYYY-NNNNNN`: six digits zero-padded, more digits kept if the year overflows.
pub fn format_number(kind: DocumentKind, year: i32, value: i64) -> String {
    format!("{}-{year:04}-{value:06}", kind.prefix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_number_table() {
        let cases = [
            (DocumentKind::MasterOrder, 2026, 42, "MO-2026-000042"),
            (DocumentKind::PurchaseOrder, 2026, 1, "PO-2026-000001"),
            (DocumentKind::SalesOrder, 2027, 999_999, "SO-2027-999999"),
            (
                DocumentKind::MasterOrder,
                2026,
                1_000_000,
                "MO-2026-1000000",
            ),
            (
                DocumentKind::PurchaseOrder,
                2030,
                123_456_789,
                "PO-2030-123456789",
            ),
        ];
        for (kind, year, value, expected) in cases {
            assert_eq!(format_number(kind, year, value), expected);
        }
    }

    #[test]
    fn kinds_table() {
        let cases = [
            (DocumentKind::MasterOrder, "MO", "master_order"),
            (DocumentKind::PurchaseOrder, "PO", "purchase_order"),
            (DocumentKind::SalesOrder, "SO", "sales_order"),
        ];
        for (kind, prefix, key) in cases {
            assert_eq!(kind.prefix(), prefix);
            assert_eq!(kind.as_str(), key);
            assert_eq!(
                serde_json::to_value(kind).expect("serialise"),
                serde_json::json!(key)
            );
        }
    }
}
