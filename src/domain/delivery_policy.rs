//! What one delivery attempt's result means for the message (Svix's semantics): any 2xx is a
//! success, a 410 disables the endpoint, `Retry-After` on 429/503 is honoured, everything
//! else (3xx included: redirects are never followed) is retried along the schedule, then FAILED.

use std::time::Duration;

/// What one attempt ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered.
    Answered {
        /// HTTP status.
        status: u16,
        /// Its `Retry-After`, when it sent a usable one.
        retry_after: Option<Duration>,
    },
    /// The receiver (or the mail server) could not be reached, refused, or took too long.
    Failed,
    /// The mail server accepted the message.
    Accepted,
}

/// What happens to the message next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered: final.
    Delivered,
    /// Try again after this delay.
    RetryAfter(Duration),
    /// Out of attempts: FAILED for this endpoint.
    Failed,
    /// The receiver said the endpoint is gone: FAILED, and the endpoint is disabled.
    DisableEndpoint,
}

/// The longest `Retry-After` honoured: a receiver cannot park a message for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Judges attempt number `attempt` (1-based within the current round) of a message, given the
/// schedule of delays before each attempt (`schedule[0]` before the first) and `jitter` in
/// [0, 1) that spreads retries by up to +10 %.
pub fn judge(result: &AttemptResult, attempt: u32, schedule: &[Duration], jitter: f64) -> Verdict {
    let status = match result {
        AttemptResult::Accepted => return Verdict::Delivered,
        AttemptResult::Answered { status, .. } if (200..300).contains(status) => {
            return Verdict::Delivered;
        }
        AttemptResult::Answered { status: 410, .. } => return Verdict::DisableEndpoint,
        AttemptResult::Answered { status, .. } => Some(*status),
        AttemptResult::Failed => None,
    };
    let Some(scheduled) = usize::try_from(attempt)
        .ok()
        .and_then(|n| schedule.get(n))
        .copied()
    else {
        return Verdict::Failed;
    };
    let asked = match (result, status) {
        (AttemptResult::Answered { retry_after, .. }, Some(429 | 503)) => *retry_after,
        _ => None,
    };
    let delay = match asked {
        Some(asked) => asked.min(MAX_RETRY_AFTER),
        None => scheduled.mul_f64(1.0 + 0.1 * jitter.clamp(0.0, 1.0)),
    };
    Verdict::RetryAfter(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|s| Duration::from_secs(*s)).collect()
    }

    fn answered(status: u16) -> AttemptResult {
        AttemptResult::Answered {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn any_2xx_delivers_and_410_disables() {
        let schedule = secs(&[0, 5, 300]);
        for status in [200, 201, 204, 299] {
            assert_eq!(
                judge(&answered(status), 1, &schedule, 0.0),
                Verdict::Delivered
            );
        }
        assert_eq!(
            judge(&answered(410), 1, &schedule, 0.0),
            Verdict::DisableEndpoint
        );
        assert_eq!(
            judge(&AttemptResult::Accepted, 1, &schedule, 0.0),
            Verdict::Delivered
        );
    }

    #[test]
    fn failures_follow_the_schedule_then_fail() {
        let schedule = secs(&[0, 5, 300]);
        for result in [
            answered(500),
            answered(302),
            answered(404),
            AttemptResult::Failed,
        ] {
            assert_eq!(
                judge(&result, 1, &schedule, 0.0),
                Verdict::RetryAfter(Duration::from_secs(5)),
                "{result:?}"
            );
            assert_eq!(
                judge(&result, 2, &schedule, 0.0),
                Verdict::RetryAfter(Duration::from_secs(300))
            );
            assert_eq!(judge(&result, 3, &schedule, 0.0), Verdict::Failed);
        }
    }

    #[test]
    fn jitter_adds_at_most_a_tenth() {
        let schedule = secs(&[0, 100]);
        assert_eq!(
            judge(&answered(500), 1, &schedule, 0.5),
            Verdict::RetryAfter(Duration::from_secs(105))
        );
        assert_eq!(
            judge(&answered(500), 1, &schedule, 7.0),
            Verdict::RetryAfter(Duration::from_secs(110))
        );
    }

    #[test]
    fn retry_after_is_honoured_on_429_and_503_only_and_capped() {
        let schedule = secs(&[0, 5, 300]);
        let asked = |status, secs| AttemptResult::Answered {
            status,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            judge(&asked(429, 42), 1, &schedule, 0.9),
            Verdict::RetryAfter(Duration::from_secs(42))
        );
        assert_eq!(
            judge(&asked(503, 1), 1, &schedule, 0.0),
            Verdict::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            judge(&asked(500, 42), 1, &schedule, 0.0),
            Verdict::RetryAfter(Duration::from_secs(5))
        );
        assert_eq!(
            judge(&asked(429, 10 * 24 * 3600), 1, &schedule, 0.0),
            Verdict::RetryAfter(MAX_RETRY_AFTER)
        );
        assert_eq!(judge(&asked(429, 1), 3, &schedule, 0.0), Verdict::Failed);
    }
}
