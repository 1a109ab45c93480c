//! `contract.expire`: the system ends a contract in force whose last day has passed. Issued by
//! the expiry job under one command id per contract, so however many workers run the job, a
//! contract expires once.

use bluewhale::db::contract_writes;
use bluewhale::domain::contract_lifecycle::{ContractRequester, check_action};
use bluewhale::domain::refusal::{Refusal, RefusalCode};
use bluewhale::domain::roles::Role;
use bluewhale::messaging::commands::ExpireContract;
use bluewhale::messaging::events::ContractEventKind;

use super::contract_status::status_change;
use crate::handler::{BatchContext, Decision, Handler, HandlerError, Incoming};

/// Handles `contract.expire`.
pub struct ContractExpiryHandler;

impl Handler for ContractExpiryHandler {
    type Command = ExpireContract;

    async fn handle(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        batch: &[Incoming<ExpireContract>],
    ) -> Result<Vec<Decision>, HandlerError> {
        let mut decisions = Vec::with_capacity(batch.len());
        for incoming in batch {
            let cmd = &incoming.envelope;
            let stored = contract_writes::lock(&mut *tx, cmd.data.contract_id).await?;
            if !cmd.actor.is_system() {
                decisions.push(Decision::rejected(Refusal::new(
                    RefusalCode::Forbidden,
                    "Contracts expire by themselves.",
                )));
                continue;
            }
            let requester = ContractRequester {
                role: Role::Admin,
                expected_version: None,
            };
            let kind = ContractEventKind::Expired;
            let decision = match (
                check_action(
                    stored.as_ref().map(|r| r.state()),
                    bluewhale::domain::contract_lifecycle::ContractAction::Expire,
                    requester,
                ),
                stored,
            ) {
                (Err(refusal), _) => Decision::rejected(refusal),
                (Ok(_), Some(record)) if record.header.valid_until >= cmd.data.as_of => {
                    Decision::rejected(Refusal::new(
                        RefusalCode::InvalidTransition,
                        format!(
                            "Contract {} is valid until {}, not ended on {}.",
                            record.number, record.header.valid_until, cmd.data.as_of
                        ),
                    ))
                }
                (Ok(_), Some(record)) => {
                    status_change(ctx, tx, cmd, record, kind, Some("validity ended")).await?
                }
                (Ok(_), None) => {
                    return Err(HandlerError::Permanent(
                        "an expiry passed the rules for a missing contract".to_owned(),
                    ));
                }
            };
            decisions.push(decision);
        }
        Ok(decisions)
    }
}
