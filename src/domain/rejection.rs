//! Why an order was refused: one entry per failing line (or per order-level reason).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Machine-readable reason, stable in the API and in events (DESIGN §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectionCode {
    /// No ACTIVE contract of the supplier covers the product on the order date.
    NoActiveContract,
    /// The line's quantity is below the contract line's minimum order quantity.
    BelowMinimumQuantity,
    /// The purchase order's total excluding VAT is below the contract's minimum order value.
    BelowMinimumOrderValue,
    /// The product id is not in the catalogue.
    UnknownProduct,
    /// The product exists but is deactivated.
    InactiveProduct,
    /// The supplier id is not known.
    UnknownSupplier,
    /// The supplier exists but is deactivated.
    InactiveSupplier,
    /// The ordering station is deactivated.
    InactiveStation,
    /// Summary code when the entries carry more than one distinct code.
    MultipleReasons,
}

impl RejectionCode {
    /// The wire form, identical to the serde representation.
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectionCode::NoActiveContract => "NO_ACTIVE_CONTRACT",
            RejectionCode::BelowMinimumQuantity => "BELOW_MINIMUM_QUANTITY",
            RejectionCode::BelowMinimumOrderValue => "BELOW_MINIMUM_ORDER_VALUE",
            RejectionCode::UnknownProduct => "UNKNOWN_PRODUCT",
            RejectionCode::InactiveProduct => "INACTIVE_PRODUCT",
            RejectionCode::UnknownSupplier => "UNKNOWN_SUPPLIER",
            RejectionCode::InactiveSupplier => "INACTIVE_SUPPLIER",
            RejectionCode::InactiveStation => "INACTIVE_STATION",
            RejectionCode::MultipleReasons => "MULTIPLE_REASONS",
        }
    }
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason for the rejection, tied to a request line or, with `index: None`, to the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRejection {
    /// Position of the line in the request; `None` for order-level reasons (inactive station).
    pub index: Option<usize>,
    /// Why this line (or the order) failed.
    pub code: RejectionCode,
    /// Human-readable English sentence naming the ids/codes and numbers involved.
    pub message: String,
}

impl LineRejection {
    /// An entry about request line `index`.
    pub fn line(index: usize, code: RejectionCode, message: impl Into<String>) -> Self {
        LineRejection {
            index: Some(index),
            code,
            message: message.into(),
        }
    }

    /// An entry about the order as a whole.
    pub fn order_level(code: RejectionCode, message: impl Into<String>) -> Self {
        LineRejection {
            index: None,
            code,
            message: message.into(),
        }
    }
}

/// The whole order is refused (all or nothing); `lines` lists every reason found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("order rejected: {code} ({} reason(s))", lines.len())]
pub struct Rejection {
    /// The single code shared by all entries, or `MULTIPLE_REASONS`.
    pub code: RejectionCode,
    /// Every failure, order-level entries first, then by request line.
    pub lines: Vec<LineRejection>,
}

impl Rejection {
    /// Builds a rejection from its entries, deriving the summary code; `None` if there are none.
    ///
    /// Entries are stably sorted with order-level ones first, then by line index, so the
    /// station reads them in the order it wrote the lines.
    pub fn from_lines(mut lines: Vec<LineRejection>) -> Option<Rejection> {
        let first = lines.first()?.code;
        let code = if lines.iter().all(|l| l.code == first) {
            first
        } else {
            RejectionCode::MultipleReasons
        };
        lines.sort_by_key(|l| l.index.map_or((0, 0), |i| (1, i)));
        Some(Rejection { code, lines })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_matches_serde() {
        let all = [
            RejectionCode::NoActiveContract,
            RejectionCode::BelowMinimumQuantity,
            RejectionCode::BelowMinimumOrderValue,
            RejectionCode::UnknownProduct,
            RejectionCode::InactiveProduct,
            RejectionCode::UnknownSupplier,
            RejectionCode::InactiveSupplier,
            RejectionCode::InactiveStation,
            RejectionCode::MultipleReasons,
        ];
        for code in all {
            let json = serde_json::to_value(code).expect("serialise");
            assert_eq!(json, serde_json::Value::String(code.as_str().to_owned()));
            let back: RejectionCode = serde_json::from_value(json).expect("deserialise");
            assert_eq!(back, code);
            assert_eq!(code.to_string(), code.as_str());
        }
    }

    #[test]
    fn from_lines_derives_code() {
        assert_eq!(Rejection::from_lines(vec![]), None);

        let one = Rejection::from_lines(vec![
            LineRejection::line(2, RejectionCode::UnknownProduct, "a"),
            LineRejection::line(0, RejectionCode::UnknownProduct, "b"),
        ])
        .expect("rejection");
        assert_eq!(one.code, RejectionCode::UnknownProduct);
        assert_eq!(
            one.lines.iter().map(|l| l.index).collect::<Vec<_>>(),
            vec![Some(0), Some(2)]
        );

        let many = Rejection::from_lines(vec![
            LineRejection::line(1, RejectionCode::UnknownProduct, "a"),
            LineRejection::order_level(RejectionCode::InactiveStation, "b"),
        ])
        .expect("rejection");
        assert_eq!(many.code, RejectionCode::MultipleReasons);
        assert_eq!(many.lines[0].index, None);
    }

    #[test]
    fn rejection_json_shape() {
        let r = Rejection::from_lines(vec![LineRejection::line(
            0,
            RejectionCode::NoActiveContract,
            "m",
        )])
        .expect("rejection");
        assert_eq!(
            serde_json::to_value(&r).expect("serialise"),
            serde_json::json!({"code": "NO_ACTIVE_CONTRACT", "lines": [{"index": 0, "code": "NO_ACTIVE_CONTRACT", "message": "m"}]})
        );
    }
}
