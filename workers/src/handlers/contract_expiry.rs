//! `contract.expire`: the system ends a contract in force whose last day has passed. Issued by
//! the expiry job under one command id per contract, so however many workers run the job, a
//! contract expires once.

use bluewhale::db::contract_writes::{self, ContractRecord};
use bluewhale::domain::contract_lifecycle::{ContractAction, ContractRequester, check_action};
use bluewhale::domain::refusal::{Refusal, RefusalCode};
use bluewhale::domain::roles::Role;
use bluewhale::messaging::commands::ExpireContract;
use bluewhale::messaging::events::ContractEventKind;

use super::contract_status::status_change;
use crate::handler::{BatchContext, Decision, EachHandler, HandlerError, Incoming};

/// Handles `contract.expire`.
pub struct ContractExpiryHandler;

impl EachHandler for ContractExpiryHandler {
    type Command = ExpireContract;

    async fn apply(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        incoming: &Incoming<ExpireContract>,
    ) -> Result<Decision, HandlerError> {
        let cmd = &incoming.envelope;
        let stored = contract_writes::lock(&mut *tx, cmd.data.contract_id).await?;
        if !cmd.actor.is_system() {
            return Ok(Decision::rejected(Refusal::new(
                RefusalCode::Forbidden,
                "Contracts expire by themselves.",
            )));
        }
        let requester = ContractRequester {
            role: Role::Admin,
            expected_version: None,
        };
        let checked = check_action(
            stored.as_ref().map(ContractRecord::state),
            ContractAction::Expire,
            requester,
        );
        match (checked, stored) {
            (Err(refusal), _) => Ok(Decision::rejected(refusal)),
            (Ok(_), Some(record)) if record.header.valid_until >= cmd.data.as_of => {
                Ok(Decision::rejected(Refusal::new(
                    RefusalCode::InvalidTransition,
                    format!(
                        "Contract {} is valid until {}, not ended on {}.",
                        record.number, record.header.valid_until, cmd.data.as_of
                    ),
                )))
            }
            (Ok(_), Some(record)) => {
                let kind = ContractEventKind::Expired;
                status_change(ctx, tx, cmd, record, kind, Some("validity ended")).await
            }
            (Ok(_), None) => Err(HandlerError::Permanent(
                "an expiry passed the rules for a missing contract".to_owned(),
            )),
        }
    }
}
