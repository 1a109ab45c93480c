//! `webhook_endpoint.change`: registers, edits, rotates, disables and deletes a supplier's
//! endpoints, and applies the delivery repairs its owners ask for. Each command locks its
//! endpoint row, so racing changes are serialised and a stale `If-Match` is refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, json};

use bluewhale::db::webhook_endpoints::EndpointRow;
use bluewhale::db::{notification_messages, webhook_endpoints};
use bluewhale::domain::audit::{AuditAction, changes};
use bluewhale::domain::refusal::{Refusal, RefusalCode};
use bluewhale::domain::webhook_endpoint_changes::{EndpointRequester, check_change};
use bluewhale::messaging::commands::ChangeWebhookEndpoint;
use bluewhale::messaging::commands::webhook_endpoint::{EndpointChange, SealedSecret};
use bluewhale::messaging::envelope::Envelope;
use bluewhale::messaging::events::{OutboxEvent, WebhookEndpointDisabled, WebhookTest};

use crate::handler::{
    BatchContext, Decision, EachHandler, HandlerError, Incoming, Outcome, audit_of, derived_id,
};

/// Handles `webhook_endpoint.change`.
pub struct WebhookEndpointHandler;

impl EachHandler for WebhookEndpointHandler {
    type Command = ChangeWebhookEndpoint;

    async fn apply(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        incoming: &Incoming<ChangeWebhookEndpoint>,
    ) -> Result<Decision, HandlerError> {
        apply(ctx, tx, &incoming.envelope).await
    }
}

