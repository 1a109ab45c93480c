//! Turns decided orders (priced or rejected by the domain) into the rows, audit records and
//! events of one transaction. New rows get time-ordered ids (UUIDv7): they land at the right
//! edge of every index instead of at random pages. They need not be derived from the
//! command: a command is applied by one committed transaction or not at all (the runner
//! skips processed commands), and the events keep the ids they were written to the outbox
//! with for de-duplication.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use bluewhale::db::order_writes::{
    NewMasterOrder, NewPurchaseOrder, NewPurchaseOrderLine, NewSalesOrder, NewStatusChange,
};
use bluewhale::db::purchase_orders::{PurchaseOrderLineView, PurchaseOrderView};
use bluewhale::domain::audit::{AuditAction, changes};
use bluewhale::domain::money::{CURRENCY_EUR, Totals};
use bluewhale::domain::numbering::{DocumentKind, format_number};
use bluewhale::domain::purchase_order_status::PurchaseOrderStatus;
use bluewhale::domain::rejection::Rejection;
use bluewhale::domain::split::{PricedOrder, PricedPurchaseOrder};
use bluewhale::messaging::Namespace;
use bluewhale::messaging::commands::SubmitOrder;
use bluewhale::messaging::envelope::{Envelope, Idempotency};
use bluewhale::messaging::events::orders::{PurchaseOrderSummary, SalesOrderSummary};
use bluewhale::messaging::events::{
    AuditRecord, EventSpec, OrderProcessed, OutboxEvent, PurchaseOrderCreated,
};

use super::sales_order::{SalesOrderCreated, resell};

/// A submission with the domain's decision.
pub struct Decided<'a> {
    /// The command.
    pub command: &'a Envelope<SubmitOrder>,
    /// Its idempotency key and request hash (stored with the master order).
    pub idempotency: &'a Idempotency,
    /// Priced, or rejected with every failing line.
    pub outcome: Result<PricedOrder, Rejection>,
}

/// A count (or the next number) per document kind of an order batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Master orders (every submission, rejected ones too).
    pub master_orders: i64,
    /// Purchase orders.
    pub purchase_orders: i64,
    /// Sales orders (one per priced submission).
    pub sales_orders: i64,
}

