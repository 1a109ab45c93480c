//! Command payloads (the `data` of an envelope), one module per command family.

pub mod cart;
pub mod contract;
pub mod dead_letter;
pub mod master_record;
pub mod order_submit;
pub mod purchase_order_transition;
pub mod sales_order;
pub mod webhook_endpoint;

pub use cart::ChangeCart;
pub use contract::{ChangeContract, ExpireContract};
pub use dead_letter::ResolveDeadLetter;
pub use master_record::{
    ChangeProduct, ChangeStation, ChangeStationGroup, ChangeSupplier, ChangeUser,
};
pub use order_submit::SubmitOrder;
pub use purchase_order_transition::TransitionPurchaseOrder;
pub use sales_order::InvoiceSalesOrder;
pub use webhook_endpoint::ChangeWebhookEndpoint;

use uuid::Uuid;

use crate::messaging::command::CommandSpec;

/// What this build knows of a command type without decoding its payload.
#[derive(Debug, Clone, Copy)]
pub struct KnownCommand {
    /// The type, e.g. `order.submit`.
    pub kind: &'static str,
    /// The aggregate type it changes.
    pub aggregate: &'static str,
    /// [`CommandSpec::pending_aggregate_id`] of the type.
    pub pending_aggregate_id: fn(Uuid, Uuid) -> Uuid,
}

fn known<C: CommandSpec>() -> KnownCommand {
    KnownCommand {
        kind: C::TYPE,
        aggregate: C::AGGREGATE,
        pending_aggregate_id: C::pending_aggregate_id,
    }
}

/// A command type this build knows.
pub fn known_command(kind: &str) -> Option<KnownCommand> {
    [
        known::<SubmitOrder>(),
        known::<TransitionPurchaseOrder>(),
        known::<ChangeWebhookEndpoint>(),
        known::<ResolveDeadLetter>(),
        known::<ChangeContract>(),
        known::<ExpireContract>(),
        known::<ChangeCart>(),
        known::<InvoiceSalesOrder>(),
        known::<ChangeProduct>(),
        known::<ChangeSupplier>(),
        known::<ChangeStationGroup>(),
        known::<ChangeStation>(),
        known::<ChangeUser>(),
    ]
    .into_iter()
    .find(|known| known.kind == kind)
}

/// The aggregate type of a command type this build knows.
pub fn aggregate_of(kind: &str) -> Option<&'static str> {
    known_command(kind).map(|known| known.aggregate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_two_subject_tokens() {
        for kind in [
            SubmitOrder::TYPE,
            TransitionPurchaseOrder::TYPE,
            ChangeWebhookEndpoint::TYPE,
            ResolveDeadLetter::TYPE,
            ChangeContract::TYPE,
            ExpireContract::TYPE,
            ChangeCart::TYPE,
            InvoiceSalesOrder::TYPE,
            ChangeProduct::TYPE,
            ChangeSupplier::TYPE,
            ChangeStationGroup::TYPE,
            ChangeStation::TYPE,
            ChangeUser::TYPE,
        ] {
            assert_eq!(kind.split('.').count(), 2, "{kind}");
            assert!(aggregate_of(kind).is_some());
        }
        assert_eq!(aggregate_of("order.teleport"), None);
        // A waiting order is found by its command id, a cart change by its station.
        let (subject_id, command_id) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let order = known_command(SubmitOrder::TYPE).unwrap();
        assert_eq!(
            (order.pending_aggregate_id)(subject_id, command_id),
            command_id
        );
        let cart = known_command(ChangeCart::TYPE).unwrap();
        assert_eq!(
            (cart.pending_aggregate_id)(subject_id, command_id),
            subject_id
        );
    }
}
