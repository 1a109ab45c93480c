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
    /// A supplier's master contract.
    Contract,
    /// The invoice of a sales order.
    Invoice,
}

impl DocumentKind {
    /// Letters that start the printed number.
    pub fn prefix(&self) -> &'static str {
        match self {
            DocumentKind::MasterOrder => "MO",
            DocumentKind::PurchaseOrder => "PO",
            DocumentKind::SalesOrder => "SO",
            DocumentKind::Contract => "MC",
            DocumentKind::Invoice => "INV",
        }
    }

    /// Key of the sequence in `number_sequences`; must stay stable once data exists.
    pub fn as_str(&self) -> &'static str {
        match self {
            DocumentKind::MasterOrder => "master_order",
            DocumentKind::PurchaseOrder => "purchase_order",
            DocumentKind::SalesOrder => "sales_order",
            DocumentKind::Contract => "contract",
            DocumentKind::Invoice => "invoice",
        }
    }

    /// Digits of the yearly counter (zero-padded; more when a year overflows them).
    pub fn digits(&self) -> usize {
        match self {
            DocumentKind::Contract => 4,
            _ => 6,
        }
    }
}

/// Formats `PREFIX-YYYY-NNNNNN` (`MC-YYYY-NNNN` for contracts): the counter zero-padded, more
/// digits kept if the year overflows them.
pub fn format_number(kind: DocumentKind, year: i32, value: i64) -> String {
    let width = kind.digits();
    format!("{}-{year:04}-{value:0width$}", kind.prefix())
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
            (DocumentKind::Contract, 2027, 7, "MC-2027-0007"),
            (DocumentKind::Contract, 2027, 12_345, "MC-2027-12345"),
            (DocumentKind::Invoice, 2026, 3, "INV-2026-000003"),
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
            (DocumentKind::Contract, "MC", "contract"),
            (DocumentKind::Invoice, "INV", "invoice"),
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