async fn apply(
    ctx: &BatchContext,
    tx: &mut sqlx::PgConnection,
    cmd: &Envelope<ChangeWebhookEndpoint>,
) -> Result<Decision, HandlerError> {
    let data = &cmd.data;
    let stored = webhook_endpoints::lock(&mut *tx, data.endpoint_id).await?;
    let requester = EndpointRequester {
        role: cmd.actor.role,
        org_id: cmd.actor.org_id,
        expected_version: data.expected_version,
    };
    let state = stored.as_ref().map(EndpointRow::state);
    if let Err(refusal) = check_change(
        state.as_ref(),
        data.supplier_id,
        data.change.rule(),
        requester,
    ) {
        return Ok(Decision::rejected(refusal));
    }
    let entity = ("webhook_endpoint", data.endpoint_id);
    let applied = |audit, events| Decision {
        outcome: Outcome::Applied,
        audit: vec![audit],
        events,
    };
    let Some(mut row) = stored else {
        // Only a creation passes the rules without a stored endpoint.
        let EndpointChange::Create {
            url,
            description,
            event_types,
            secret,
        } = &data.change
        else {
            return Ok(Decision::rejected(Refusal::new(
                RefusalCode::NotFound,
                "No such webhook endpoint.",
            )));
        };
        let row = EndpointRow {
            id: data.endpoint_id,
            supplier_id: data.supplier_id,
            url: url.clone(),
            description: description.clone(),
            event_types: event_types.clone(),
            enabled: true,
            disabled_reason: None,
            secret: unseal_b64(secret)?,
            previous_secret: None,
            previous_secret_expires_at: None,
            failing_since: None,
            version: 1,
            deleted_at: None,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        webhook_endpoints::insert(&mut *tx, &row).await?;
        let after = serde_json::to_value(row.view())?;
        let audit = audit_of(
            cmd,
            ctx,
            AuditAction::Create,
            entity,
            changes(None, Some(&after)),
            None,
        );
        return Ok(applied(audit, Vec::new()));
    };

    let before = serde_json::to_value(row.view())?;
    let mut events = Vec::new();
    let (action, reason, extra) = match &data.change {
        EndpointChange::Create { .. } => {
            return Err(HandlerError::Permanent(
                "a creation passed the rules for an existing endpoint".to_owned(),
            ));
        }
        EndpointChange::Update {
            url,
            description,
            event_types,
            enabled,
        } => {
            if let Some(url) = url {
                row.url.clone_from(url);
            }
            if let Some(description) = description {
                row.description.clone_from(description);
            }
            if let Some(event_types) = event_types {
                row.event_types.clone_from(event_types);
            }
            if let Some(enabled) = *enabled
                && enabled != row.enabled
            {
                row.enabled = enabled;
                row.disabled_reason = (!enabled).then(|| "disabled by its owner".to_owned());
                row.failing_since = None;
            }
            (AuditAction::Update, None, Map::new())
        }
        EndpointChange::Delete => {
            row.deleted_at = Some(ctx.now);
            row.enabled = false;
            (AuditAction::Delete, None, Map::new())
        }
        EndpointChange::RotateSecret {
            secret,
            previous_expires_at,
        } => {
            row.previous_secret = Some(std::mem::replace(&mut row.secret, unseal_b64(secret)?));
            row.previous_secret_expires_at = Some(*previous_expires_at);
            // The secrets themselves never reach the audit trail: only that they changed.
            let mut marker = Map::new();
            marker.insert(
                "secret".into(),
                json!({"old": bluewhale::domain::audit::REDACTED, "new": bluewhale::domain::audit::REDACTED}),
            );
            (AuditAction::Update, Some("signing secret rotated"), marker)
        }
        EndpointChange::Disable { reason } => {
            row.enabled = false;
            row.disabled_reason = Some(reason.clone());
            events.push(OutboxEvent::new(
                &ctx.ns,
                derived_id(cmd.id, "event:webhook_endpoint.disabled"),
                ctx.now,
                Some(cmd.id),
                &WebhookEndpointDisabled {
                    endpoint_id: row.id,
                    supplier_id: row.supplier_id,
                    url: row.url.clone(),
                    reason: reason.clone(),
                },
            )?);
            (AuditAction::Update, Some(reason.as_str()), Map::new())
        }
        EndpointChange::Test => {
            events.push(OutboxEvent::new(
                &ctx.ns,
                WebhookTest::event_id_for(cmd.id),
                ctx.now,
                Some(cmd.id),
                &WebhookTest {
                    endpoint_id: row.id,
                    supplier_id: row.supplier_id,
                    message: "A test event from Blue Whale: your endpoint receives our webhooks."
                        .to_owned(),
                },
            )?);
            let audit = audit_of(
                cmd,
                ctx,
                AuditAction::Deliver,
                entity,
                Map::new(),
                Some("test event"),
            );
            return Ok(applied(audit, events));
        }
        EndpointChange::Resend { event_id } => {
            if !notification_messages::resend(&mut *tx, row.id, *event_id, ctx.now).await? {
                return Ok(Decision::rejected(Refusal::new(
                    RefusalCode::NotFound,
                    "This endpoint has no message of that event.",
                )));
            }
            let reason = format!("resend of event {event_id}");
            let audit = audit_of(
                cmd,
                ctx,
                AuditAction::Deliver,
                entity,
                Map::new(),
                Some(&reason),
            );
            return Ok(applied(audit, events));
        }
        EndpointChange::Recover { since } => {
            let count = notification_messages::recover(&mut *tx, row.id, *since, ctx.now).await?;
            let mut recovered = Map::new();
            recovered.insert(
                "recovered_messages".into(),
                json!({"old": null, "new": count}),
            );
            let reason = format!("recover of the failed messages since {since}");
            let audit = audit_of(
                cmd,
                ctx,
                AuditAction::Deliver,
                entity,
                recovered,
                Some(&reason),
            );
            return Ok(applied(audit, events));
        }
    };
    row.version += 1;
    row.updated_at = ctx.now;
    webhook_endpoints::update(&mut *tx, &row).await?;
    let after = serde_json::to_value(row.view())?;
    let mut diff = changes(Some(&before), Some(&after));
    diff.extend(extra);
    let audit = audit_of(cmd, ctx, action, entity, diff, reason);
    Ok(applied(audit, events))
}

fn unseal_b64(secret: &SealedSecret) -> Result<Vec<u8>, HandlerError> {
    STANDARD
        .decode(&secret.0)
        .map_err(|e| HandlerError::Permanent(format!("sealed secret is not base64: {e}")))
}
