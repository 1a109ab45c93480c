//! Who may repair dead letters and how: an OPEN dead letter is replayed (its command published
//! again) or discarded, once; a resolved one stays as it is. Pure rules shared by the ingress
//! (early answer) and the worker (under the row lock).

use serde::{Deserialize, Serialize};

use super::refusal::{Refusal, RefusalCode};
use super::roles::Role;

/// Where a dead letter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeadLetterStatus {
    /// Waiting for an operator.
    Open,
    /// Its command was published again.
    Replayed,
    /// An operator decided it is never to be processed.
    Discarded,
}

impl DeadLetterStatus {
    /// Every status, in the order of the lifecycle.
    pub const ALL: [DeadLetterStatus; 3] = [Self::Open, Self::Replayed, Self::Discarded];

    /// Database and JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Replayed => "REPLAYED",
            Self::Discarded => "DISCARDED",
        }
    }

    /// Parses the database spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// What an operator does with a dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Resolution {
    /// Publish the original command again.
    Replay,
    /// Close it without processing.
    Discard {
        /// Why (kept on the row and in the audit trail).
        reason: String,
    },
}

impl Resolution {
    /// The status it leads to.
    pub fn target(&self) -> DeadLetterStatus {
        match self {
            Resolution::Replay => DeadLetterStatus::Replayed,
            Resolution::Discard { .. } => DeadLetterStatus::Discarded,
        }
    }
}

/// Whether a role operates the pipeline (ADMIN and HANDLER).
pub fn may_operate(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Handler)
}

/// The refusal of a role that never operates the pipeline.
pub fn authorise(role: Role) -> Result<(), Refusal> {
    if may_operate(role) {
        Ok(())
    } else {
        Err(Refusal::new(
            RefusalCode::Forbidden,
            "Only ADMIN and HANDLER users operate the pipeline.",
        ))
    }
}

/// What is known of the dead letter a resolution targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadLetterFacts {
    /// Its status.
    pub status: DeadLetterStatus,
    /// Whether its payload can be published as a command again (JSON, on a command subject).
    pub replayable: bool,
}

/// Checks a resolution against the dead letter (`None`: there is none) and the operator's role.
pub fn check_resolution(
    facts: Option<DeadLetterFacts>,
    role: Role,
    resolution: &Resolution,
) -> Result<DeadLetterStatus, Refusal> {
    authorise(role)?;
    let facts = facts.ok_or_else(|| Refusal::new(RefusalCode::NotFound, "No such dead letter."))?;
    if facts.status != DeadLetterStatus::Open {
        return Err(Refusal::new(
            RefusalCode::DeadLetterNotOpen,
            format!(
                "The dead letter is {} already; only OPEN dead letters are replayed or discarded.",
                facts.status.as_str()
            ),
        ));
    }
    if *resolution == Resolution::Replay && !facts.replayable {
        return Err(Refusal::new(
            RefusalCode::DeadLetterNotReplayable,
            "The dead letter's payload is not a command that can be published again; discard it.",
        ));
    }
    Ok(resolution.target())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(replayable: bool) -> Option<DeadLetterFacts> {
        Some(DeadLetterFacts {
            status: DeadLetterStatus::Open,
            replayable,
        })
    }

    fn discard() -> Resolution {
        Resolution::Discard {
            reason: "duplicate of a processed order".into(),
        }
    }

    #[test]
    fn an_open_letter_is_replayed_or_discarded_by_operators() {
        for role in [Role::Admin, Role::Handler] {
            assert_eq!(
                check_resolution(open(true), role, &Resolution::Replay),
                Ok(DeadLetterStatus::Replayed)
            );
            assert_eq!(
                check_resolution(open(false), role, &discard()),
                Ok(DeadLetterStatus::Discarded)
            );
        }
    }

    #[test]
    fn other_roles_are_forbidden_before_anything_else() {
        for role in [Role::Manager, Role::Station, Role::Supplier] {
            let refusal = check_resolution(None, role, &Resolution::Replay).unwrap_err();
            assert_eq!(refusal.code, RefusalCode::Forbidden);
        }
    }

    #[test]
    fn a_resolved_letter_is_never_resolved_again() {
        for status in [DeadLetterStatus::Replayed, DeadLetterStatus::Discarded] {
            let facts = Some(DeadLetterFacts {
                status,
                replayable: true,
            });
            for resolution in [Resolution::Replay, discard()] {
                let refusal = check_resolution(facts, Role::Admin, &resolution).unwrap_err();
                assert_eq!(refusal.code, RefusalCode::DeadLetterNotOpen, "{status:?}");
            }
        }
    }

    #[test]
    fn an_unreplayable_payload_can_only_be_discarded() {
        let refusal = check_resolution(open(false), Role::Admin, &Resolution::Replay).unwrap_err();
        assert_eq!(refusal.code, RefusalCode::DeadLetterNotReplayable);
    }

    #[test]
    fn a_missing_letter_is_not_found() {
        let refusal = check_resolution(None, Role::Handler, &discard()).unwrap_err();
        assert_eq!(refusal.code, RefusalCode::NotFound);
    }

    #[test]
    fn statuses_round_trip() {
        for status in DeadLetterStatus::ALL {
            assert_eq!(DeadLetterStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DeadLetterStatus::parse("open"), None);
    }
}
