//! The webhook body a supplier receives: Standard Webhooks' `{type, timestamp, data}`, with a
//! purchase order that is self-contained (buyer of record, deliver-to station, dates, lines and
//! totals), kept under the 20 kB a receiver may rely on.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use bluewhale::db::purchase_orders::{PurchaseOrderLineView, PurchaseOrderView};
use bluewhale::db::supplier_notifications::DeliverTo;
use bluewhale::domain::money::two_decimals;

/// Largest body sent: receivers may refuse more.
pub const MAX_BODY_BYTES: usize = 20 * 1024;

/// Blue Whale buys on the stations' behalf: the buyer of record of every purchase order.
pub const BUYER_OF_RECORD: &str = "Blue Whale";

/// One line as the supplier needs it.
#[derive(Debug, Clone, Serialize)]
pub struct SupplierLine {
    /// 1-based position.
    pub line_number: i32,
    /// Product code.
    pub product_code: String,
    /// Product name.
    pub product_name: String,
    /// The supplier's own reference.
    pub supplier_reference: Option<String>,
    /// Conditioning unit the quantity counts.
    pub conditioning_unit: String,
    /// Conditioning units ordered.
    pub quantity: i32,
    /// Price per conditioning unit, excluding VAT.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub unit_price: rust_decimal::Decimal,
    /// VAT rate in percent.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_rate: rust_decimal::Decimal,
    /// unit_price × quantity.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub line_total: rust_decimal::Decimal,
}

impl From<&PurchaseOrderLineView> for SupplierLine {
    fn from(line: &PurchaseOrderLineView) -> Self {
        Self {
            line_number: line.line_number,
            product_code: line.product_code.clone(),
            product_name: line.product_name.clone(),
            supplier_reference: line.supplier_reference.clone(),
            conditioning_unit: line.conditioning_unit.clone(),
            quantity: line.quantity,
            unit_price: line.unit_price,
            tax_rate: line.tax_rate,
            line_total: line.line_total,
        }
    }
}

/// The buyer of record.
#[derive(Debug, Clone, Serialize)]
pub struct Buyer {
    /// Its name.
    pub name: &'static str,
}

/// A purchase order as its supplier receives it.
#[derive(Debug, Clone, Serialize)]
pub struct SupplierPurchaseOrder {
    /// Id.
    pub id: Uuid,
    /// `PO-YYYY-NNNNNN`.
    pub number: String,
    /// Status code.
    pub status: String,
    /// Status label in French.
    pub status_label: String,
    /// Version (as the API's `ETag`).
    pub version: i32,
    /// Order date.
    pub order_date: NaiveDate,
    /// Delivery date the station asked for.
    pub requested_delivery_date: Option<NaiveDate>,
    /// Delivery date the supplier confirmed.
    pub confirmed_delivery_date: Option<NaiveDate>,
    /// Who buys.
    pub buyer: Buyer,
    /// Where to deliver.
    pub deliver_to: DeliverTo,
    /// ISO currency.
    pub currency: String,
    /// Σ line totals.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_excluding_tax: rust_decimal::Decimal,
    /// VAT.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub tax_amount: rust_decimal::Decimal,
    /// Both.
    #[serde(serialize_with = "two_decimals::serialize")]
    pub total_including_tax: rust_decimal::Decimal,
    /// Carrier, once shipped.
    pub carrier: Option<String>,
    /// Tracking number, once shipped.
    pub tracking_number: Option<String>,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// The station's notes.
    pub notes: Option<String>,
    /// Lines (all of them unless `lines_complete` is false).
    pub lines: Vec<SupplierLine>,
    /// False when the lines were too many for one body: fetch them from `lines_url`.
    pub lines_complete: bool,
    /// Where the whole purchase order is.
    pub lines_url: String,
}

impl SupplierPurchaseOrder {
    /// The supplier's view of a purchase order.
    pub fn new(
        po: &PurchaseOrderView,
        deliver_to: DeliverTo,
        requested_delivery_date: Option<NaiveDate>,
        notes: Option<String>,
    ) -> Self {
        Self {
            id: po.id,
            number: po.number.clone(),
            status: po.status.clone(),
            status_label: po.status_label.clone(),
            version: po.version,
            order_date: po.order_date,
            requested_delivery_date,
            confirmed_delivery_date: po.confirmed_delivery_date,
            buyer: Buyer {
                name: BUYER_OF_RECORD,
            },
            deliver_to,
            currency: po.currency.clone(),
            total_excluding_tax: po.total_excluding_tax,
            tax_amount: po.tax_amount,
            total_including_tax: po.total_including_tax,
            carrier: po.carrier.clone(),
            tracking_number: po.tracking_number.clone(),
            cancellation_reason: po.cancellation_reason.clone(),
            notes,
            lines: po.lines.iter().map(SupplierLine::from).collect(),
            lines_complete: true,
            lines_url: format!("/api/v1/purchase-orders/{}", po.id),
        }
    }
}

