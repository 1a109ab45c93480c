//! `dead_letter.resolve`: replays or discards one dead letter under its row lock, so racing
//! operators resolve it once. A replay writes the original command to the outbox: the relay
//! publishes it after this transaction commits, under a message id of its own (the original
//! id may still be in the stream's duplicate window), and the command path's processed-command
//! record keeps a command that was processed meanwhile from applying twice.

use serde_json::value::RawValue;
use serde_json::{Map, json};

use bluewhale::db::dead_letters::{self, ResolutionRecord};
use bluewhale::db::outbox;
use bluewhale::domain::audit::AuditAction;
use bluewhale::domain::dead_letter_resolution::{Resolution, check_resolution};
use bluewhale::messaging::commands::ResolveDeadLetter;

use crate::handler::{
    BatchContext, Decision, EachHandler, HandlerError, Incoming, Outcome, audit_of, derived_id,
};

/// Handles `dead_letter.resolve`.
pub struct DeadLetterResolutionHandler;

impl EachHandler for DeadLetterResolutionHandler {
    type Command = ResolveDeadLetter;

    async fn apply(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        incoming: &Incoming<ResolveDeadLetter>,
    ) -> Result<Decision, HandlerError> {
        apply(ctx, tx, incoming).await
    }
}

async fn apply(
    ctx: &BatchContext,
    tx: &mut sqlx::PgConnection,
    incoming: &Incoming<ResolveDeadLetter>,
) -> Result<Decision, HandlerError> {
    let cmd = &incoming.envelope;
    let data = &cmd.data;
    let stored = dead_letters::lock(&mut *tx, data.dead_letter_id).await?;
    let facts = stored
        .as_ref()
        .map(|row| row.facts(ctx.ns.is_command_subject(&row.subject)));
    let status = match check_resolution(facts, cmd.actor.role, &data.resolution) {
        Ok(status) => status,
        Err(refusal) => return Ok(Decision::rejected(refusal)),
    };
    let Some(row) = stored else {
        return Err(HandlerError::Permanent(
            "a resolution passed the rules without a dead letter".to_owned(),
        ));
    };
    let mut record = ResolutionRecord {
        id: row.id,
        status,
        at: ctx.now,
        by: (!cmd.actor.is_system()).then_some(cmd.actor.user_id),
        reason: None,
        replay_message_id: None,
    };
    match &data.resolution {
        Resolution::Replay => {
            let message_id = derived_id(cmd.id, "replay");
            let payload = std::str::from_utf8(&row.payload)
                .ok()
                .and_then(|text| RawValue::from_string(text.to_owned()).ok())
                .ok_or_else(|| {
                    HandlerError::Permanent("a replayable payload is not JSON".to_owned())
                })?;
            // The replay is part of the operator's request (its trace and request id).
            let correlation = incoming.correlation();
            outbox::insert_command(&mut *tx, &row.subject, message_id, &payload, &correlation)
                .await?;
            record.replay_message_id = Some(message_id);
        }
        Resolution::Discard { reason } => record.reason = Some(reason.clone()),
    }
    dead_letters::resolve(&mut *tx, &record).await?;
    let mut changes = Map::new();
    changes.insert(
        "status".into(),
        json!({"old": row.status, "new": status.as_str()}),
    );
    if let Some(message_id) = record.replay_message_id {
        changes.insert(
            "replay_message_id".into(),
            json!({"old": null, "new": message_id}),
        );
    }
    let audit = audit_of(
        cmd,
        ctx,
        AuditAction::Transition,
        ("dead_letter", row.id),
        changes,
        record.reason.as_deref(),
    );
    Ok(Decision {
        outcome: Outcome::Applied,
        audit: vec![audit],
        events: Vec::new(),
    })
}
