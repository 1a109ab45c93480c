//! What to do with a message after handling it: acknowledge, retry later, or dead-letter.
//! Pure decisions, so every branch is unit-tested.

use bluewhale::domain::dead_letter_reason::DeadLetterReason;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// The decision for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Done (applied, rejected by the rules, or already processed): acknowledge.
    Ack,
    /// A transient failure: redeliver after this delay.
    RetryAfter(Duration),
    /// Cannot be processed: record it and move it to the dead-letter queue.
    DeadLetter {
        /// Why.
        reason: DeadLetterReason,
        /// Human detail.
        error: String,
    },
}

/// Whether a failure may go away by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Database unavailable, serialisation failure, deadlock, a concurrent duplicate…
    Transient,
    /// Retrying cannot help (a broken reference, bad data).
    Permanent,
}

/// Classifies a database error.
pub fn classify(error: &sqlx::Error) -> FailureKind {
    match error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // serialization_failure, deadlock_detected, connection exceptions, insufficient
            // resources, admin shutdown / crash / cannot connect now, lock_not_available, and
            // unique_violation: a concurrent worker applied the same command; on retry the
            // processed-command record makes it a no-op. And idle_in_transaction_session_timeout
            // (25P03): the server ended the session of a worker that stalled mid-batch (frozen,
            // paused); its commands went to another worker meanwhile, so a retry is a no-op too
            // (found by scripts/faults.sh worker-stop, where it was dead-lettered).
            Some(code)
                if code.starts_with("40")
                    || code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P")
                    || code == "55P03"
                    || code == "25P03"
                    || code == "23505" =>
            {
                FailureKind::Transient
            }
            _ => FailureKind::Permanent,
        },
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => FailureKind::Transient,
        _ => FailureKind::Permanent,
    }
}

/// Retry policy for transient failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Deliveries after which a still-failing command is dead-lettered.
    pub max_deliver: u32,
    /// Delay before the second delivery.
    pub first_delay: Duration,
    /// Longest delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_deliver: 5,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The decision after a failure on delivery number `delivered` (1-based).
    pub fn after_failure(&self, kind: FailureKind, delivered: u32, error: String) -> Disposition {
        match kind {
            FailureKind::Permanent => Disposition::DeadLetter {
                reason: DeadLetterReason::PermanentFailure,
                error,
            },
            FailureKind::Transient if delivered >= self.max_deliver => Disposition::DeadLetter {
                reason: DeadLetterReason::OutOfRetries,
                error: format!("failed {delivered} deliveries, last: {error}"),
            },
            FailureKind::Transient => Disposition::RetryAfter(self.delay(delivered)),
        }
    }

    /// Exponential delay with jitter, growing with the delivery count.
    pub fn delay(&self, delivered: u32) -> Duration {
        let index = usize::try_from(delivered.saturating_sub(1)).unwrap_or(usize::MAX);
        ExponentialBuilder::default()
            .with_min_delay(self.first_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(index)
            .unwrap_or(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_retry_with_growing_delays_then_dead_letter() {
        let policy = RetryPolicy {
            max_deliver: 4,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        };
        let mut previous_floor = Duration::ZERO;
        for delivered in 1..4 {
            let Disposition::RetryAfter(delay) =
                policy.after_failure(FailureKind::Transient, delivered, "db down".into())
            else {
                panic!("delivery {delivered} should be retried");
            };
            // Jitter adds up to one base delay: the delay lies in [base, 2·base].
            let base = Duration::from_millis(100) * 2u32.pow(delivered - 1);
            assert!(delay >= base && delay <= base * 2, "{delivered}: {delay:?}");
            assert!(base > previous_floor);
            previous_floor = base;
        }
        assert_eq!(
            policy.after_failure(FailureKind::Transient, 4, "db down".into()),
            Disposition::DeadLetter {
                reason: DeadLetterReason::OutOfRetries,
                error: "failed 4 deliveries, last: db down".into()
            }
        );
    }

    #[test]
    fn permanent_failures_dead_letter_at_once() {
        let policy = RetryPolicy::default();
        assert!(matches!(
            policy.after_failure(FailureKind::Permanent, 1, "broken reference".into()),
            Disposition::DeadLetter {
                reason: DeadLetterReason::PermanentFailure,
                ..
            }
        ));
    }

    #[test]
    fn delays_are_capped() {
        let policy = RetryPolicy {
            max_deliver: 100,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
        };
        assert!(policy.delay(50) <= Duration::from_secs(10));
    }

    #[test]
    fn connection_problems_are_transient() {
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), FailureKind::Transient);
        assert_eq!(
            classify(&sqlx::Error::Io(std::io::Error::other("reset"))),
            FailureKind::Transient
        );
        assert_eq!(classify(&sqlx::Error::RowNotFound), FailureKind::Permanent);
    }
}