#[derive(Serialize)]
struct Body<'a, D: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: DateTime<Utc>,
    data: D,
}

/// The body of any event.
pub fn body(
    kind: &str,
    timestamp: DateTime<Utc>,
    data: &impl Serialize,
) -> serde_json::Result<String> {
    serde_json::to_string(&Body {
        kind,
        timestamp,
        data,
    })
}

/// The body of a purchase-order event, its lines cut (and flagged) if it would exceed
/// [`MAX_BODY_BYTES`].
pub fn purchase_order_body(
    kind: &str,
    timestamp: DateTime<Utc>,
    mut po: SupplierPurchaseOrder,
    previous_status: Option<&str>,
) -> serde_json::Result<String> {
    loop {
        let data = serde_json::json!({
            "purchase_order": serde_json::to_value(&po)?,
            "previous_status": previous_status.map(|s| Value::String(s.to_owned())).unwrap_or(Value::Null),
        });
        let text = body(kind, timestamp, &data)?;
        if text.len() <= MAX_BODY_BYTES || po.lines.is_empty() {
            return Ok(text);
        }
        // Drop lines from the end in proportion to the excess, at least one per round.
        let keep = po.lines.len() * MAX_BODY_BYTES / text.len();
        po.lines.truncate(keep.min(po.lines.len() - 1));
        po.lines_complete = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn po(lines: usize) -> SupplierPurchaseOrder {
        let line = |n: usize| SupplierLine {
            line_number: i32::try_from(n).unwrap(),
            product_code: format!("BW-PROD-{n:04}"),
            product_name: "Barquette carton 250 g, lot de 500 unités".to_owned(),
            supplier_reference: Some(format!("REF-{n}")),
            conditioning_unit: "carton".to_owned(),
            quantity: 1_000_000,
            unit_price: Decimal::new(1758, 2),
            tax_rate: Decimal::new(2000, 2),
            line_total: Decimal::new(1_758_000_000, 2),
        };
        SupplierPurchaseOrder {
            id: Uuid::from_u128(1),
            number: "PO-2026-000001".into(),
            status: "REGISTERED".into(),
            status_label: "Enregistrée".into(),
            version: 1,
            order_date: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            requested_delivery_date: None,
            confirmed_delivery_date: None,
            buyer: Buyer {
                name: BUYER_OF_RECORD,
            },
            deliver_to: DeliverTo {
                station_id: Uuid::from_u128(2),
                code: "ST".into(),
                name: "Station".into(),
                address: Some("1 rue".into()),
                postal_code: Some("84300".into()),
                city: Some("Cavaillon".into()),
                country: "FR".into(),
            },
            currency: "EUR".into(),
            total_excluding_tax: Decimal::ZERO,
            tax_amount: Decimal::ZERO,
            total_including_tax: Decimal::ZERO,
            carrier: None,
            tracking_number: None,
            cancellation_reason: None,
            notes: None,
            lines: (1..=lines).map(line).collect(),
            lines_complete: true,
            lines_url: "/api/v1/purchase-orders/1".into(),
        }
    }

    #[test]
    fn a_small_order_goes_whole_with_the_standard_envelope() {
        let text = purchase_order_body("purchase_order.created", Utc::now(), po(3), None).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["type"], "purchase_order.created");
        assert!(value["timestamp"].is_string());
        let order = &value["data"]["purchase_order"];
        assert_eq!(order["lines"].as_array().unwrap().len(), 3);
        assert_eq!(order["lines_complete"], true);
        assert_eq!(order["buyer"]["name"], BUYER_OF_RECORD);
        assert_eq!(order["lines"][0]["unit_price"], "17.58");
        assert_eq!(order["deliver_to"]["city"], "Cavaillon");
    }

    #[test]
    fn a_huge_order_is_cut_below_the_limit_and_says_so() {
        let text =
            purchase_order_body("purchase_order.created", Utc::now(), po(200), None).unwrap();
        assert!(text.len() <= MAX_BODY_BYTES, "{}", text.len());
        let value: Value = serde_json::from_str(&text).unwrap();
        let order = &value["data"]["purchase_order"];
        assert_eq!(order["lines_complete"], false);
        let kept = order["lines"].as_array().unwrap().len();
        assert!((40..200).contains(&kept), "{kept}");
        assert_eq!(order["lines"][0]["line_number"], 1);
    }
}
