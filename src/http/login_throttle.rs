//! Failed-login throttle for emails that match no account.
//!
//! Known accounts are throttled by the counter in `users` (shared by every ingress). Unknown
//! emails get the same treatment here, in memory, so that a 429 never reveals whether an
//! account exists.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bound on remembered emails, so a flood of random emails cannot exhaust memory.
const MAX_ENTRIES: usize = 100_000;

/// Counts failures per email and locks after `max_failures` for `lockout`.
pub struct LoginThrottle {
    max_failures: u32,
    lockout: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Clone, Copy)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
}

impl LoginThrottle {
    /// A throttle with these limits.
    pub fn new(max_failures: u32, lockout: Duration) -> Self {
        Self {
            max_failures,
            lockout,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds the email stays locked, if it is.
    pub fn locked_for(&self, email: &str, now: Instant) -> Option<u64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let until = entries.get(&email.to_lowercase())?.locked_until?;
        (until > now).then(|| (until - now).as_secs().max(1))
    }

    /// Records a failure.
    pub fn record_failure(&self, email: &str, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.locked_until.is_some_and(|until| until > now));
        }
        let entry = entries.entry(email.to_lowercase()).or_insert(Entry {
            failures: 0,
            locked_until: None,
        });
        if entry.locked_until.is_some_and(|until| until <= now) {
            *entry = Entry {
                failures: 0,
                locked_until: None,
            };
        }
        entry.failures += 1;
        if entry.failures >= self.max_failures {
            entry.failures = 0;
            entry.locked_until = Some(now + self.lockout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_then_unlocks() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..2 {
            throttle.record_failure("Nobody@Example.test", t0);
        }
        assert_eq!(throttle.locked_for("nobody@example.test", t0), None);
        throttle.record_failure("nobody@example.test", t0);
        assert_eq!(throttle.locked_for("NOBODY@example.test", t0), Some(60));
        assert_eq!(
            throttle.locked_for("nobody@example.test", t0 + Duration::from_secs(61)),
            None
        );
    }
}
