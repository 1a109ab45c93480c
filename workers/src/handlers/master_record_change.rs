//! `product.change`, `supplier.change`, `station_group.change`, `station.change`,
//! `user.change`: one handler for every kind of master data. Each command locks its record,
//! asks the shared checks for a refusal, writes the row (and what the kind stores beside it)
//! at the next version, and returns the audit row of the fields that changed; the runner
//! publishes it as the `audit.<entity>` event.

use std::marker::PhantomData;

use bluewhale::db::master_record_checks::{refusal_of, target_fields};
use bluewhale::db::master_records::{self, MasterTable, RelatedWrite, Stored};
use bluewhale::db::personal_data_keys;
use bluewhale::domain::audit::{AuditAction, changes};
use bluewhale::messaging::commands::master_record::{ChangeRecord, RecordCommand};
use bluewhale::security::personal_data::seal_fields;

use crate::handler::{
    BatchContext, Decision, EachHandler, HandlerError, Incoming, Outcome, audit_of,
};

/// Handles `<entity>.change` for the kind `K`.
pub struct RecordChangeHandler<K>(PhantomData<K>);

impl<K> RecordChangeHandler<K> {
    /// The handler of kind `K`.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<K> Default for RecordChangeHandler<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: MasterTable + RecordCommand> EachHandler for RecordChangeHandler<K> {
    type Command = ChangeRecord<K>;

    async fn apply(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        incoming: &Incoming<ChangeRecord<K>>,
    ) -> Result<Decision, HandlerError> {
        let cmd = &incoming.envelope;
        let data = &cmd.data;
        let stored = master_records::load::<K>(&mut *tx, data.id, true).await?;
        if let Some(refusal) = refusal_of(&mut *tx, data, &cmd.actor, stored.as_ref()).await? {
            return Ok(Decision::rejected(refusal));
        }
        let fields = target_fields(data, stored.as_ref()).map_err(|refusal| {
            HandlerError::Permanent(format!(
                "{} {}: {refusal} after the checks",
                K::ENTITY,
                data.id
            ))
        })?;
        let after = Stored {
            id: data.id,
            version: stored.as_ref().map_or(1, |s| s.version + 1),
            fields,
        };
        match &stored {
            None => master_records::insert::<K>(&mut *tx, data.id, &after.fields, ctx.now).await?,
            Some(_) => master_records::update::<K>(&mut *tx, &after, ctx.now).await?,
        }
        let before = stored.as_ref().map(|s| &s.fields);
        let write = RelatedWrite::<K> {
            id: data.id,
            before,
            after: &after.fields,
            extra: &data.extra,
            command_id: cmd.id,
            now: ctx.now,
        };
        let related = K::write_related(&mut *tx, write).await?;
        let mut diff = changes(
            before.map(serde_json::to_value).transpose()?.as_ref(),
            Some(&serde_json::to_value(&after.fields)?),
        );
        if !K::PERSONAL.is_empty() {
            let key = personal_data_keys::get_or_create(&mut *tx, data.id).await?;
            seal_fields(&mut diff, K::PERSONAL, &key, data.id);
        }
        let action = match (&stored, related.action) {
            (None, _) => AuditAction::Create,
            (Some(_), Some(specific)) => specific,
            (Some(_), None) => AuditAction::Update,
        };
        let audit = audit_of(
            cmd,
            ctx,
            action,
            (K::ENTITY, data.id),
            diff,
            related.reason.as_deref(),
        );
        Ok(Decision {
            outcome: Outcome::Applied,
            audit: vec![audit],
            events: Vec::new(),
        })
    }
}
