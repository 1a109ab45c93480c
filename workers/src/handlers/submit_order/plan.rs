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
use bluewhale::domain::split::PricedOrder;
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

/// Everything one batch writes.
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
    /// Domain events for the outbox.
    pub events: Vec<OutboxEvent>,
}

/// First number allocated per year: `(master orders, purchase orders)`.
pub type FirstNumbers = BTreeMap<i32, (i64, i64)>;

const REGISTERED: PurchaseOrderStatus = PurchaseOrderStatus::Registered;

/// Builds the batch's rows. `first` gives, per year, the first reserved number of each kind,
/// as many as [`numbers_needed`] asked for.
pub fn build(
    decided: &[Decided<'_>],
    first: &FirstNumbers,
    ns: &Namespace,
    now: DateTime<Utc>,
) -> Plan {
    let mut next = first.clone();
    let mut plan = Plan::default();
    for d in decided {
        let cmd = d.command;
        let data = &cmd.data;
        let year = data.order_date.year();
        let counters = next.entry(year).or_insert((1, 1));
        let reference = format_number(DocumentKind::MasterOrder, year, counters.0);
        counters.0 += 1;
        let (status, totals, rejection) = match &d.outcome {
            Ok(priced) => (REGISTERED.as_str().to_owned(), priced.totals, None),
            Err(rejection) => (
                "REJECTED".to_owned(),
                Totals::default(),
                Some(json!(rejection)),
            ),
        };
        let master = NewMasterOrder {
            id: data.order_id,
            reference: reference.clone(),
            station_id: data.station_id,
            created_by: cmd.actor.user_id,
            idempotency_key: data.idempotency_key.clone(),
            request_hash: data.request_hash.clone(),
            status: status.clone(),
            order_date: data.order_date,
            accepted_at: data.accepted_at,
            requested_delivery_date: data.requested_delivery_date,
            notes: data.notes.clone(),
            total_excluding_tax: totals.excluding_tax,
            tax_amount: totals.tax_amount,
            total_including_tax: totals.including_tax,
            rejection: rejection.clone(),
            command_id: cmd.id,
        };
        let mut audit = Audit {
            cmd,
            now,
            records: &mut plan.audit,
        };
        audit.created("master_order", master.id, &master);
        let mut po_summaries = Vec::new();
        if let Ok(priced) = &d.outcome {
            for po in &priced.purchase_orders {
                let number = format_number(DocumentKind::PurchaseOrder, year, counters.1);
                counters.1 += 1;
                let row = NewPurchaseOrder {
                    id: derived(data.order_id, &format!("purchase_order:{}", po.supplier_id)),
                    number,
                    master_order_id: data.order_id,
                    supplier_id: po.supplier_id,
                    station_id: data.station_id,
                    status: REGISTERED.as_str().to_owned(),
                    order_date: data.order_date,
                    total_excluding_tax: po.totals.excluding_tax,
                    tax_amount: po.totals.tax_amount,
                    total_including_tax: po.totals.including_tax,
                };
                audit.created("purchase_order", row.id, &row);
                let mut lines = Vec::with_capacity(po.lines.len());
                for (i, line) in po.lines.iter().enumerate() {
                    let line_number = i32::try_from(i + 1).unwrap_or(i32::MAX);
                    let line_row = NewPurchaseOrderLine {
                        id: derived(row.id, &format!("line:{line_number}")),
                        purchase_order_id: row.id,
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
                    };
                    audit.created("purchase_order_line", line_row.id, &line_row);
                    lines.push(line_row);
                }
                plan.status_changes.push(NewStatusChange {
                    purchase_order_id: row.id,
                    from_status: None,
                    to_status: REGISTERED.as_str().to_owned(),
                    actor_user_id: Some(cmd.actor.user_id),
                    command_id: Some(cmd.id),
                    reason: None,
                });
                // The supplier's notification carries everything needed to fulfil the order.
                plan.events.push(event(
                    ns.event("purchase_order.created", po.supplier_id),
                    cmd,
                    "purchase_order.created",
                    row.id,
                    now,
                    json!({
                        "purchase_order": &row, "lines": &lines,
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
                plan.purchase_orders.push(row);
                plan.lines.extend(lines);
            }
        }
        let (kind, outcome) = if rejection.is_some() {
            ("order.rejected", Outcome::Rejected)
        } else {
            ("order.priced", Outcome::Applied)
        };
        plan.events.push(event(
            ns.event(kind, data.station_id),
            cmd,
            kind,
            data.order_id,
            now,
            json!({
                "order_id": data.order_id, "reference": &reference, "station_id": data.station_id,
                "status": &status, "order_date": data.order_date,
                "total_excluding_tax": totals.excluding_tax, "tax_amount": totals.tax_amount,
                "total_including_tax": totals.including_tax, "rejection": &rejection,
                "purchase_orders": po_summaries,
            }),
        ));
        plan.commands.push(CommandRecord {
            id: cmd.id,
            kind: cmd.kind.clone(),
            subject: d.subject.to_owned(),
            actor: json!(cmd.actor),
            request_id: cmd.request_id.clone(),
            outcome,
            error: rejection,
            issued_at: cmd.issued_at,
        });
        plan.master_orders.push(master);
    }
    plan
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
