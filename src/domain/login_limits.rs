//! Login limits (issue 9 §3): what is counted, and what a count means.
//!
//! No count here ever refuses the right password from the real user's own address: failures
//! per (account, address) refuse only that address, and failures per account only slow every
//! attempt on it down, by a delay capped at a few seconds.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A counter of the login limits.
#[derive(Debug, Clone, Copy)]
pub enum LimitKey<'a> {
    /// Every login attempt from an address.
    LoginAddress(IpAddr),
    /// Every refresh from an address.
    RefreshAddress(IpAddr),
    /// Failed logins on one account (by e-mail, known or not) from one address.
    AccountAddress(&'a str, IpAddr),
    /// Failed logins on one account (by e-mail, known or not) from anywhere.
    Account(&'a str),
}

impl LimitKey<'_> {
    /// The stored key: a digest, so the table holds neither addresses nor e-mails. E-mails are
    /// compared case-insensitively, as at login; unknown and known ones are counted alike.
    pub fn digest(&self) -> String {
        let text = match self {
            LimitKey::LoginAddress(ip) => format!("login-address\0{ip}"),
            LimitKey::RefreshAddress(ip) => format!("refresh-address\0{ip}"),
            LimitKey::AccountAddress(email, ip) => {
                format!("account-address\0{}\0{ip}", email.to_lowercase())
            }
            LimitKey::Account(email) => format!("account\0{}", email.to_lowercase()),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
    }
}

/// The delay before an attempt on an account with `failures` recent failures: none up to
/// `free`, then `base` doubling per failure, never more than `cap`.
pub fn slowdown(failures: u32, free: u32, base: Duration, cap: Duration) -> Duration {
    let Some(over) = failures.checked_sub(free).filter(|n| *n > 0) else {
        return Duration::ZERO;
    };
    let factor = 1u32.checked_shl(over - 1).unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowdown_doubles_after_the_free_failures_and_is_capped() {
        let (base, cap) = (Duration::from_millis(250), Duration::from_secs(3));
        let delays: Vec<u64> = (0..12)
            .map(|n| slowdown(n, 5, base, cap).as_millis() as u64)
            .collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 0, 250, 500, 1000, 2000, 3000, 3000]);
        assert_eq!(slowdown(u32::MAX, 5, base, cap), cap, "no overflow");
    }

    #[test]
    fn keys_are_digests_case_insensitive_on_the_email_and_distinct_per_kind() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let a = LimitKey::AccountAddress("Ana@Example.test", ip).digest();
        assert_eq!(a, LimitKey::AccountAddress("ana@example.test", ip).digest());
        assert!(!a.contains("example") && !a.contains("192"));
        let other_ip: IpAddr = "192.0.2.8".parse().unwrap();
        let all = [
            a.clone(),
            LimitKey::AccountAddress("ana@example.test", other_ip).digest(),
            LimitKey::Account("ana@example.test").digest(),
            LimitKey::LoginAddress(ip).digest(),
            LimitKey::RefreshAddress(ip).digest(),
        ];
        let distinct: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), all.len());
    }
}
