//! What a new password must be (issue 8 §2): at least [`MIN_CHARS`] characters, not the
//! account's e-mail nor its local part, and not among the most common passwords
//! (`assets/common_passwords.txt`, its source in `assets/COMMON_PASSWORDS.md`). Each failure is
//! an issue of the field `new_password` with its own code.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::refusal::FieldIssue;

/// Fewest characters of a password.
pub const MIN_CHARS: usize = 12;
/// Most bytes of a password (argon2 hashes anything, but a megabyte password is an attack).
pub const MAX_BYTES: usize = 1024;
/// The field every policy issue names.
pub const FIELD: &str = "new_password";

/// The 10 000 most common passwords, lower-cased.
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("../../assets/common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_lowercase)
        .collect()
});

/// Why `password` may not be the password of the account `email`; empty when it may.
pub fn password_issues(password: &str, email: &str) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    if password.chars().count() < MIN_CHARS {
        issues.push(FieldIssue::new(
            FIELD,
            "PASSWORD_TOO_SHORT",
            format!("a password has at least {MIN_CHARS} characters"),
        ));
    }
    if password.len() > MAX_BYTES {
        issues.push(FieldIssue::new(
            FIELD,
            "PASSWORD_TOO_LONG",
            format!("a password has at most {MAX_BYTES} bytes"),
        ));
    }
    let lowered = password.trim().to_lowercase();
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if !lowered.is_empty() && (lowered == email || lowered == local) {
        issues.push(FieldIssue::new(
            FIELD,
            "PASSWORD_IS_EMAIL",
            "the password may not be the account's e-mail address or its part before the @",
        ));
    }
    if COMMON.contains(&lowered) {
        issues.push(FieldIssue::new(
            FIELD,
            "PASSWORD_TOO_COMMON",
            "this password is among the most common ones; choose another",
        ));
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(password: &str, email: &str) -> Vec<String> {
        password_issues(password, email)
            .into_iter()
            .inspect(|i| assert_eq!(i.field, FIELD))
            .map(|i| i.code)
            .collect()
    }

    #[test]
    fn policy_table() {
        let email = "Jeanne.Martin@station.example";
        let cases: &[(&str, &str, &[&str])] = &[
            ("a sound passphrase", "long and unusual", &[]),
            ("twelve chars", "tw3lve-chars", &[]),
            ("eleven", "elevenchars", &["PASSWORD_TOO_SHORT"]),
            (
                "short and common",
                "password",
                &["PASSWORD_TOO_SHORT", "PASSWORD_TOO_COMMON"],
            ),
            ("empty", "", &["PASSWORD_TOO_SHORT"]),
            (
                "the e-mail",
                "jeanne.martin@station.example",
                &["PASSWORD_IS_EMAIL"],
            ),
            (
                "the e-mail in capitals",
                "JEANNE.MARTIN@STATION.EXAMPLE",
                &["PASSWORD_IS_EMAIL"],
            ),
            ("the local part", "Jeanne.Martin", &["PASSWORD_IS_EMAIL"]),
            (
                "a common one of 12 or more",
                "Unbelievable",
                &["PASSWORD_TOO_COMMON"],
            ),
            ("characters, not bytes", "éééééééééééé", &[]),
        ];
        for (name, password, expected) in cases {
            assert_eq!(codes(password, email), *expected, "{name}");
        }
        assert_eq!(codes(&"x".repeat(1025), email), ["PASSWORD_TOO_LONG"]);
    }

    #[test]
    fn the_common_list_is_loaded_and_matches_case_insensitively() {
        assert!(COMMON.len() >= 9_000, "{}", COMMON.len());
        let long_common: Vec<&String> = COMMON.iter().filter(|p| p.chars().count() >= 12).collect();
        let sample = long_common
            .first()
            .expect("a common password of 12 characters");
        assert_eq!(
            codes(&sample.to_uppercase(), "a@b.example"),
            ["PASSWORD_TOO_COMMON"]
        );
    }
}
