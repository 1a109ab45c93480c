//! Turns decided orders (priced or rejected by the domain) into the rows, audit records and
//! events of one transaction. Pure: ids are derived from the command, so a redelivered
//! command would produce exactly the same rows (and the same event ids for de-duplication).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use bluewhale::db::audit::AuditRecord;
use bluewhale::db::commands::{CommandRecord, Outcome};
use bluewhale::db::order_writes::{
    NewMasterOrder, NewPurchaseOrder, NewPurchaseOrderLine, NewStatusChange,
};
use bluewhale::domain::audit::{AuditAction, changes};
use bluewhale::domain::money::Totals;
use bluewhale::domain::numbering::{DocumentKind, format_number};
use bluewhale::domain::purchase_order_status::PurchaseOrderStatus;
use bluewhale::domain::rejection::Rejection;
use bluewhale::domain::split::{PricedOrder, PricedPurchaseOrder};
use bluewhale::messaging::Namespace;
use bluewhale::messaging::commands::SubmitOrder;
use bluewhale::messaging::envelope::Envelope;
use bluewhale::messaging::events::{Event, OutboxEvent};

/// A submission with the domain's decision.
pub struct Decided<'a> {
    /// The command.
    pub command: &'a Envelope<SubmitOrder>,
    /// Subject it arrived on.
    pub subject: &'a str,
    /// Priced, or rejected with every failing line.
    pub outcome: Result<PricedOrder, Rejection>,
}

