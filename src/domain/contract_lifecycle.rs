//! Who may do what to a master contract in which status (DESIGN §5.2): DRAFT → ACTIVE ⇄
//! SUSPENDED, ACTIVE or SUSPENDED → EXPIRED (the system, once the validity has ended), DRAFT,
//! ACTIVE or SUSPENDED → TERMINATED. One pure decision used by the ingress against the read
//! model and by the worker under the row lock.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::refusal::{Refusal, RefusalCode};
use super::roles::Role;

/// Where a contract stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContractStatus {
    /// Being written: editable, prices nothing.
    Draft,
    /// In force: prices orders on the days of its validity.
    Active,
    /// Held: prices nothing until resumed.
    Suspended,
    /// Its validity ended.
    Expired,
    /// Ended early.
    Terminated,
}

impl ContractStatus {
    /// Every status.
    pub const ALL: [ContractStatus; 5] = [
        ContractStatus::Draft,
        ContractStatus::Active,
        ContractStatus::Suspended,
        ContractStatus::Expired,
        ContractStatus::Terminated,
    ];

    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::Draft => "DRAFT",
            ContractStatus::Active => "ACTIVE",
            ContractStatus::Suspended => "SUSPENDED",
            ContractStatus::Expired => "EXPIRED",
            ContractStatus::Terminated => "TERMINATED",
        }
    }
}

impl fmt::Display for ContractStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ContractStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContractStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown contract status {s:?}"))
    }
}

/// What someone asks of a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractAction {
    /// A new DRAFT.
    Create,
    /// Header or lines of a DRAFT.
    Edit,
    /// DRAFT → ACTIVE.
    Activate,
    /// ACTIVE → SUSPENDED.
    Suspend,
    /// SUSPENDED → ACTIVE.
    Resume,
    /// DRAFT, ACTIVE or SUSPENDED → TERMINATED.
    Terminate,
    /// A new DRAFT with this contract's terms and other dates.
    Renew,
    /// ACTIVE or SUSPENDED → EXPIRED, by the system.
    Expire,
}

impl ContractAction {
    /// The verb, as in URLs and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractAction::Create => "create",
            ContractAction::Edit => "edit",
            ContractAction::Activate => "activate",
            ContractAction::Suspend => "suspend",
            ContractAction::Resume => "resume",
            ContractAction::Terminate => "terminate",
            ContractAction::Renew => "renew",
            ContractAction::Expire => "expire",
        }
    }

    /// The roles that may ask for it (the system acts as ADMIN).
    fn allowed(self, role: Role) -> bool {
        match self {
            ContractAction::Activate | ContractAction::Terminate | ContractAction::Expire => {
                role == Role::Admin
            }
            _ => matches!(role, Role::Admin | Role::Manager),
        }
    }

    /// The status it leads from `from` to, if it may start there. Creating and renewing make
    /// a new DRAFT and leave the source as it is.
    pub fn target(self, from: ContractStatus) -> Option<ContractStatus> {
        use ContractStatus as S;
        match (self, from) {
            (ContractAction::Edit, S::Draft) => Some(S::Draft),
            (ContractAction::Activate, S::Draft) => Some(S::Active),
            (ContractAction::Suspend, S::Active) => Some(S::Suspended),
            (ContractAction::Resume, S::Suspended) => Some(S::Active),
            (ContractAction::Terminate, S::Draft | S::Active | S::Suspended) => Some(S::Terminated),
            (ContractAction::Expire, S::Active | S::Suspended) => Some(S::Expired),
            (ContractAction::Renew, s) if s != S::Draft => Some(s),
            _ => None,
        }
    }
}

/// Who asks, and which version of the contract they saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractRequester {
    /// Their role (ADMIN for the system).
    pub role: Role,
    /// `If-Match`, if sent.
    pub expected_version: Option<i32>,
}

/// The contract as the rule sees it: its status and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractState {
    /// Current status.
    pub status: ContractStatus,
    /// Current version.
    pub version: i32,
}

