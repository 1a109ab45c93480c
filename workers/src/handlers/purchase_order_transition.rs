//! `purchase_order.transition`: one lifecycle step of a purchase order, with its status
//! history, audit rows, the master order's derived status, and events.
//!
//! Every transition locks the master order first, then its purchase orders: transitions of
//! one master order are serialised, so sibling statuses read under the lock are current and
//! the derived master status is never computed from a stale sibling.

use std::collections::HashMap;

use uuid::Uuid;

use bluewhale::db::purchase_order_lifecycle::{self as lifecycle, LockedMasterOrder};
use bluewhale::db::purchase_orders::{self, PurchaseOrderView};
use bluewhale::domain::audit::{AuditAction, changes};
use bluewhale::domain::master_order_status::derive_master_status;
use bluewhale::domain::purchase_order_lifecycle::{TransitionRequester, plan_transition};
use bluewhale::domain::refusal::{Refusal, RefusalCode};
use bluewhale::messaging::commands::TransitionPurchaseOrder;
use bluewhale::messaging::events::{OrderStatusChanged, OutboxEvent, PurchaseOrderChanged};

use crate::handler::{
    BatchContext, Decision, Handler, HandlerError, Incoming, Outcome, audit_of,
    derived_id as derived,
};

mod apply;

/// Handles `purchase_order.transition`.
pub struct TransitionHandler;

impl Handler for TransitionHandler {
    type Command = TransitionPurchaseOrder;

    async fn handle(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        batch: &[Incoming<TransitionPurchaseOrder>],
    ) -> Result<Vec<Decision>, HandlerError> {
        let ids: Vec<Uuid> = batch
            .iter()
            .map(|c| c.envelope.data.purchase_order_id)
            .collect();
        let mut masters: HashMap<Uuid, LockedMasterOrder> =
            lifecycle::lock_master_orders(&mut *tx, &ids)
                .await?
                .into_iter()
                .map(|m| (m.id, m))
                .collect();
        let mut orders: HashMap<Uuid, PurchaseOrderView> =
            purchase_orders::lock_for_update(&mut *tx, &ids)
                .await?
                .into_iter()
                .map(|po| (po.id, po))
                .collect();
        let mut writes = lifecycle::TransitionWrites::default();
        let mut decisions = Vec::with_capacity(batch.len());
        for incoming in batch {
            let decision = match orders.get_mut(&incoming.envelope.data.purchase_order_id) {
                None => Decision::rejected(Refusal::new(
                    RefusalCode::NotFound,
                    "No such purchase order.",
                )),
                Some(po) => {
                    let master = masters.get_mut(&po.master_order_id).ok_or_else(|| {
                        HandlerError::Permanent(format!(
                            "purchase order {} has no master order",
                            po.id
                        ))
                    })?;
                    decide(ctx, incoming, po, master, &mut writes)?
                }
            };
            decisions.push(decision);
        }
        writes.purchase_orders = orders
            .into_values()
            .filter(|po| writes.changed.contains(&po.id))
            .collect();
        writes.master_orders = masters
            .into_values()
            .filter(|m| m.version != m.loaded_version)
            .collect();
        lifecycle::write(&mut *tx, &writes).await?;
        Ok(decisions)
    }
}

/// Decides one command against the purchase order as the batch has left it so far, and
/// applies it in memory.
fn decide(
    ctx: &BatchContext,
    incoming: &Incoming<TransitionPurchaseOrder>,
    po: &mut PurchaseOrderView,
    master: &mut LockedMasterOrder,
    writes: &mut lifecycle::TransitionWrites,
) -> Result<Decision, HandlerError> {
    let cmd = &incoming.envelope;
    let requester = TransitionRequester {
        role: cmd.actor.role,
        org_id: cmd.actor.org_id,
        expected_version: cmd.data.expected_version,
    };
    let state = po
        .lifecycle_state()
        .map_err(|e| HandlerError::Permanent(format!("purchase order {}: {e}", po.id)))?;
    let plan = match plan_transition(&state, cmd.data.transition.clone(), requester) {
        Ok(plan) => plan,
        Err(refusal) => return Ok(Decision::rejected(refusal)),
    };
    let before = serde_json::to_value(&*po)?;
    apply::apply(po, &plan, ctx.now);
    let after = serde_json::to_value(&*po)?;
    writes.changed.insert(po.id);
    writes
        .history
        .push(apply::history_row(cmd, po.id, &plan, ctx.now)?);
    writes
        .receptions
        .extend(plan.receptions.iter().map(|r| (po.id, r.clone())));

    let mut audit = vec![audit_of(
        cmd,
        ctx,
        AuditAction::Transition,
        ("purchase_order", po.id),
        changes(Some(&before), Some(&after)),
        plan.reason(),
    )];
    let mut events = vec![OutboxEvent::new(
        &ctx.ns,
        derived(cmd.id, &format!("event:purchase_order:{}", po.id)),
        ctx.now,
        Some(cmd.id),
        &PurchaseOrderChanged {
            from_status: plan.from,
            purchase_order: po.clone(),
        },
    )?];
    master.statuses.insert(po.id, plan.to);
    let derived_status =
        derive_master_status(&master.statuses.values().copied().collect::<Vec<_>>()).as_str();
    if derived_status != master.status {
        let from_status = std::mem::replace(&mut master.status, derived_status);
        master.version += 1;
        let mut diff = serde_json::Map::new();
        diff.insert(
            "status".into(),
            serde_json::json!({"old": from_status, "new": master.status}),
        );
        audit.push(audit_of(
            cmd,
            ctx,
            AuditAction::Transition,
            ("master_order", master.id),
            diff,
            None,
        ));
        events.push(OutboxEvent::new(
            &ctx.ns,
            derived(cmd.id, &format!("event:master_order:{}", master.id)),
            ctx.now,
            Some(cmd.id),
            &OrderStatusChanged {
                order_id: master.id,
                reference: master.reference.clone(),
                station_id: master.station_id,
                from_status,
                to_status: master.status.clone(),
                version: master.version,
            },
        )?);
    }
    Ok(Decision {
        outcome: Outcome::Applied,
        audit,
        events,
    })
}
