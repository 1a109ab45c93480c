//! Every refusal a master-data change can meet, decided once for both sides and every kind:
//! the ingress asks on the current data (and publishes nothing when refused), the worker asks
//! again under its row lock and writes only what passes.

use sqlx::PgConnection;

use super::master_records::{self, MasterTable, Stored};
use crate::domain::master_record::{RecordChange, check_change, patched};
use crate::domain::refusal::{FieldIssue, Refusal};
use crate::messaging::commands::master_record::ChangeRecord;
use crate::messaging::envelope::Actor;

/// The fields the record has once `command` applies to `stored`.
pub fn target_fields<K: MasterTable>(
    command: &ChangeRecord<K>,
    stored: Option<&Stored<K::Fields>>,
) -> Result<K::Fields, Refusal> {
    match (&command.change, stored) {
        (RecordChange::Create { fields }, _) => Ok(fields.clone()),
        (RecordChange::Update { patch }, Some(stored)) => patched(&stored.fields, patch),
        (RecordChange::Update { .. }, None) => Err(Refusal::new(
            crate::domain::refusal::RefusalCode::NotFound,
            "No such record.",
        )),
    }
}

/// Why `actor` may not apply `command` to `stored` (none: it does not exist), if they may
/// not: 403, 404, 409 (creation of an existing id), 412, what the kind refuses of this record
/// ([`MasterTable::change_refusal`]), then 422 per field, then 409 per taken unique value.
pub async fn refusal_of<K: MasterTable>(
    conn: &mut PgConnection,
    command: &ChangeRecord<K>,
    actor: &Actor,
    stored: Option<&Stored<K::Fields>>,
) -> sqlx::Result<Option<Refusal>> {
    if let Err(refusal) = check_change::<K>(
        actor.role,
        command.change.creates(),
        stored.map(|s| s.version),
        command.expected_version,
    ) {
        return Ok(Some(refusal));
    }
    let fields = match target_fields(command, stored) {
        Ok(fields) => fields,
        Err(refusal) => return Ok(Some(refusal)),
    };
    if let Some(stored) = stored {
        let pair = (&stored.fields, &fields);
        if let Some(refusal) = K::change_refusal(conn, actor.user_id, stored.id, pair).await? {
            return Ok(Some(refusal));
        }
    }
    let mut issues = K::issues(&fields);
    issues.extend(K::reference_issues(conn, &fields).await?);
    if !issues.is_empty() {
        return Ok(Some(Refusal::invalid(issues)));
    }
    for key in K::unique_keys(&fields) {
        if master_records::taken::<K>(conn, &key, command.id).await? {
            let mut refusal = Refusal::new(
                key.taken,
                format!(
                    "Another {} has this {}: {}.",
                    K::ENTITY.replace('_', " "),
                    key.field,
                    key.value
                ),
            );
            refusal.errors.push(FieldIssue::new(
                key.field,
                "TAKEN",
                format!(
                    "another {} has this {}",
                    K::ENTITY.replace('_', " "),
                    key.field
                ),
            ));
            return Ok(Some(refusal));
        }
    }
    Ok(None)
}
