//! What a command handler is: load what it needs, decide with the pure domain, write its
//! rows, and return per command the outcome, audit rows and events. The runner owns the rest.

use std::future::Future;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use bluewhale::domain::refusal::Refusal;
use bluewhale::messaging::Namespace;
use bluewhale::messaging::command::CommandSpec;
use bluewhale::messaging::envelope::Envelope;
use bluewhale::messaging::events::{AuditRecord, OutboxEvent};

/// A decoded command and the subject it came on.
#[derive(Debug, Clone)]
pub struct Incoming<C> {
    /// The command.
    pub envelope: Envelope<C>,
    /// Its subject.
    pub subject: String,
}

/// What a handler sees besides its commands.
#[derive(Debug, Clone)]
pub struct BatchContext {
    /// Subject namespace (for event subjects).
    pub ns: Namespace,
    /// The instant the batch is processed, the same for all its rows.
    pub now: DateTime<Utc>,
}

/// How one command ended, decided by its handler.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Its effects are written.
    Applied,
    /// The business rules refused it; the refusal is recorded, and acknowledged.
    Rejected(Refusal),
}

/// A handler's result for one command.
#[derive(Debug)]
pub struct Decision {
    /// Applied or refused.
    pub outcome: Outcome,
    /// Audit rows of its changes (written by the runner, same transaction).
    pub audit: Vec<AuditRecord>,
    /// Its domain events (written to the outbox by the runner, with the audit events).
    pub events: Vec<OutboxEvent>,
}

impl Decision {
    /// A refusal: nothing changed, nothing to publish.
    pub fn rejected(refusal: Refusal) -> Self {
        Self {
            outcome: Outcome::Rejected(refusal),
            audit: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// A handler of one command type.
pub trait Handler: Send + Sync + 'static {
    /// The command type it handles.
    type Command: CommandSpec;

    /// Applies `batch` inside `tx`: commands not processed before, each once, in delivery
    /// order. Returns one decision per command, in the same order. An error rolls the whole
    /// batch back (the runner then retries each command alone).
    fn handle<'a>(
        &'a self,
        ctx: &'a BatchContext,
        tx: &'a mut PgConnection,
        batch: &'a [Incoming<Self::Command>],
    ) -> impl Future<Output = Result<Vec<Decision>, HandlerError>> + Send + 'a;
}

/// Why a handler could not decide: the batch is rolled back and retried or dead-lettered.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The database failed (transient or not: the runner classifies it).
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Something that retrying cannot fix (a payload that cannot be serialised, a broken
    /// invariant in stored data).
    #[error("{0}")]
    Permanent(String),
}

impl From<serde_json::Error> for HandlerError {
    fn from(error: serde_json::Error) -> Self {
        HandlerError::Permanent(format!("serialisation: {error}"))
    }
}