/// How many numbers of each kind each year needs.
pub fn numbers_needed(decided: &[Decided<'_>]) -> BTreeMap<i32, Counters> {
    let mut needed = BTreeMap::new();
    for d in decided {
        let entry: &mut Counters = needed.entry(d.command.data.order_date.year()).or_default();
        entry.master_orders += 1;
        if let Ok(priced) = &d.outcome {
            entry.purchase_orders += i64::try_from(priced.purchase_orders.len()).unwrap_or(0);
            entry.sales_orders += 1;
        }
    }
    needed
}

/// The rows of a batch written before its numbers are taken.
#[derive(Debug, Default)]
pub struct Plan {
    /// master_orders rows.
    pub master_orders: Vec<NewMasterOrder>,
    /// purchase_orders rows.
    pub purchase_orders: Vec<NewPurchaseOrder>,
    /// purchase_order_lines rows.
    pub lines: Vec<NewPurchaseOrderLine>,
    /// purchase_order_status_history rows.
    pub status_changes: Vec<NewStatusChange>,
    /// sales_orders rows, one per priced submission, in batch order.
    pub sales_orders: Vec<NewSalesOrder>,
    /// Where each sales order's lines are in `lines` (its master order's).
    pub sales_order_lines: Vec<Range<usize>>,
    /// Where each purchase order's lines are in `lines`, aligned with `purchase_orders`.
    pub purchase_order_lines: Vec<Range<usize>>,
}

/// First number allocated per year, of each kind.
pub type FirstNumbers = BTreeMap<i32, Counters>;

const REGISTERED: PurchaseOrderStatus = PurchaseOrderStatus::Registered;

/// Everything but the document numbers: master, purchase and sales orders under a unique
/// placeholder number, lines and status history. Written before the
/// numbers are taken, which keeps the lock on the number counters short. `fees` is the
/// platform fee by contract.
pub fn unnumbered(
    decided: &[Decided<'_>],
    fees: &HashMap<Uuid, Decimal>,
    now: DateTime<Utc>,
) -> Plan {
    let mut plan = Plan::default();
    for d in decided {
        let cmd = d.command;
        plan.master_orders
            .push(master_order_row(d, placeholder(cmd.data.order_id)));
        if let Ok(priced) = &d.outcome {
            let first_line = plan.lines.len();
            for po in &priced.purchase_orders {
                let id = Uuid::now_v7();
                let row = purchase_order_row(cmd, po, id, placeholder(id));
                let po_first_line = plan.lines.len();
                plan.lines.extend(line_rows(row.id, po));
                plan.purchase_order_lines
                    .push(po_first_line..plan.lines.len());
                plan.status_changes.push(NewStatusChange {
                    purchase_order_id: row.id,
                    from_status: None,
                    to_status: REGISTERED.as_str().to_owned(),
                    actor_user_id: Some(cmd.actor.user_id),
                    actor_role: Some(cmd.actor.role.as_str().to_owned()),
                    actor_org_type: Some(cmd.actor.org_type.as_str().to_owned()),
                    actor_org_id: cmd.actor.org_id,
                    command_id: Some(cmd.id),
                    reason: None,
                    details: None,
                    changed_at: now,
                });
                plan.purchase_orders.push(row);
            }
            let lines = first_line..plan.lines.len();
            // Unique among sales orders as the master order's is among master orders.
            let placeholder = placeholder(cmd.data.order_id);
            let order = resell(cmd, &mut plan.lines[lines.clone()], fees, placeholder, now);
            plan.sales_orders.push(order);
            plan.sales_order_lines.push(lines);
        }
    }
    plan
}

/// What the CREATE audit row of a purchase order records: the row and its lines. Audited at
/// the aggregate (one row per purchase order, its lines inside), not one row per line.
#[derive(serde::Serialize)]
struct PurchaseOrderCreatedAudit<'a> {
    #[serde(flatten)]
    order: &'a NewPurchaseOrder,
    lines: &'a [NewPurchaseOrderLine],
}

/// A unique stand-in for a document number, replaced before commit.
fn placeholder(id: Uuid) -> String {
    format!("pending:{id}")
}

/// The numbered part: `(id, number)` assignments for master, purchase and sales orders, their
/// audit rows and the domain events that name them. `first` gives, per year, the first
/// reserved number of each kind, as many as [`numbers_needed`] asked for; `early` is the
/// batch's [`unnumbered`] plan (its sales orders get their numbers here).
pub fn numbered(
    decided: &[Decided<'_>],
    early: &Plan,
    first: &FirstNumbers,
    ns: &Namespace,
    now: DateTime<Utc>,
) -> Result<Numbered, serde_json::Error> {
    let mut next = first.clone();
    let mut out = Numbered::default();
    let mut sales_orders = early.sales_orders.iter().zip(&early.sales_order_lines);
    let mut early_purchase_orders = early
        .purchase_orders
        .iter()
        .zip(&early.purchase_order_lines);
    for d in decided {
        let cmd = d.command;
        let data = &cmd.data;
        let year = data.order_date.year();
        let counters = next.entry(year).or_default();
        let reference = format_number(DocumentKind::MasterOrder, year, counters.master_orders);
        counters.master_orders += 1;
        let master = master_order_row(d, reference.clone());
        let mut records = Vec::new();
        let mut events = Vec::new();
        let mut audit = Audit {
            cmd,
            now,
            records: &mut records,
        };
        audit.created("master_order", master.id, &master);
        let mut summaries = Vec::new();
        if let Ok(priced) = &d.outcome {
            for po in &priced.purchase_orders {
                let number =
                    format_number(DocumentKind::PurchaseOrder, year, counters.purchase_orders);
                counters.purchase_orders += 1;
                let (early_row, lines) = early_purchase_orders
                    .next()
                    .map(|(row, range)| (row, &early.lines[range.clone()]))
                    .ok_or_else(|| {
                        serde::ser::Error::custom("purchase order missing from the plan")
                    })?;
                let row = purchase_order_row(cmd, po, early_row.id, number);
                audit.created(
                    "purchase_order",
                    row.id,
                    &PurchaseOrderCreatedAudit { order: &row, lines },
                );
                // The supplier's notification carries everything needed to fulfil the order.
                let created = PurchaseOrderCreated {
                    purchase_order: created_view(&row, lines, now),
                    master_order_reference: reference.clone(),
                    requested_delivery_date: data.requested_delivery_date,
                    notes: data.notes.clone(),
                };
                events.push(event(ns, cmd, now, &created)?);
                summaries.push(PurchaseOrderSummary {
                    id: row.id,
                    number: row.number.clone(),
                    supplier_id: row.supplier_id,
                    total_excluding_tax: row.total_excluding_tax,
                    tax_amount: row.tax_amount,
                    total_including_tax: row.total_including_tax,
                });
                out.purchase_order_numbers.push((row.id, row.number));
            }
        }
        let unnumbered_sales_order = d.outcome.is_ok().then(|| sales_orders.next()).flatten();
        let sales_order = match unnumbered_sales_order {
            Some((unnumbered, lines)) => {
                let number = format_number(DocumentKind::SalesOrder, year, counters.sales_orders);
                counters.sales_orders += 1;
                let order = NewSalesOrder {
                    number,
                    ..unnumbered.clone()
                };
                audit.created(
                    "sales_order",
                    order.id,
                    &SalesOrderCreated::new(&order, &early.lines[lines.clone()]),
                );
                out.sales_order_numbers
                    .push((order.id, order.number.clone()));
                Some(SalesOrderSummary {
                    id: order.id,
                    number: order.number,
                    total_excluding_tax: order.total_excluding_tax,
                    tax_amount: order.tax_amount,
                    total_including_tax: order.total_including_tax,
                })
            }
            None => None,
        };
        let processed = OrderProcessed {
            order_id: data.order_id,
            reference: reference.clone(),
            station_id: data.station_id,
            status: master.status.clone(),
            order_date: data.order_date,
            total_excluding_tax: master.total_excluding_tax,
            tax_amount: master.tax_amount,
            total_including_tax: master.total_including_tax,
            rejection: d.outcome.as_ref().err().cloned(),
            purchase_orders: summaries,
            sales_order,
        };
        events.push(event(ns, cmd, now, &processed)?);
        out.master_order_references.push((master.id, reference));
        out.audit.push(records);
        out.events.push(events);
    }
    Ok(out)
}

/// The representation of a purchase order just created, as `GET /purchase-orders/{id}` will
/// show it once committed.
fn created_view(
    row: &NewPurchaseOrder,
    lines: &[NewPurchaseOrderLine],
    now: DateTime<Utc>,
) -> PurchaseOrderView {
    PurchaseOrderView {
        id: row.id,
        number: row.number.clone(),
        master_order_id: row.master_order_id,
        supplier_id: row.supplier_id,
        station_id: row.station_id,
        status: REGISTERED.as_str().to_owned(),
        status_label: REGISTERED.label_fr().to_owned(),
        version: 1,
        order_date: row.order_date,
        currency: CURRENCY_EUR.to_owned(),
        total_excluding_tax: row.total_excluding_tax,
        tax_amount: row.tax_amount,
        total_including_tax: row.total_including_tax,
        confirmed_delivery_date: None,
        carrier: None,
        tracking_number: None,
        has_discrepancy: false,
        cancellation_reason: None,
        archive_reason: None,
        invoice_number: None,
        lines: lines
            .iter()
            .map(|l| PurchaseOrderLineView {
                purchase_order_id: l.purchase_order_id,
                line_number: l.line_number,
                product_id: l.product_id,
                product_code: l.product_code.clone(),
                product_name: l.product_name.clone(),
                conditioning_unit: l.conditioning_unit.clone(),
                supplier_reference: l.supplier_reference.clone(),
                quantity: i32::try_from(l.quantity).unwrap_or(i32::MAX),
                base_unit_price: l.base_unit_price,
                reduction_percent: l.reduction_percent,
                unit_price: l.unit_price,
                tax_rate: l.tax_rate,
                line_total: l.line_total,
                contract_id: l.contract_id,
                received_quantity: None,
                discrepancy: None,
                reception_note: None,
            })
            .collect(),
        created_at: now,
        updated_at: now,
        confirmed_at: None,
        shipped_at: None,
        received_at: None,
        closed_at: None,
        cancelled_at: None,
        invoiced_at: None,
        archived_at: None,
    }
}

/// The numbered part of a batch.
#[derive(Debug, Default)]
pub struct Numbered {
    /// `(master order id, MO-YYYY-NNNNNN)`.
    pub master_order_references: Vec<(Uuid, String)>,
    /// `(purchase order id, PO-YYYY-NNNNNN)`.
    pub purchase_order_numbers: Vec<(Uuid, String)>,
    /// `(sales order id, SO-YYYY-NNNNNN)`.
    pub sales_order_numbers: Vec<(Uuid, String)>,
    /// Audit rows of the master, purchase (lines inside) and sales orders, per submission.
    pub audit: Vec<Vec<AuditRecord>>,
    /// Domain events, per submission.
    pub events: Vec<Vec<OutboxEvent>>,
}

/// The master-order row of a decided submission.
fn master_order_row(d: &Decided<'_>, reference: String) -> NewMasterOrder {
    let cmd = d.command;
    let data = &cmd.data;
    let (status, totals, rejection) = match &d.outcome {
        Ok(priced) => (REGISTERED.as_str().to_owned(), priced.totals, None),
        Err(rejection) => (
            "REJECTED".to_owned(),
            Totals::default(),
            Some(json!(rejection)),
        ),
    };
    NewMasterOrder {
        id: data.order_id,
        reference,
        station_id: data.station_id,
        created_by: cmd.actor.user_id,
        idempotency_key: d.idempotency.key.clone(),
        request_hash: d.idempotency.request_hash.clone(),
        status,
        order_date: data.order_date,
        accepted_at: data.accepted_at,
        requested_delivery_date: data.requested_delivery_date,
        notes: data.notes.clone(),
        total_excluding_tax: totals.excluding_tax,
        tax_amount: totals.tax_amount,
        total_including_tax: totals.including_tax,
        rejection,
        command_id: cmd.id,
    }
}

/// The purchase-order row of one supplier's part of a submission.
fn purchase_order_row(
    cmd: &Envelope<SubmitOrder>,
    po: &PricedPurchaseOrder,
    id: Uuid,
    number: String,
) -> NewPurchaseOrder {
    NewPurchaseOrder {
        id,
        number,
        master_order_id: cmd.data.order_id,
        supplier_id: po.supplier_id,
        station_id: cmd.data.station_id,
        status: REGISTERED.as_str().to_owned(),
        order_date: cmd.data.order_date,
        total_excluding_tax: po.totals.excluding_tax,
        tax_amount: po.totals.tax_amount,
        total_including_tax: po.totals.including_tax,
    }
}

/// The line rows of a priced purchase order.
fn line_rows(po_id: Uuid, po: &PricedPurchaseOrder) -> Vec<NewPurchaseOrderLine> {
    po.lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let line_number = i32::try_from(i + 1).unwrap_or(i32::MAX);
            NewPurchaseOrderLine {
                id: Uuid::now_v7(),
                purchase_order_id: po_id,
                line_number,
                product_id: line.product_id,
                product_code: line.product_code.clone(),
                product_name: line.product_name.clone(),
                conditioning_unit: line.conditioning_unit.clone(),
                supplier_reference: line.supplier_reference.clone(),
                contract_id: line.contract_id,
                contract_line_id: line.contract_line_id,
                quantity: i64::from(line.quantity),
                base_unit_price: line.base_unit_price,
                reduction_percent: line.reduction_percent,
                unit_price: line.unit_price,
                tax_rate: line.tax_rate,
                line_total: line.line_total,
                // Set by `resell` with the rest of the order's lines.
                platform_fee_percent: Decimal::ZERO,
                sales_unit_price: Decimal::ZERO,
                sales_line_total: Decimal::ZERO,
            }
        })
        .collect()
}

/// A domain event of the submission.
fn event<E: EventSpec>(
    ns: &Namespace,
    cmd: &Envelope<SubmitOrder>,
    now: DateTime<Utc>,
    payload: &E,
) -> Result<OutboxEvent, serde_json::Error> {
    OutboxEvent::new(ns, Uuid::now_v7(), now, Some(cmd.id), payload)
}

/// Collects CREATE audit rows for one command.
struct Audit<'a> {
    cmd: &'a Envelope<SubmitOrder>,
    now: DateTime<Utc>,
    records: &'a mut Vec<AuditRecord>,
}

impl Audit<'_> {
    fn created(&mut self, entity_type: &'static str, id: Uuid, row: &impl serde::Serialize) {
        let new = serde_json::to_value(row).unwrap_or(Value::Null);
        self.records.push(AuditRecord {
            id: Uuid::now_v7(),
            occurred_at: self.now,
            actor: Some(self.cmd.actor),
            action: AuditAction::Create,
            entity_type: entity_type.to_owned(),
            entity_id: Some(id),
            changes: Value::Object(changes(None, Some(&new))),
            command_id: Some(self.cmd.id),
            request_id: self.cmd.request_id.clone(),
            reason: None,
            client: None,
        });
    }
}
