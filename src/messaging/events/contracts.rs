//! Contract lifecycle events, routed by supplier: `contract.activated`, `contract.suspended`,
//! `contract.resumed`, `contract.terminated`, `contract.expired`. They carry the supplier's
//! view of the contract: its terms, never Blue Whale's fee or internal notes.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::EventSpec;
use crate::domain::contract_lifecycle::ContractStatus;
use crate::domain::contract_terms::ContractLineTerms;

/// What happened to the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractEventKind {
    /// It came into force.
    Activated,
    /// It was held.
    Suspended,
    /// It came back into force.
    Resumed,
    /// It was ended early.
    Terminated,
    /// Its validity ended.
    Expired,
}

impl ContractEventKind {
    /// Every kind.
    pub const ALL: [ContractEventKind; 5] = [
        ContractEventKind::Activated,
        ContractEventKind::Suspended,
        ContractEventKind::Resumed,
        ContractEventKind::Terminated,
        ContractEventKind::Expired,
    ];

    /// The event type.
    pub fn event_type(self) -> &'static str {
        match self {
            ContractEventKind::Activated => "contract.activated",
            ContractEventKind::Suspended => "contract.suspended",
            ContractEventKind::Resumed => "contract.resumed",
            ContractEventKind::Terminated => "contract.terminated",
            ContractEventKind::Expired => "contract.expired",
        }
    }

    /// The kind of an event type.
    pub fn of_type(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.event_type() == kind)
    }
}

/// A contract of a supplier changed status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractChanged {
    /// What happened.
    pub change: ContractEventKind,
    /// The contract.
    pub contract_id: Uuid,
    /// Its number.
    pub number: String,
    /// Its supplier.
    pub supplier_id: Uuid,
    /// Status before.
    pub from_status: ContractStatus,
    /// Status now.
    pub status: ContractStatus,
    /// First day of validity.
    pub valid_from: NaiveDate,
    /// Last day of validity.
    pub valid_until: NaiveDate,
    /// Currency.
    pub currency: String,
    /// Smallest purchase order, excluding VAT.
    pub minimum_order_value: Option<Decimal>,
    /// The terms per product.
    pub lines: Vec<ContractLineTerms>,
    /// Why (suspension, termination).
    pub reason: Option<String>,
    /// Version after the change.
    pub version: i32,
}

impl EventSpec for ContractChanged {
    const VERSION: u32 = 1;

    fn kind(&self) -> &'static str {
        self.change.event_type()
    }

    fn routing(&self) -> String {
        self.supplier_id.to_string()
    }
}