/// Checks `action` on a contract (`None`: it does not exist) in the order the refusals rank:
/// the role (403), existence (404), the version (412), the status (409). Returns the status it
/// leads to (a creation: DRAFT).
pub fn check_action(
    state: Option<ContractState>,
    action: ContractAction,
    requester: ContractRequester,
) -> Result<ContractStatus, Refusal> {
    if !action.allowed(requester.role) {
        return Err(Refusal::new(
            RefusalCode::Forbidden,
            format!(
                "A {} may not {} contracts.",
                requester.role.as_str(),
                action.as_str()
            ),
        ));
    }
    if action == ContractAction::Create {
        return match state {
            None => Ok(ContractStatus::Draft),
            Some(_) => Err(Refusal::new(
                RefusalCode::InvalidTransition,
                "This contract exists already.",
            )),
        };
    }
    let state = state.ok_or_else(|| Refusal::new(RefusalCode::NotFound, "No such contract."))?;
    if let Some(expected) = requester.expected_version
        && expected != state.version
    {
        return Err(Refusal::new(
            RefusalCode::PreconditionFailed,
            format!(
                "The contract is at version {}, not {expected}.",
                state.version
            ),
        ));
    }
    action.target(state.status).ok_or_else(|| {
        if action == ContractAction::Edit {
            Refusal::new(
                RefusalCode::ContractNotEditable,
                format!(
                    "Only a DRAFT contract can be edited; this one is {}.",
                    state.status
                ),
            )
        } else {
            Refusal::new(
                RefusalCode::InvalidTransition,
                format!("A {} contract cannot {}.", state.status, action.as_str()),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContractAction as A;
    use ContractStatus as S;

    fn admin() -> ContractRequester {
        ContractRequester {
            role: Role::Admin,
            expected_version: None,
        }
    }

    fn at(status: ContractStatus) -> Option<ContractState> {
        Some(ContractState { status, version: 3 })
    }

    #[test]
    fn transition_table() {
        let cases = [
            (A::Edit, S::Draft, Some(S::Draft)),
            (A::Edit, S::Active, None),
            (A::Activate, S::Draft, Some(S::Active)),
            (A::Activate, S::Suspended, None),
            (A::Suspend, S::Active, Some(S::Suspended)),
            (A::Suspend, S::Draft, None),
            (A::Resume, S::Suspended, Some(S::Active)),
            (A::Resume, S::Active, None),
            (A::Resume, S::Expired, None),
            (A::Terminate, S::Draft, Some(S::Terminated)),
            (A::Terminate, S::Active, Some(S::Terminated)),
            (A::Terminate, S::Suspended, Some(S::Terminated)),
            (A::Terminate, S::Expired, None),
            (A::Terminate, S::Terminated, None),
            (A::Expire, S::Active, Some(S::Expired)),
            (A::Expire, S::Suspended, Some(S::Expired)),
            (A::Expire, S::Expired, None),
            (A::Expire, S::Draft, None),
            (A::Renew, S::Active, Some(S::Active)),
            (A::Renew, S::Expired, Some(S::Expired)),
            (A::Renew, S::Draft, None),
        ];
        for (action, from, to) in cases {
            assert_eq!(action.target(from), to, "{action:?} from {from}");
            let checked = check_action(at(from), action, admin());
            assert_eq!(checked.as_ref().ok(), to.as_ref(), "{action:?} from {from}");
        }
    }

    #[test]
    fn refusals_rank_role_then_existence_then_version_then_status() {
        let manager = ContractRequester {
            role: Role::Manager,
            expected_version: Some(1),
        };
        let code = |r: Result<ContractStatus, Refusal>| r.expect_err("refused").code;
        // A manager may not activate, whatever else is wrong.
        assert_eq!(
            code(check_action(None, A::Activate, manager)),
            RefusalCode::Forbidden
        );
        assert_eq!(
            code(check_action(None, A::Suspend, manager)),
            RefusalCode::NotFound
        );
        assert_eq!(
            code(check_action(at(S::Active), A::Suspend, manager)),
            RefusalCode::PreconditionFailed
        );
        let current = ContractRequester {
            expected_version: Some(3),
            ..manager
        };
        assert_eq!(
            code(check_action(at(S::Draft), A::Suspend, current)),
            RefusalCode::InvalidTransition
        );
        assert_eq!(
            code(check_action(at(S::Active), A::Edit, current)),
            RefusalCode::ContractNotEditable
        );
        assert_eq!(
            check_action(at(S::Active), A::Suspend, current),
            Ok(S::Suspended)
        );
    }

    #[test]
    fn roles_table() {
        for role in [Role::Handler, Role::Station, Role::Supplier] {
            for action in [A::Create, A::Edit, A::Suspend, A::Renew, A::Activate] {
                let requester = ContractRequester {
                    role,
                    expected_version: None,
                };
                assert_eq!(
                    check_action(at(S::Draft), action, requester)
                        .expect_err("refused")
                        .code,
                    RefusalCode::Forbidden,
                    "{role:?} {action:?}"
                );
            }
        }
        let manager = ContractRequester {
            role: Role::Manager,
            expected_version: None,
        };
        assert_eq!(check_action(None, A::Create, manager), Ok(S::Draft));
        assert_eq!(
            check_action(at(S::Active), A::Terminate, manager)
                .expect_err("admin only")
                .code,
            RefusalCode::Forbidden
        );
    }

    #[test]
    fn statuses_round_trip() {
        for status in ContractStatus::ALL {
            assert_eq!(status.as_str().parse::<ContractStatus>(), Ok(status));
        }
        assert!("LIVE".parse::<ContractStatus>().is_err());
    }
}
