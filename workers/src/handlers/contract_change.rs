//! `contract.change`: staff create, edit, activate, suspend, resume, terminate and renew master
//! contracts. Each command locks its contract row (a renewal also its source, an activation
//! also the supplier's row, so two racing activations see each other), asks the shared checks
//! for a refusal, and writes the contract, its audit row and, for a status change, the
//! supplier's event.

use chrono::Datelike;

use bluewhale::db::contract_checks::{self, Judged, renewed_header, sorted};
use bluewhale::db::contract_writes::{self, ContractRecord};
use bluewhale::domain::audit::AuditAction;
use bluewhale::domain::contract_lifecycle::{ContractRequester, ContractStatus};
use bluewhale::messaging::commands::ChangeContract;
use bluewhale::messaging::commands::contract::ContractChange;
use bluewhale::messaging::envelope::Envelope;
use bluewhale::messaging::events::ContractEventKind;

use super::contract_status::{record_change, record_creation, status_change};
use crate::handler::{BatchContext, Decision, EachHandler, HandlerError, Incoming};

/// Handles `contract.change`.
pub struct ContractChangeHandler;

impl EachHandler for ContractChangeHandler {
    type Command = ChangeContract;

    async fn apply(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        incoming: &Incoming<ChangeContract>,
    ) -> Result<Decision, HandlerError> {
        apply(ctx, tx, &incoming.envelope).await
    }
}

async fn apply(
    ctx: &BatchContext,
    tx: &mut sqlx::PgConnection,
    cmd: &Envelope<ChangeContract>,
) -> Result<Decision, HandlerError> {
    let data = &cmd.data;
    let stored = contract_writes::lock(&mut *tx, data.contract_id).await?;
    let source = match &data.change {
        ContractChange::Renew { source_id, .. } => {
            contract_writes::lock(&mut *tx, *source_id).await?
        }
        _ => None,
    };
    if let (ContractChange::Activate, Some(record)) = (&data.change, &stored) {
        contract_writes::lock_supplier(&mut *tx, record.header.supplier_id).await?;
    }
    let requester = ContractRequester {
        role: cmd.actor.role,
        expected_version: data.expected_version,
    };
    let judged = Judged {
        stored: stored.as_ref(),
        source: source.as_ref(),
    };
    if let Some(refusal) = contract_checks::refusal_of(&mut *tx, data, requester, judged).await? {
        return Ok(Decision::rejected(refusal));
    }
    match (&data.change, stored, source) {
        (
            ContractChange::Create {
                number,
                header,
                lines,
            },
            None,
            _,
        ) => {
            let number = match number {
                Some(number) => number.clone(),
                None => contract_writes::next_number(&mut *tx, header.valid_from.year()).await?,
            };
            let record = draft(data, number, header.clone(), sorted(lines), None);
            contract_writes::insert(&mut *tx, &record, ctx.now).await?;
            record_creation(ctx, cmd, &record, None)
        }
        (
            ContractChange::Renew {
                valid_from,
                valid_until,
                ..
            },
            None,
            Some(source),
        ) => {
            let header = renewed_header(&source, *valid_from, *valid_until);
            let number = contract_writes::next_number(&mut *tx, valid_from.year()).await?;
            let record = draft(data, number, header, source.lines.clone(), Some(source.id));
            contract_writes::insert(&mut *tx, &record, ctx.now).await?;
            let reason = format!("renewal of {}", source.number);
            record_creation(ctx, cmd, &record, Some(&reason))
        }
        (ContractChange::Update { patch }, Some(mut record), _) => {
            let before = record.clone();
            record.header = patch.applied_to(&record.header);
            if let Some(number) = &patch.number {
                record.number.clone_from(number);
            }
            record.version += 1;
            contract_writes::update(&mut *tx, &record, ctx.now).await?;
            record_change(ctx, cmd, &before, &record, AuditAction::Update, None)
        }
        (ContractChange::ReplaceLines { lines }, Some(mut record), _) => {
            let before = record.clone();
            record.lines = sorted(lines);
            record.version += 1;
            contract_writes::replace_lines(&mut *tx, record.id, &record.lines, ctx.now).await?;
            contract_writes::update(&mut *tx, &record, ctx.now).await?;
            record_change(ctx, cmd, &before, &record, AuditAction::Update, None)
        }
        (change, Some(record), _) => {
            let (kind, reason) = match change {
                ContractChange::Activate => (ContractEventKind::Activated, None),
                ContractChange::Suspend { reason } => (ContractEventKind::Suspended, Some(reason)),
                ContractChange::Resume => (ContractEventKind::Resumed, None),
                ContractChange::Terminate { reason } => {
                    (ContractEventKind::Terminated, Some(reason))
                }
                _ => return Err(impossible(data)),
            };
            status_change(ctx, tx, cmd, record, kind, reason.map(String::as_str)).await
        }
        _ => Err(impossible(data)),
    }
}

/// The checks refuse every other combination (a creation of an existing contract, a change
/// of a missing one).
fn impossible(data: &ChangeContract) -> HandlerError {
    HandlerError::Permanent(format!(
        "contract {}: {:?} passed the checks in an impossible state",
        data.contract_id,
        data.change.action()
    ))
}

fn draft(
    data: &ChangeContract,
    number: String,
    header: bluewhale::domain::contract_terms::ContractHeader,
    lines: Vec<bluewhale::domain::contract_terms::ContractLineTerms>,
    renewed_from: Option<uuid::Uuid>,
) -> ContractRecord {
    ContractRecord {
        id: data.contract_id,
        number,
        status: ContractStatus::Draft,
        header,
        lines,
        status_reason: None,
        renewed_from,
        version: 1,
        activated_at: None,
        suspended_at: None,
        terminated_at: None,
        expired_at: None,
    }
}
