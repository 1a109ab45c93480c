//! When Blue Whale may invoice a sales order (issue 8 §4): staff only, once every purchase
//! order of the master order that was not cancelled has been received (or gone further);
//! the lines of cancelled purchase orders are credited, and an order whose purchase orders
//! were all cancelled has nothing to invoice.

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::purchase_order_status::PurchaseOrderStatus;
use super::refusal::{Refusal, RefusalCode};
use super::roles::Role;

/// A sales order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesOrderStatus {
    /// Written with the priced master order; not billed yet.
    Issued,
    /// Billed: it has an invoice number, date and due date.
    Invoiced,
}

impl SalesOrderStatus {
    /// Database and JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SalesOrderStatus::Issued => "ISSUED",
            SalesOrderStatus::Invoiced => "INVOICED",
        }
    }

    /// Parses the database spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "ISSUED" => Some(SalesOrderStatus::Issued),
            "INVOICED" => Some(SalesOrderStatus::Invoiced),
            _ => None,
        }
    }
}

/// A purchase order of the sales order's master order, as invoicing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BilledPurchaseOrder {
    /// Id.
    pub id: Uuid,
    /// `PO-YYYY-NNNNNN`, to name it in a refusal.
    pub number: String,
    /// Where it stands.
    pub status: PurchaseOrderStatus,
}

/// What the decision needs of a sales order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceableOrder {
    /// Its status.
    pub status: SalesOrderStatus,
    /// Its version.
    pub version: i32,
    /// The purchase orders of its master order.
    pub purchase_orders: Vec<BilledPurchaseOrder>,
}

/// Who asks, and which version they saw (`If-Match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceRequester {
    /// The requester's role.
    pub role: Role,
    /// The version the client saw.
    pub expected_version: Option<i32>,
}

/// The invoice to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDecision {
    /// Cancelled purchase orders, whose lines are credited (not billed).
    pub credited: Vec<Uuid>,
}

/// When an invoice dated `invoice_date` is due, `due_days` later (the setting).
pub fn due_date(invoice_date: NaiveDate, due_days: u32) -> NaiveDate {
    invoice_date + Days::new(u64::from(due_days))
}

/// Decides an invoicing: refusals ranked 403 (role), 404 (unknown), 412 (stale version),
/// 409 (already invoiced, goods not received, nothing left to bill).
pub fn decide_invoice(
    requester: InvoiceRequester,
    order: Option<&InvoiceableOrder>,
) -> Result<InvoiceDecision, Refusal> {
    if !requester.role.is_staff() {
        return Err(Refusal::new(
            RefusalCode::Forbidden,
            "only Blue Whale staff invoice sales orders",
        ));
    }
    let order = order.ok_or_else(|| Refusal::new(RefusalCode::NotFound, "no such sales order"))?;
    if let Some(expected) = requester.expected_version
        && expected != order.version
    {
        return Err(Refusal::new(
            RefusalCode::PreconditionFailed,
            format!(
                "the sales order is at version {}, not {expected}",
                order.version
            ),
        ));
    }
    if order.status == SalesOrderStatus::Invoiced {
        return Err(Refusal::new(
            RefusalCode::SalesOrderInvoiced,
            "the sales order is invoiced already",
        ));
    }
    let received = PurchaseOrderStatus::Received.rank();
    let waiting: Vec<&str> = order
        .purchase_orders
        .iter()
        .filter(|po| po.status != PurchaseOrderStatus::Cancelled && po.status.rank() < received)
        .map(|po| po.number.as_str())
        .collect();
    if !waiting.is_empty() {
        return Err(Refusal::new(
            RefusalCode::PurchaseOrdersNotReceived,
            format!("not received yet: {}", waiting.join(", ")),
        ));
    }
    let credited: Vec<Uuid> = order
        .purchase_orders
        .iter()
        .filter(|po| po.status == PurchaseOrderStatus::Cancelled)
        .map(|po| po.id)
        .collect();
    if credited.len() == order.purchase_orders.len() {
        return Err(Refusal::new(
            RefusalCode::NothingToInvoice,
            "every purchase order of the order was cancelled",
        ));
    }
    Ok(InvoiceDecision { credited })
}

#[cfg(test)]
mod tests {
    use super::*;
    use PurchaseOrderStatus as S;

