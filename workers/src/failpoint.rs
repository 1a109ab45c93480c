//! Failpoints for the fault scenarios of `scripts/faults.sh`: inert unless the environment
//! variable `BW_FAILPOINT` names one.
//!
//! `BW_FAILPOINT=<name>` or `<name>:<n>` arms the failpoint `name` for its `n`-th hit (the
//! first by default). When reached, the process stops itself with SIGSTOP, the whole process at
//! once, so that the fault script finds it frozen exactly in the window the failpoint names and
//! kills it with SIGKILL from outside — a real `kill -9`, at a deterministic point. Only one hit
//! ever fires; with the variable unset, a hit costs one relaxed atomic load after the first.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// After a batch's transaction committed, before its first message is acknowledged
/// (called from [`crate::settle::settle`] for `Disposition::Ack`).
pub const AFTER_COMMIT_BEFORE_ACK: &str = "after-commit-before-ack";

/// The armed failpoint and the hit that fires it, read once from the environment.
fn armed() -> Option<&'static (String, u64)> {
    static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var("BW_FAILPOINT").ok().and_then(|v| parse(&v)))
        .as_ref()
}

/// `name` or `name:n` (n ≥ 1).
fn parse(value: &str) -> Option<(String, u64)> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.split_once(':') {
        Some((name, n)) => {
            let n: u64 = n.trim().parse().ok().filter(|n| *n >= 1)?;
            Some((name.trim().to_owned(), n))
        }
        None => Some((value.to_owned(), 1)),
    }
}

/// Marks a pass through failpoint `name`; freezes the process if it is the armed hit.
pub fn hit(name: &'static str) {
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Some((armed, nth)) = armed() else {
        return;
    };
    if armed != name || HITS.fetch_add(1, Ordering::Relaxed) + 1 != *nth {
        return;
    }
    let pid = std::process::id();
    tracing::warn!(
        failpoint = name,
        pid,
        "failpoint reached: stopping this process (SIGSTOP)"
    );
    eprintln!("failpoint {name} reached: SIGSTOP to pid {pid}");
    // kill(1) rather than unsafe libc: the signal stops every thread of this process.
    let _ = std::process::Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status();
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_a_name_and_an_optional_hit_number() {
        assert_eq!(
            parse("after-commit-before-ack"),
            Some(("after-commit-before-ack".into(), 1))
        );
        assert_eq!(parse(" x:25 "), Some(("x".into(), 25)));
        assert_eq!(parse(""), None);
        assert_eq!(parse("x:0"), None);
        assert_eq!(parse("x:many"), None);
    }
}
