//! What every contract change writes besides the row: its audit record and, when the status
//! moved, the `contract.<change>` event for the supplier. Shared by `contract.change` and
//! `contract.expire`.

use bluewhale::db::contract_writes::{self, ContractRecord};
use bluewhale::domain::audit::{AuditAction, changes};
use bluewhale::domain::contract_lifecycle::ContractStatus;
use bluewhale::messaging::envelope::Envelope;
use bluewhale::messaging::events::{ContractChanged, ContractEventKind, OutboxEvent};

use crate::handler::{BatchContext, Decision, HandlerError, Outcome, audit_of, derived_id};

/// The status a change of this kind leads to.
fn target(kind: ContractEventKind) -> ContractStatus {
    match kind {
        ContractEventKind::Activated | ContractEventKind::Resumed => ContractStatus::Active,
        ContractEventKind::Suspended => ContractStatus::Suspended,
        ContractEventKind::Terminated => ContractStatus::Terminated,
        ContractEventKind::Expired => ContractStatus::Expired,
    }
}

/// Moves `record` to the status of `kind` (the rules allowed it), writes it, and returns the
/// audit row and the supplier's event.
pub async fn status_change<C>(
    ctx: &BatchContext,
    tx: &mut sqlx::PgConnection,
    cmd: &Envelope<C>,
    mut record: ContractRecord,
    kind: ContractEventKind,
    reason: Option<&str>,
) -> Result<Decision, HandlerError> {
    let before = record.clone();
    record.status = target(kind);
    record.version += 1;
    match kind {
        ContractEventKind::Activated => record.activated_at = Some(ctx.now),
        ContractEventKind::Suspended => record.suspended_at = Some(ctx.now),
        ContractEventKind::Terminated => record.terminated_at = Some(ctx.now),
        ContractEventKind::Expired => record.expired_at = Some(ctx.now),
        ContractEventKind::Resumed => {}
    }
    if reason.is_some() {
        record.status_reason = reason.map(str::to_owned);
    }
    contract_writes::update(&mut *tx, &record, ctx.now).await?;
    let mut decision = record_change(ctx, cmd, &before, &record, AuditAction::Transition, reason)?;
    decision.events.push(OutboxEvent::new(
        &ctx.ns,
        derived_id(cmd.id, &format!("event:contract:{}", record.id)),
        ctx.now,
        Some(cmd.id),
        &ContractChanged {
            change: kind,
            contract_id: record.id,
            number: record.number.clone(),
            supplier_id: record.header.supplier_id,
            from_status: before.status,
            status: record.status,
            valid_from: record.header.valid_from,
            valid_until: record.header.valid_until,
            currency: record.header.currency.clone(),
            minimum_order_value: record.header.minimum_order_value,
            lines: record.lines.clone(),
            reason: reason.map(str::to_owned),
            version: record.version,
        },
    )?);
    Ok(decision)
}

/// The audit row of a change from `before` to `after` (only the fields that changed).
pub fn record_change<C>(
    ctx: &BatchContext,
    cmd: &Envelope<C>,
    before: &ContractRecord,
    after: &ContractRecord,
    action: AuditAction,
    reason: Option<&str>,
) -> Result<Decision, HandlerError> {
    let diff = changes(
        Some(&serde_json::to_value(before)?),
        Some(&serde_json::to_value(after)?),
    );
    Ok(applied(audit_of(
        cmd,
        ctx,
        action,
        ("contract", after.id),
        diff,
        reason,
    )))
}

/// The audit row of a new contract.
pub fn record_creation<C>(
    ctx: &BatchContext,
    cmd: &Envelope<C>,
    record: &ContractRecord,
    reason: Option<&str>,
) -> Result<Decision, HandlerError> {
    let diff = changes(None, Some(&serde_json::to_value(record)?));
    Ok(applied(audit_of(
        cmd,
        ctx,
        AuditAction::Create,
        ("contract", record.id),
        diff,
        reason,
    )))
}

fn applied(audit: bluewhale::messaging::events::AuditRecord) -> Decision {
    Decision {
        outcome: Outcome::Applied,
        audit: vec![audit],
        events: Vec::new(),
    }
}