    fn order(statuses: &[PurchaseOrderStatus]) -> InvoiceableOrder {
        InvoiceableOrder {
            status: SalesOrderStatus::Issued,
            version: 1,
            purchase_orders: statuses
                .iter()
                .enumerate()
                .map(|(i, status)| BilledPurchaseOrder {
                    id: Uuid::from_u128(i as u128 + 1),
                    number: format!("PO-2026-00000{}", i + 1),
                    status: *status,
                })
                .collect(),
        }
    }

    fn staff() -> InvoiceRequester {
        InvoiceRequester {
            role: Role::Handler,
            expected_version: None,
        }
    }

    fn code(result: Result<InvoiceDecision, Refusal>) -> Option<RefusalCode> {
        result.err().map(|r| r.code)
    }

    #[test]
    fn invoiceable_once_every_live_purchase_order_is_received_or_later() {
        let cases: [(&[PurchaseOrderStatus], Option<RefusalCode>); 9] = [
            (&[S::Received], None),
            (&[S::Received, S::Closed, S::Invoiced, S::Archived], None),
            (&[S::Received, S::Cancelled], None),
            (
                &[S::Registered],
                Some(RefusalCode::PurchaseOrdersNotReceived),
            ),
            (
                &[S::Confirmed, S::Received],
                Some(RefusalCode::PurchaseOrdersNotReceived),
            ),
            (&[S::Shipped], Some(RefusalCode::PurchaseOrdersNotReceived)),
            (
                &[S::Shipped, S::Cancelled],
                Some(RefusalCode::PurchaseOrdersNotReceived),
            ),
            (&[S::Cancelled], Some(RefusalCode::NothingToInvoice)),
            (
                &[S::Cancelled, S::Cancelled],
                Some(RefusalCode::NothingToInvoice),
            ),
        ];
        for (statuses, expected) in cases {
            let got = decide_invoice(staff(), Some(&order(statuses)));
            assert_eq!(code(got), expected, "{statuses:?}");
        }
    }

    #[test]
    fn the_refusal_names_the_purchase_orders_still_awaited() {
        let refusal = decide_invoice(
            staff(),
            Some(&order(&[S::Received, S::Shipped, S::Confirmed])),
        )
        .expect_err("not received");
        assert_eq!(
            refusal.detail,
            "not received yet: PO-2026-000002, PO-2026-000003"
        );
    }

    #[test]
    fn cancelled_purchase_orders_are_credited() {
        let decision = decide_invoice(
            staff(),
            Some(&order(&[S::Received, S::Cancelled, S::Closed])),
        )
        .expect("invoiceable");
        assert_eq!(decision.credited, [Uuid::from_u128(2)]);
    }

    #[test]
    fn the_due_date_is_the_setting_s_days_later() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(
            due_date(today, 30),
            NaiveDate::from_ymd_opt(2027, 1, 2).unwrap()
        );
        assert_eq!(due_date(today, 0), today);
        let leap = NaiveDate::from_ymd_opt(2028, 2, 1).unwrap();
        assert_eq!(
            due_date(leap, 29),
            NaiveDate::from_ymd_opt(2028, 3, 1).unwrap()
        );
    }

    #[test]
    fn refusals_are_ranked_role_then_existence_then_version_then_state() {
        let mut invoiced = order(&[S::Registered]);
        invoiced.status = SalesOrderStatus::Invoiced;
        invoiced.version = 2;
        let station = InvoiceRequester {
            role: Role::Station,
            expected_version: Some(1),
        };
        let stale = InvoiceRequester {
            role: Role::Admin,
            expected_version: Some(1),
        };
        let supplier = InvoiceRequester {
            role: Role::Supplier,
            expected_version: None,
        };
        let cases = [
            (station, Some(&invoiced), RefusalCode::Forbidden),
            (supplier, None, RefusalCode::Forbidden),
            (staff(), None, RefusalCode::NotFound),
            (stale, Some(&invoiced), RefusalCode::PreconditionFailed),
            (staff(), Some(&invoiced), RefusalCode::SalesOrderInvoiced),
        ];
        for (requester, order, expected) in cases {
            assert_eq!(
                code(decide_invoice(requester, order)),
                Some(expected),
                "{requester:?}"
            );
        }
    }
}
