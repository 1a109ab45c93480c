//! Audit rows, written in the same transaction as the change they describe (DESIGN.md §5.5).

use sqlx::PgConnection;

use crate::messaging::Namespace;
pub use crate::messaging::events::{AuditRecord, ClientInfo};
use crate::messaging::events::{AuditRecorded, OutboxEvent};

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
    for r in records {
        ids.push(r.id);
        occurred.push(r.occurred_at);
        user_ids.push(r.actor.as_ref().map(|a| a.user_id));
        roles.push(r.actor.as_ref().map(|a| a.role.as_str().to_owned()));
        org_types.push(r.actor.as_ref().map(|a| a.org_type.as_str().to_owned()));
        org_ids.push(r.actor.as_ref().and_then(|a| a.org_id));
        actions.push(r.action.as_str());
        entity_types.push(r.entity_type.as_str());
        entity_ids.push(r.entity_id);
        changes.push(r.changes.clone());
        command_ids.push(r.command_id);
        request_ids.push(r.request_id.clone());
        reasons.push(r.reason.clone());
    }
    sqlx::query(
        "INSERT INTO audit_log (id, occurred_at, actor_user_id, actor_role, actor_org_type, \
         actor_org_id, action, entity_type, entity_id, changes, command_id, request_id, reason) \
         SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], \
         $6::uuid[], $7::text[], $8::text[], $9::uuid[], $10::jsonb[], $11::uuid[], $12::text[], \
         $13::text[])",
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
    .execute(&mut *conn)
    .await?;
    insert_clients(conn, records).await
}

/// Deletes the client details of security events older than `before` (retention); the audit
/// rows they belong to stay as they are.
pub async fn purge_clients(
    conn: &mut PgConnection,
    before: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM audit_clients WHERE occurred_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// The client rows of security events (few per statement: logins, refreshes, refusals).
async fn insert_clients(conn: &mut PgConnection, records: &[AuditRecord]) -> sqlx::Result<()> {
    for r in records {
        let Some(client) = &r.client else { continue };
        sqlx::query(
            "INSERT INTO audit_clients (audit_id, occurred_at, client_address, user_agent) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(r.id)
        .bind(r.occurred_at)
        .bind(&client.address)
        .bind(&client.user_agent)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Writes audit rows and, in the same transaction, the outbox row of the event that publishes
/// them. For transactions that publish nothing else (logins); the command runner adds the
/// [`audit_event`] of each command to its own outbox row.
pub async fn record(
    conn: &mut PgConnection,
    ns: &Namespace,
    records: &[AuditRecord],
) -> sqlx::Result<()> {
    insert_many(&mut *conn, records).await?;
    let event = audit_event(ns, records).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    super::outbox::insert(conn, event.as_slice()).await
}

/// The one event announcing the audit rows of a command (`None` when it wrote none): id and
/// subject are those of its first row, so a retried command publishes the same event.
pub fn audit_event(
    ns: &Namespace,
    records: &[AuditRecord],
) -> Result<Option<OutboxEvent>, serde_json::Error> {
    let Some(first) = records.first() else {
        return Ok(None);
    };
    let payload = AuditRecorded {
        records: records.to_vec(),
    };
    OutboxEvent::new(ns, first.id, first.occurred_at, first.command_id, &payload).map(Some)
}

/// The `changes` of the audit row a command wrote (its first, if several).
pub async fn changes_of_command(
    db: impl sqlx::PgExecutor<'_>,
    command_id: uuid::Uuid,
) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar(
        "SELECT changes FROM audit_log WHERE command_id = $1 ORDER BY occurred_at, id LIMIT 1",
    )
    .bind(command_id)
    .fetch_optional(db)
    .await
}
