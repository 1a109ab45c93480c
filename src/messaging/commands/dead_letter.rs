//! `dead_letter.resolve`: an operator replays or discards one dead letter.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::dead_letter_resolution::Resolution;
use crate::messaging::command::CommandSpec;

/// Replays or discards one dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveDeadLetter {
    /// The dead letter.
    pub dead_letter_id: Uuid,
    /// What to do with it.
    pub resolution: Resolution,
}

impl CommandSpec for ResolveDeadLetter {
    const TYPE: &'static str = "dead_letter.resolve";
    const VERSION: u32 = 1;
    const AGGREGATE: &'static str = "dead_letter";

    fn aggregate_id(&self) -> Uuid {
        self.dead_letter_id
    }
}
