//! The write path's idempotency lookup ("was this command processed already?") by group
//! commit: concurrent requests share one query instead of one round trip each.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::PgPool;
use uuid::Uuid;

use super::commands::{self, StoredCommand};
use crate::group_commit::{Group, GroupClosed, GroupSettings};

/// Why a lookup failed: the group's query failed (shared by every request of the group), or
/// the lookup task is gone.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LookupError {
    /// The query failed.
    #[error("command lookup: {0}")]
    Database(Arc<sqlx::Error>),
    /// The process is shutting down.
    #[error(transparent)]
    Closed(#[from] GroupClosed),
}

type Found = Result<Option<StoredCommand>, LookupError>;

/// Looks processed commands up by id, a group at a time.
#[derive(Clone)]
pub struct CommandLookup {
    group: Group<Uuid, Found>,
}

impl CommandLookup {
    /// Starts the lookup task on `db`.
    pub fn spawn(db: PgPool, settings: GroupSettings) -> Self {
        let group = Group::spawn(settings, move |ids: Vec<Uuid>| {
            let db = db.clone();
            async move {
                match commands::find_many(&db, &ids).await {
                    Ok(found) => {
                        let by_id: HashMap<Uuid, StoredCommand> =
                            found.into_iter().map(|c| (c.id, c)).collect();
                        ids.iter().map(|id| Ok(by_id.get(id).cloned())).collect()
                    }
                    Err(error) => {
                        let error = Arc::new(error);
                        ids.iter()
                            .map(|_| Err(LookupError::Database(error.clone())))
                            .collect()
                    }
                }
            }
        });
        Self { group }
    }

    /// The processed command `id`, if it was processed.
    pub async fn find(&self, id: Uuid) -> Found {
        self.group.call(id).await?
    }
}
