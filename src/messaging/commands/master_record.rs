//! `product.change`, `supplier.change`, `station_group.change`, `station.change`,
//! `user.change`: one payload shape for every kind of master data, a creation or a patch of
//! one record (see `domain::master_record`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::master_record::{MasterKind, RecordChange};
use crate::domain::product_terms::Product;
use crate::domain::station_terms::{Station, StationGroup};
use crate::domain::supplier_terms::Supplier;
use crate::domain::user_terms::User;
use crate::messaging::command::CommandSpec;

/// A master-data kind with its command type.
pub trait RecordCommand: MasterKind {
    /// `<entity>.change`.
    const TYPE: &'static str;
}

impl RecordCommand for Product {
    const TYPE: &'static str = "product.change";
}
impl RecordCommand for Supplier {
    const TYPE: &'static str = "supplier.change";
}
impl RecordCommand for StationGroup {
    const TYPE: &'static str = "station_group.change";
}
impl RecordCommand for Station {
    const TYPE: &'static str = "station.change";
}
impl RecordCommand for User {
    const TYPE: &'static str = "user.change";
}

/// Creates or patches one record of kind `K`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct ChangeRecord<K: MasterKind> {
    /// The record (created: the command's id).
    pub id: Uuid,
    /// The version the client saw (`If-Match`).
    pub expected_version: Option<i32>,
    /// What to do.
    pub change: RecordChange<K::Fields>,
    /// What the kind carries besides (a user's one-time password token hash).
    #[serde(default)]
    pub extra: K::Extra,
}

impl<K: RecordCommand> CommandSpec for ChangeRecord<K> {
    const TYPE: &'static str = K::TYPE;
    const VERSION: u32 = 1;
    const AGGREGATE: &'static str = K::ENTITY;

    fn aggregate_id(&self) -> Uuid {
        self.id
    }

    /// A created record's id is its command's id.
    fn belongs_to(&self, command_id: Uuid) -> bool {
        !self.change.creates() || command_id == self.id
    }
}

/// `product.change`.
pub type ChangeProduct = ChangeRecord<Product>;
/// `supplier.change`.
pub type ChangeSupplier = ChangeRecord<Supplier>;
/// `station_group.change`.
pub type ChangeStationGroup = ChangeRecord<StationGroup>;
/// `station.change`.
pub type ChangeStation = ChangeRecord<Station>;
/// `user.change`.
pub type ChangeUser = ChangeRecord<User>;
