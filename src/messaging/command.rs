//! What every command type declares once, shared by the ingress (which builds and publishes
//! it) and the worker (which decodes and dispatches it).

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A command payload type: its name, schema version and the aggregate it changes.
pub trait CommandSpec:
    Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static
{
    /// Type name, `<aggregate>.<verb>` (exactly one dot: it is two subject tokens).
    const TYPE: &'static str;
    /// Version of the payload schema.
    const VERSION: u32;
    /// Type of the aggregate the command changes, as the API names resources.
    const AGGREGATE: &'static str;

    /// Id of the aggregate the command changes.
    fn aggregate_id(&self) -> Uuid;

    /// The id its subject names (`bw.cmd.<type>.<id>.<command id>`): the aggregate's, unless
    /// the command must be found by another id while it waits (a checkout, by its cart).
    fn subject_id(&self) -> Uuid {
        self.aggregate_id()
    }

    /// The aggregate a command still waiting in the stream changes, from the ids its subject
    /// names: the subject's own, unless the subject names something else (a checkout's names
    /// its cart, while the order's id is the command's).
    fn pending_aggregate_id(subject_id: Uuid, command_id: Uuid) -> Uuid {
        let _ = command_id;
        subject_id
    }

    /// Whether this payload may travel under `command_id` (a forged or corrupted message is
    /// dead-lettered as inconsistent otherwise).
    fn belongs_to(&self, command_id: Uuid) -> bool {
        let _ = command_id;
        true
    }
}

/// The aggregate a command changes: `{type, id}` in the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ResourceRef {
    /// Aggregate type, e.g. `purchase_order`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: Uuid,
}

impl ResourceRef {
    /// The aggregate of a command.
    pub fn of<C: CommandSpec>(command: &C) -> Self {
        Self {
            kind: C::AGGREGATE.to_owned(),
            id: command.aggregate_id(),
        }
    }
}

/// The command id of a (user, idempotency key): deterministic, so a replay finds the same
/// command without the ingress storing anything. Orders use it as their id too.
pub fn command_id_for(user_id: Uuid, idempotency_key: &str) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_0c5e_8a4d_4f3e_9b2a_5d7c_1e0f_4a21);
    Uuid::new_v5(
        &NAMESPACE,
        format!("{user_id}:{idempotency_key}").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_are_per_user_and_key() {
        let user = Uuid::from_u128(1);
        assert_eq!(command_id_for(user, "k"), command_id_for(user, "k"));
        assert_ne!(command_id_for(user, "k"), command_id_for(user, "l"));
        assert_ne!(
            command_id_for(user, "k"),
            command_id_for(Uuid::from_u128(2), "k")
        );
    }
}
