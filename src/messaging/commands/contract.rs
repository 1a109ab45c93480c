//! `contract.change`: every change staff make to a master contract (create, edit, activate,
//! suspend, resume, terminate, renew); `contract.expire`: the system ends a contract whose
//! validity has passed.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::webhook_endpoint::present;
use crate::domain::contract_lifecycle::ContractAction;
use crate::domain::contract_terms::{ContractHeader, ContractLineTerms};
use crate::messaging::command::CommandSpec;

/// The header fields a PATCH changes; a present `null` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderPatch {
    /// New number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// New supplier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_id: Option<Uuid>,
    /// New first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    /// New last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    /// New currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// New minimum, or `null` for none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub minimum_order_value: Option<Option<Decimal>>,
    /// New fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_fee_percent: Option<Decimal>,
    /// New notes, or `null` for none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub notes: Option<Option<String>>,
}

impl HeaderPatch {
    /// `header` with this patch applied.
    pub fn applied_to(&self, header: &ContractHeader) -> ContractHeader {
        let mut out = header.clone();
        if let Some(v) = self.supplier_id {
            out.supplier_id = v;
        }
        if let Some(v) = self.valid_from {
            out.valid_from = v;
        }
        if let Some(v) = self.valid_until {
            out.valid_until = v;
        }
        if let Some(v) = &self.currency {
            out.currency.clone_from(v);
        }
        if let Some(v) = self.minimum_order_value {
            out.minimum_order_value = v;
        }
        if let Some(v) = self.platform_fee_percent {
            out.platform_fee_percent = v;
        }
        if let Some(v) = &self.notes {
            out.notes.clone_from(v);
        }
        out
    }
}

/// One change of a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ContractChange {
    /// A new DRAFT (its id is the command id); the number is generated when not given.
    Create {
        /// Chosen number.
        number: Option<String>,
        /// Header.
        header: ContractHeader,
        /// Lines.
        lines: Vec<ContractLineTerms>,
    },
    /// Edits the header of a DRAFT.
    Update {
        /// The fields that change.
        patch: HeaderPatch,
    },
    /// Replaces the lines of a DRAFT.
    ReplaceLines {
        /// The new lines.
        lines: Vec<ContractLineTerms>,
    },
    /// DRAFT → ACTIVE, unless it overlaps a contract in force.
    Activate,
    /// ACTIVE → SUSPENDED.
    Suspend {
        /// Why.
        reason: String,
    },
    /// SUSPENDED → ACTIVE.
    Resume,
    /// → TERMINATED.
    Terminate {
        /// Why.
        reason: String,
    },
    /// A new DRAFT (the command's aggregate, its id the command id) with the terms of
    /// `source_id` and these dates.
    Renew {
        /// The contract renewed.
        source_id: Uuid,
        /// First day of the new contract.
        valid_from: NaiveDate,
        /// Last day of the new contract.
        valid_until: NaiveDate,
    },
}

impl ContractChange {
    /// The action, as the lifecycle rules see it.
    pub fn action(&self) -> ContractAction {
        match self {
            ContractChange::Create { .. } => ContractAction::Create,
            ContractChange::Update { .. } | ContractChange::ReplaceLines { .. } => {
                ContractAction::Edit
            }
            ContractChange::Activate => ContractAction::Activate,
            ContractChange::Suspend { .. } => ContractAction::Suspend,
            ContractChange::Resume => ContractAction::Resume,
            ContractChange::Terminate { .. } => ContractAction::Terminate,
            ContractChange::Renew { .. } => ContractAction::Renew,
        }
    }

    /// Whether the change makes a new contract (whose id is the command id).
    pub fn creates(&self) -> bool {
        matches!(
            self,
            ContractChange::Create { .. } | ContractChange::Renew { .. }
        )
    }
}

/// Changes one master contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeContract {
    /// The contract changed (created, for a creation or a renewal).
    pub contract_id: Uuid,
    /// The version the client saw (`If-Match`).
    pub expected_version: Option<i32>,
    /// What to do.
    pub change: ContractChange,
}

impl CommandSpec for ChangeContract {
    const TYPE: &'static str = "contract.change";
    const VERSION: u32 = 1;
    const AGGREGATE: &'static str = "contract";

    fn aggregate_id(&self) -> Uuid {
        self.contract_id
    }

    /// A created contract's id is its command's id.
    fn belongs_to(&self, command_id: Uuid) -> bool {
        !self.change.creates() || command_id == self.contract_id
    }
}

/// Ends a contract in force whose last day is before `as_of` (issued by the expiry job).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpireContract {
    /// The contract.
    pub contract_id: Uuid,
    /// The business date the job ran on.
    pub as_of: NaiveDate,
}

impl ExpireContract {
    /// The one command id of a contract's expiry, whichever worker's job issues it.
    pub fn command_id_for(contract_id: Uuid) -> Uuid {
        Uuid::new_v5(&contract_id, b"command:contract.expire")
    }
}

impl CommandSpec for ExpireContract {
    const TYPE: &'static str = "contract.expire";
    const VERSION: u32 = 1;
    const AGGREGATE: &'static str = "contract";

    fn aggregate_id(&self) -> Uuid {
        self.contract_id
    }

    fn belongs_to(&self, command_id: Uuid) -> bool {
        command_id == Self::command_id_for(self.contract_id)
    }
}
