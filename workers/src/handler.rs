//! What a command handler is: load what it needs, decide with the pure domain, write its
//! rows, and return per command the outcome, audit rows and events. The runner owns the rest.

use std::future::Future;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use tracing::Span;
use uuid::Uuid;

use bluewhale::domain::audit::AuditAction;
use bluewhale::domain::refusal::Refusal;
use bluewhale::messaging::Namespace;
use bluewhale::messaging::command::CommandSpec;
use bluewhale::messaging::correlation::Correlation;
use bluewhale::messaging::envelope::Envelope;
use bluewhale::messaging::events::{AuditRecord, OutboxEvent};
use bluewhale::telemetry::{self, TraceParent};

/// A decoded command, the subject it came on, and its place in its trace.
#[derive(Debug, Clone)]
pub struct Incoming<C> {
    /// The command.
    pub envelope: Envelope<C>,
    /// Its subject.
    pub subject: String,
    /// The span of its processing (its log lines carry the trace and request ids) and the trace
    /// context its events carry on.
    pub trace: CommandTrace,
}

/// Where a command's processing sits in the trace of the request that issued it.
#[derive(Debug, Clone)]
pub struct CommandTrace {
    /// The command's span.
    pub span: Span,
    /// The context messages sent on its behalf carry.
    pub context: TraceParent,
}

impl CommandTrace {
    /// The span of a command received with `correlation`, in the trace it came with.
    pub fn adopt(
        command_id: Uuid,
        kind: &str,
        request_id: Option<&str>,
        correlation: &Correlation,
    ) -> Self {
        let span = tracing::info_span!(
            "command",
            %command_id,
            kind,
            request_id = request_id.or(correlation.request_id.as_deref()),
            trace_id = tracing::field::Empty,
        );
        let context = telemetry::adopt(&span, correlation.traceparent);
        Self { span, context }
    }
}

impl<C> Incoming<C> {
    /// The trace and request that messages sent on this command's behalf carry.
    pub fn correlation(&self) -> Correlation {
        Correlation {
            traceparent: Some(self.trace.context),
            request_id: self.envelope.request_id.clone(),
        }
    }
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

/// A handler that decides each command alone, in delivery order, under its own row locks:
/// for commands that each change one aggregate at low rates (contracts, endpoints, dead
/// letters). [`OneByOne`] makes it a [`Handler`].
pub trait EachHandler: Send + Sync + 'static {
    /// The command type it handles.
    type Command: CommandSpec;

    /// Decides and applies one command inside `tx`.
    fn apply<'a>(
        &'a self,
        ctx: &'a BatchContext,
        tx: &'a mut PgConnection,
        incoming: &'a Incoming<Self::Command>,
    ) -> impl Future<Output = Result<Decision, HandlerError>> + Send + 'a;
}

/// Runs an [`EachHandler`] over a batch, one command after the other in one transaction.
pub struct OneByOne<H>(pub H);

impl<H: EachHandler> Handler for OneByOne<H> {
    type Command = H::Command;

    async fn handle(
        &self,
        ctx: &BatchContext,
        tx: &mut PgConnection,
        batch: &[Incoming<Self::Command>],
    ) -> Result<Vec<Decision>, HandlerError> {
        let mut decisions = Vec::with_capacity(batch.len());
        for incoming in batch {
            decisions.push(self.0.apply(ctx, tx, incoming).await?);
        }
        Ok(decisions)
    }
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

/// A stable id derived from a parent id (usually the command's) and a name: a retried command
/// writes the same ids, so its rows and events are never duplicated.
pub fn derived_id(parent: Uuid, name: &str) -> Uuid {
    Uuid::new_v5(&parent, name.as_bytes())
}

/// An audit row of a command's change to one entity; the system actor is recorded as none.
pub fn audit_of<C>(
    cmd: &Envelope<C>,
    ctx: &BatchContext,
    action: AuditAction,
    (entity_type, entity_id): (&str, Uuid),
    changes: serde_json::Map<String, serde_json::Value>,
    reason: Option<&str>,
) -> AuditRecord {
    AuditRecord {
        id: derived_id(cmd.id, &format!("audit:{entity_type}:{entity_id}")),
        occurred_at: ctx.now,
        actor: (!cmd.actor.is_system()).then_some(cmd.actor),
        action,
        entity_type: entity_type.to_owned(),
        entity_id: Some(entity_id),
        changes: serde_json::Value::Object(changes),
        command_id: Some(cmd.id),
        request_id: cmd.request_id.clone(),
        reason: reason.map(str::to_owned),
        client: None,
    }
}
