//! Why a command was dead-lettered: the one list the worker records, the API filters by and the
//! metrics label with.

use std::fmt;

/// Why a command left the COMMANDS stream for the dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadLetterReason {
    /// Not a command envelope, or data not of its type.
    Undecodable,
    /// A type or version no handler takes.
    UnknownType,
    /// The subject does not match the payload.
    Inconsistent,
    /// A failure that retrying cannot fix.
    PermanentFailure,
    /// Transient failures on every allowed delivery.
    OutOfRetries,
}

impl DeadLetterReason {
    /// Every reason.
    pub const ALL: [DeadLetterReason; 5] = [
        Self::Undecodable,
        Self::UnknownType,
        Self::Inconsistent,
        Self::PermanentFailure,
        Self::OutOfRetries,
    ];

    /// As stored, filtered by and labelled: `permanent_failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable",
            Self::UnknownType => "unknown_type",
            Self::Inconsistent => "inconsistent",
            Self::PermanentFailure => "permanent_failure",
            Self::OutOfRetries => "out_of_retries",
        }
    }

    /// The reason of a stored or requested name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_parses_back_from_its_name_and_nothing_else_does() {
        for reason in DeadLetterReason::ALL {
            assert_eq!(DeadLetterReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(DeadLetterReason::parse("Undecodable"), None);
        assert_eq!(DeadLetterReason::parse(""), None);
    }
}
