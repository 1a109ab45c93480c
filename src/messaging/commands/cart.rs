//! `cart.change`: someone changes a station's open cart (its aggregate is the station's cart,
//! named by the station).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::cart::CartChange;
use crate::messaging::command::CommandSpec;

/// Changes the open cart of one station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeCart {
    /// The station whose cart it is.
    pub station_id: Uuid,
    /// The cart version the client saw (`If-Match`).
    pub expected_version: Option<i32>,
    /// What to do.
    pub change: CartChange,
}

impl CommandSpec for ChangeCart {
    const TYPE: &'static str = "cart.change";
    const VERSION: u32 = 1;
    const AGGREGATE: &'static str = "cart";

    fn aggregate_id(&self) -> Uuid {
        self.station_id
    }
}