/// How many numbers of each kind each year needs: `(master orders, purchase orders)`.
pub fn numbers_needed(decided: &[Decided<'_>]) -> BTreeMap<i32, (i64, i64)> {
    let mut needed = BTreeMap::new();
    for d in decided {
        let entry = needed
            .entry(d.command.data.order_date.year())
            .or_insert((0, 0));
        entry.0 += 1;
        if let Ok(priced) = &d.outcome {
            entry.1 += i64::try_from(priced.purchase_orders.len()).unwrap_or(0);
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
    /// commands rows.
    pub commands: Vec<CommandRecord>,
    /// audit_log rows (their events are added when written).
    pub audit: Vec<AuditRecord>,
}

/// First number allocated per year: `(master orders, purchase orders)`.
pub type FirstNumbers = BTreeMap<i32, (i64, i64)>;

const REGISTERED: PurchaseOrderStatus = PurchaseOrderStatus::Registered;

/// Everything but the document numbers: master orders and purchase orders under a unique
/// placeholder number, lines, status history, command records and the lines' audit rows.
/// Written before the numbers are taken, which keeps the lock on the number counters short.
pub fn unnumbered(decided: &[Decided<'_>], now: DateTime<Utc>) -> Plan {
    let mut plan = Plan::default();
    for d in decided {
        let cmd = d.command;
        plan.master_orders
            .push(master_order_row(d, placeholder(cmd.data.order_id)));
        let mut audit = Audit {
            cmd,
            now,
            records: &mut plan.audit,
        };
        if let Ok(priced) = &d.outcome {
            for po in &priced.purchase_orders {
                let row = purchase_order_row(cmd, po, placeholder(purchase_order_id(cmd, po)));
                for line in line_rows(row.id, po) {
                    audit.created("purchase_order_line", line.id, &line);
                    plan.lines.push(line);
                }
                plan.status_changes.push(NewStatusChange {
                    purchase_order_id: row.id,
                    from_status: None,
                    to_status: REGISTERED.as_str().to_owned(),
                    actor_user_id: Some(cmd.actor.user_id),
                    command_id: Some(cmd.id),
                    reason: None,
                });
                plan.purchase_orders.push(row);
            }
        }
        let rejection = d.outcome.as_ref().err().map(|r| json!(r));
        plan.commands.push(CommandRecord {
            id: cmd.id,
            kind: cmd.kind.clone(),
            subject: d.subject.to_owned(),
            actor: json!(cmd.actor),
            request_id: cmd.request_id.clone(),
            outcome: if rejection.is_some() {
                Outcome::Rejected
            } else {
                Outcome::Applied
            },
            error: rejection,
            issued_at: cmd.issued_at,
        });
    }
    plan
}

/// A unique stand-in for a document number, replaced before commit.
fn placeholder(id: Uuid) -> String {
    format!("pending:{id}")
}

/// The numbered part: `(id, number)` assignments for master and purchase orders, their audit
/// rows and the domain events that name them. `first` gives, per year, the first reserved
/// number of each kind, as many as [`numbers_needed`] asked for.
pub fn numbered(
    decided: &[Decided<'_>],
    first: &FirstNumbers,
    ns: &Namespace,
    now: DateTime<Utc>,
) -> Numbered {
    let mut next = first.clone();
    let mut out = Numbered::default();
    for d in decided {
        let cmd = d.command;
        let data = &cmd.data;
        let year = data.order_date.year();
        let counters = next.entry(year).or_insert((1, 1));
        let reference = format_number(DocumentKind::MasterOrder, year, counters.0);
        counters.0 += 1;
        let master = master_order_row(d, reference.clone());
        let mut audit = Audit {
            cmd,
            now,
            records: &mut out.audit,
        };
        audit.created("master_order", master.id, &master);
        let mut po_summaries = Vec::new();
        if let Ok(priced) = &d.outcome {
            for po in &priced.purchase_orders {
                let number = format_number(DocumentKind::PurchaseOrder, year, counters.1);
                counters.1 += 1;
                let row = purchase_order_row(cmd, po, number);
                audit.created("purchase_order", row.id, &row);
                // The supplier's notification carries everything needed to fulfil the order.
                out.events.push(event(
                    ns.event("purchase_order.created", po.supplier_id),
                    cmd,
                    "purchase_order.created",
                    row.id,
                    now,
                    json!({
                        "purchase_order": &row, "lines": line_rows(row.id, po),
                        "master_order_reference": &reference,
                        "requested_delivery_date": data.requested_delivery_date,
                        "notes": &data.notes,
                    }),
                ));
                po_summaries.push(json!({
                    "id": row.id, "number": &row.number, "supplier_id": row.supplier_id,
                    "total_excluding_tax": row.total_excluding_tax, "tax_amount": row.tax_amount,
                    "total_including_tax": row.total_including_tax,
                }));
                out.purchase_order_numbers.push((row.id, row.number));
            }
        }
        let kind = if master.rejection.is_some() {
            "order.rejected"
        } else {
            "order.priced"
        };
        out.events.push(event(
            ns.event(kind, data.station_id),
            cmd,
            kind,
            data.order_id,
            now,
            json!({
                "order_id": data.order_id, "reference": &reference, "station_id": data.station_id,
                "status": &master.status, "order_date": data.order_date,
                "total_excluding_tax": master.total_excluding_tax, "tax_amount": master.tax_amount,
                "total_including_tax": master.total_including_tax, "rejection": &master.rejection,
                "purchase_orders": po_summaries,
            }),
        ));
        out.master_order_references.push((master.id, reference));
    }
    out
}

/// The numbered part of a batch.
#[derive(Debug, Default)]
pub struct Numbered {
    /// `(master order id, MO-YYYY-NNNNNN)`.
    pub master_order_references: Vec<(Uuid, String)>,
    /// `(purchase order id, PO-YYYY-NNNNNN)`.
    pub purchase_order_numbers: Vec<(Uuid, String)>,
    /// Audit rows of the master and purchase orders (they show the numbers).
    pub audit: Vec<AuditRecord>,
    /// Domain events.
    pub events: Vec<OutboxEvent>,
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
        idempotency_key: data.idempotency_key.clone(),
        request_hash: data.request_hash.clone(),
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
    number: String,
) -> NewPurchaseOrder {
    NewPurchaseOrder {
        id: purchase_order_id(cmd, po),
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

/// The id of the purchase order of one supplier in one master order.
fn purchase_order_id(cmd: &Envelope<SubmitOrder>, po: &PricedPurchaseOrder) -> Uuid {
    derived(
        cmd.data.order_id,
        &format!("purchase_order:{}", po.supplier_id),
    )
}

/// The line rows of a priced purchase order.
fn line_rows(po_id: Uuid, po: &PricedPurchaseOrder) -> Vec<NewPurchaseOrderLine> {
    po.lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let line_number = i32::try_from(i + 1).unwrap_or(i32::MAX);
            NewPurchaseOrderLine {
                id: derived(po_id, &format!("line:{line_number}")),
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
            }
        })
        .collect()
}

/// A stable id derived from a parent id and a name.
fn derived(parent: Uuid, name: &str) -> Uuid {
    Uuid::new_v5(&parent, name.as_bytes())
}

fn event(
    subject: String,
    cmd: &Envelope<SubmitOrder>,
    kind: &str,
    entity_id: Uuid,
    now: DateTime<Utc>,
    data: Value,
) -> OutboxEvent {
    OutboxEvent {
        subject,
        event: Event {
            id: derived(cmd.id, &format!("event:{kind}:{entity_id}")),
            kind: kind.to_owned(),
            version: 1,
            occurred_at: now,
            command_id: Some(cmd.id),
            data,
        },
    }
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
            id: derived(self.cmd.id, &format!("audit:create:{entity_type}:{id}")),
            occurred_at: self.now,
            actor: Some(self.cmd.actor),
            action: AuditAction::Create.as_str(),
            entity_type,
            entity_id: Some(id),
            changes: Value::Object(changes(None, Some(&new))),
            command_id: Some(self.cmd.id),
            request_id: self.cmd.request_id.clone(),
            reason: None,
            client_address: None,
        });
    }
}
