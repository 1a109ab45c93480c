//! A decided transition applied to the purchase order in memory: the representation after the
//! change is what gets written, audited and published.

use chrono::{DateTime, Utc};

use bluewhale::db::order_writes::NewStatusChange;
use bluewhale::db::purchase_orders::PurchaseOrderView;
use bluewhale::domain::purchase_order_lifecycle::{Transition, TransitionPlan};
use bluewhale::messaging::commands::TransitionPurchaseOrder;
use bluewhale::messaging::envelope::Envelope;

use crate::handler::HandlerError;

/// Sets the status, version and every field the transition fills.
pub fn apply(po: &mut PurchaseOrderView, plan: &TransitionPlan, now: DateTime<Utc>) {
    po.status = plan.to.as_str().to_owned();
    po.status_label = plan.to.label_fr().to_owned();
    po.version += 1;
    po.updated_at = now;
    match &plan.transition {
        Transition::Confirm {
            confirmed_delivery_date,
        } => {
            po.confirmed_delivery_date = Some(*confirmed_delivery_date);
            po.confirmed_at = Some(now);
        }
        Transition::Ship {
            carrier,
            tracking_number,
        } => {
            po.carrier.clone_from(carrier);
            po.tracking_number.clone_from(tracking_number);
            po.shipped_at = Some(now);
        }
        Transition::Receive { .. } => {
            for reception in &plan.receptions {
                if let Some(line) = po
                    .lines
                    .iter_mut()
                    .find(|l| l.line_number == reception.line_number)
                {
                    line.received_quantity = Some(reception.received_quantity);
                    line.discrepancy = Some(reception.discrepancy);
                    line.reception_note.clone_from(&reception.note);
                }
            }
            po.has_discrepancy = plan.has_discrepancy();
            po.received_at = Some(now);
        }
        Transition::Close => po.closed_at = Some(now),
        Transition::Cancel { reason } => {
            po.cancellation_reason = Some(reason.clone());
            po.cancelled_at = Some(now);
        }
        Transition::Invoice { invoice_number } => {
            po.invoice_number.clone_from(invoice_number);
            po.invoiced_at = Some(now);
        }
        Transition::Archive { reason } => {
            po.archive_reason = Some(reason.clone());
            po.archived_at = Some(now);
        }
    }
}

/// The status-history row of an applied transition; its details are the step's own data
/// (for a reception, every line as counted).
pub fn history_row(
    cmd: &Envelope<TransitionPurchaseOrder>,
    purchase_order_id: uuid::Uuid,
    plan: &TransitionPlan,
    now: DateTime<Utc>,
) -> Result<NewStatusChange, HandlerError> {
    let details = match &plan.transition {
        Transition::Receive { .. } => serde_json::json!({ "lines": plan.receptions }),
        other => {
            let mut details = serde_json::to_value(other)?;
            if let Some(map) = details.as_object_mut() {
                map.remove("action");
                map.remove("reason");
            }
            details
        }
    };
    let details = details
        .as_object()
        .is_some_and(|m| !m.is_empty())
        .then_some(details);
    Ok(NewStatusChange {
        purchase_order_id,
        from_status: Some(plan.from.as_str().to_owned()),
        to_status: plan.to.as_str().to_owned(),
        actor_user_id: Some(cmd.actor.user_id),
        actor_role: Some(cmd.actor.role.as_str().to_owned()),
        actor_org_type: Some(cmd.actor.org_type.as_str().to_owned()),
        actor_org_id: cmd.actor.org_id,
        command_id: Some(cmd.id),
        reason: plan.reason().map(str::to_owned),
        details,
        changed_at: now,
    })
}
