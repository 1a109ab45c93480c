//! Audit rows, written in the same transaction as the change they describe (DESIGN.md §5.5).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::messaging::envelope::Actor;

/// One audit row about to be written.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// Row id, also the id of the audit event published for it.
    pub id: Uuid,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// Who made it; `None` for the system (migrations, seed).
    pub actor: Option<Actor>,
    /// CREATE, UPDATE, TRANSITION, … (`domain::audit::AuditAction`).
    pub action: &'static str,
    /// `master_order`, `purchase_order`, …
    pub entity_type: &'static str,
    /// The changed row.
    pub entity_id: Option<Uuid>,
    /// `{field: {old, new}}`, only fields that changed.
    pub changes: Value,
    /// Command that caused the change.
    pub command_id: Option<Uuid>,
    /// Request that carried the command.
    pub request_id: Option<String>,
    /// Free-text reason, where the action takes one.
    pub reason: Option<String>,
    /// Client address, for authentication events.
    pub client_address: Option<String>,
}

/// Inserts many audit rows in one statement (one round trip whatever their number).
pub async fn insert_many(conn: &mut PgConnection, records: &[AuditRecord]) -> sqlx::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(records.len());
    let mut occurred = Vec::with_capacity(records.len());
    let mut user_ids = Vec::with_capacity(records.len());
    let mut roles = Vec::with_capacity(records.len());
    let mut org_types = Vec::with_capacity(records.len());
    let mut org_ids = Vec::with_capacity(records.len());
    let mut actions = Vec::with_capacity(records.len());
    let mut entity_types = Vec::with_capacity(records.len());
    let mut entity_ids = Vec::with_capacity(records.len());
    let mut changes = Vec::with_capacity(records.len());
    let mut command_ids = Vec::with_capacity(records.len());
    let mut request_ids = Vec::with_capacity(records.len());
    let mut reasons = Vec::with_capacity(records.len());
    let mut addresses = Vec::with_capacity(records.len());
    for r in records {
        ids.push(r.id);
        occurred.push(r.occurred_at);
        user_ids.push(r.actor.as_ref().map(|a| a.user_id));
        roles.push(r.actor.as_ref().map(|a| a.role.as_str().to_owned()));
        org_types.push(r.actor.as_ref().map(|a| a.org_type.as_str().to_owned()));
        org_ids.push(r.actor.as_ref().and_then(|a| a.org_id));
        actions.push(r.action);
        entity_types.push(r.entity_type);
        entity_ids.push(r.entity_id);
        changes.push(r.changes.clone());
        command_ids.push(r.command_id);
        request_ids.push(r.request_id.clone());
        reasons.push(r.reason.clone());
        addresses.push(r.client_address.clone());
    }
    sqlx::query(
        "INSERT INTO audit_log (id, occurred_at, actor_user_id, actor_role, actor_org_type, \
         actor_org_id, action, entity_type, entity_id, changes, command_id, request_id, reason, \
         client_address) \
         SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], \
         $6::uuid[], $7::text[], $8::text[], $9::uuid[], $10::jsonb[], $11::uuid[], $12::text[], \
         $13::text[], $14::text[])",
    )
    .bind(ids)
    .bind(occurred)
    .bind(user_ids)
    .bind(roles)
    .bind(org_types)
    .bind(org_ids)
    .bind(actions)
    .bind(entity_types)
    .bind(entity_ids)
    .bind(changes)
    .bind(command_ids)
    .bind(request_ids)
    .bind(reasons)
    .bind(addresses)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes audit rows and, in the same transaction, the outbox row of the events that publish
/// them (`bw.evt.audit.<entity_type>`, event id = audit id). For transactions that publish
/// nothing else; others add [`audit_event`]s to their own outbox row.
pub async fn record(
    conn: &mut PgConnection,
    ns: &crate::messaging::Namespace,
    records: &[AuditRecord],
) -> sqlx::Result<()> {
    insert_many(&mut *conn, records).await?;
    let events: Vec<_> = records.iter().map(|r| audit_event(ns, r)).collect();
    super::outbox::insert(conn, &events).await
}

/// The event announcing an audit row.
pub fn audit_event(
    ns: &crate::messaging::Namespace,
    record: &AuditRecord,
) -> crate::messaging::events::OutboxEvent {
    crate::messaging::events::OutboxEvent {
        subject: ns.subject(&format!("bw.evt.audit.{}", record.entity_type)),
        event: crate::messaging::events::Event {
            id: record.id,
            kind: "audit.recorded".to_owned(),
            version: 1,
            occurred_at: record.occurred_at,
            command_id: record.command_id,
            data: serde_json::to_value(record).unwrap_or(Value::Null),
        },
    }
}
