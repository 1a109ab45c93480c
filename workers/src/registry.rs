//! The registry of command handlers, keyed by command type and version, and the dispatch of a
//! pulled batch: every message goes to its handler's group, each group is one runner batch.

use async_nats::jetstream::Message;
use futures::future::BoxFuture;

use bluewhale::messaging::command::CommandSpec;
use bluewhale::messaging::correlation::Correlation;
use tracing::Instrument as _;

use crate::context::WorkerContext;
use crate::decode::{Head, decode_head, decode_typed, unknown_type};
use crate::disposition::Disposition;
use crate::handler::{CommandTrace, Handler, OneByOne};
use crate::handlers;
use crate::handlers::master_record_change::RecordChangeHandler;
use crate::runner;
use crate::settle::settle;
use bluewhale::domain::product_terms::Product;
use bluewhale::domain::station_terms::{Station, StationGroup};
use bluewhale::domain::supplier_terms::Supplier;
use bluewhale::domain::user_terms::User;

/// A handler with its decoding, behind one object-safe face.
trait Route: Send + Sync {
    fn run<'a>(
        &'a self,
        ctx: &'a WorkerContext,
        messages: Vec<(Head, Message)>,
    ) -> BoxFuture<'a, ()>;
}

struct Typed<H>(H);

impl<H: Handler> Route for Typed<H> {
    fn run<'a>(
        &'a self,
        ctx: &'a WorkerContext,
        messages: Vec<(Head, Message)>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut batch = Vec::with_capacity(messages.len());
            let mut settled = Vec::with_capacity(messages.len());
            for (head, message) in messages {
                let correlation = Correlation::from_headers(message.headers.as_ref());
                match decode_typed::<H::Command>(&ctx.ns, &message.subject, &correlation, head) {
                    Ok(incoming) => {
                        batch.push(incoming);
                        settled.push(message);
                    }
                    Err(undecodable) => dead_letter(ctx, &message, undecodable).await,
                }
            }
            if !batch.is_empty() {
                runner::run(ctx, &self.0, batch, settled).await;
            }
        })
    }
}

/// Dead-letters a message no handler can take, in the trace it came with.
async fn dead_letter(
    ctx: &WorkerContext,
    message: &Message,
    undecodable: crate::decode::Undecodable,
) {
    let correlation = Correlation::from_headers(message.headers.as_ref());
    let trace = CommandTrace::adopt(
        undecodable.command_id.unwrap_or_default(),
        undecodable.reason.as_str(),
        None,
        &correlation,
    );
    let disposition = Disposition::DeadLetter {
        reason: undecodable.reason,
        error: undecodable.error,
    };
    settle(ctx, message, undecodable.command_id, disposition)
        .instrument(trace.span)
        .await;
}

/// A command type and version.
type CommandKey = (&'static str, u32);

/// The messages of one command type in a pulled batch, and their handler.
type Group<'a> = (CommandKey, &'a dyn Route, Vec<(Head, Message)>);

/// Every handler the worker runs (a handful: a list is the fastest lookup).
pub struct Registry {
    routes: Vec<(CommandKey, Box<dyn Route>)>,
}

impl Registry {
    /// No handlers.
    pub fn empty() -> Self {
        Self { routes: Vec::new() }
    }

    /// The handlers of every command type the system has.
    pub fn standard() -> Self {
        Self::empty()
            .with(handlers::submit_order::SubmitOrderHandler)
            .with(handlers::purchase_order_transition::TransitionHandler)
            .with(OneByOne(handlers::webhook_endpoint::WebhookEndpointHandler))
            .with(OneByOne(
                handlers::dead_letter_resolution::DeadLetterResolutionHandler,
            ))
            .with(OneByOne(handlers::contract_change::ContractChangeHandler))
            .with(OneByOne(handlers::contract_expiry::ContractExpiryHandler))
            .with(OneByOne(handlers::cart_change::CartChangeHandler))
            .with(OneByOne(
                handlers::sales_order_invoice::SalesOrderInvoiceHandler,
            ))
            .with(OneByOne(RecordChangeHandler::<Product>::new()))
            .with(OneByOne(RecordChangeHandler::<Supplier>::new()))
            .with(OneByOne(RecordChangeHandler::<StationGroup>::new()))
            .with(OneByOne(RecordChangeHandler::<Station>::new()))
            .with(OneByOne(RecordChangeHandler::<User>::new()))
    }

    /// Adds a handler. Two handlers for one type and version are a programming error.
    pub fn with<H: Handler>(mut self, handler: H) -> Self {
        let key = (H::Command::TYPE, H::Command::VERSION);
        assert!(
            self.route(key.0, key.1).is_none(),
            "two handlers for {key:?}"
        );
        self.routes.push((key, Box::new(Typed(handler))));
        self
    }

    /// The command types handled, `(type, version)`.
    pub fn kinds(&self) -> Vec<CommandKey> {
        let mut kinds: Vec<_> = self.routes.iter().map(|(key, _)| *key).collect();
        kinds.sort_unstable();
        kinds
    }

    fn route(&self, kind: &str, version: u32) -> Option<(CommandKey, &dyn Route)> {
        self.routes
            .iter()
            .find(|((k, v), _)| *k == kind && *v == version)
            .map(|(key, route)| (*key, route.as_ref()))
    }

    /// Decodes a pulled batch, dead-letters what no handler takes, and runs each command type's
    /// group as one runner batch, the groups concurrently.
    pub async fn dispatch(&self, ctx: &WorkerContext, messages: Vec<Message>) {
        let mut groups: Vec<Group<'_>> = Vec::new();
        for message in messages {
            let head = match decode_head(&message.payload) {
                Ok(head) => head,
                Err(undecodable) => {
                    dead_letter(ctx, &message, undecodable).await;
                    continue;
                }
            };
            let Some((key, route)) = self.route(&head.kind, head.version) else {
                let undecodable = unknown_type(&head);
                dead_letter(ctx, &message, undecodable).await;
                continue;
            };
            match groups.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, items)) => items.push((head, message)),
                None => groups.push((key, route, vec![(head, message)])),
            }
        }
        futures::future::join_all(
            groups
                .into_iter()
                .map(|(_, route, items)| route.run(ctx, items)),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_registry_handles_every_command_type_once() {
        assert_eq!(
            Registry::standard().kinds(),
            [
                ("cart.change", 1),
                ("contract.change", 1),
                ("contract.expire", 1),
                ("dead_letter.resolve", 1),
                ("order.submit", 2),
                ("product.change", 1),
                ("purchase_order.transition", 1),
                ("sales_order.invoice", 1),
                ("station.change", 1),
                ("station_group.change", 1),
                ("supplier.change", 1),
                ("user.change", 1),
                ("webhook_endpoint.change", 1)
            ]
        );
    }

    #[test]
    #[should_panic(expected = "two handlers")]
    fn a_type_registered_twice_is_refused() {
        let _ = Registry::standard().with(handlers::submit_order::SubmitOrderHandler);
    }
}
