//! Command payloads (the `data` of an envelope), one module per command family.

pub mod cart;
pub mod contract;
pub mod dead_letter;
pub mod master_record;
pub mod order_submit;
pub mod purchase_order_transition;
pub mod webhook_endpoint;

pub use cart::ChangeCart;
pub use contract::{ChangeContract, ExpireContract};
pub use dead_letter::ResolveDeadLetter;
pub use master_record::{
    ChangeProduct, ChangeStation, ChangeStationGroup, ChangeSupplier, ChangeUser,
};
pub use order_submit::SubmitOrder;
pub use purchase_order_transition::TransitionPurchaseOrder;
pub use webhook_endpoint::ChangeWebhookEndpoint;

use crate::messaging::command::CommandSpec;

/// The aggregate type of a command type this build knows.
pub fn aggregate_of(kind: &str) -> Option<&'static str> {
    [
        (SubmitOrder::TYPE, SubmitOrder::AGGREGATE),
        (
            TransitionPurchaseOrder::TYPE,
            TransitionPurchaseOrder::AGGREGATE,
        ),
        (
            ChangeWebhookEndpoint::TYPE,
            ChangeWebhookEndpoint::AGGREGATE,
        ),
        (ResolveDeadLetter::TYPE, ResolveDeadLetter::AGGREGATE),
        (ChangeContract::TYPE, ChangeContract::AGGREGATE),
        (ExpireContract::TYPE, ExpireContract::AGGREGATE),
        (ChangeCart::TYPE, ChangeCart::AGGREGATE),
        (ChangeProduct::TYPE, ChangeProduct::AGGREGATE),
        (ChangeSupplier::TYPE, ChangeSupplier::AGGREGATE),
        (ChangeStationGroup::TYPE, ChangeStationGroup::AGGREGATE),
        (ChangeStation::TYPE, ChangeStation::AGGREGATE),
        (ChangeUser::TYPE, ChangeUser::AGGREGATE),
    ]
    .into_iter()
    .find_map(|(k, aggregate)| (k == kind).then_some(aggregate))
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
    }
}
