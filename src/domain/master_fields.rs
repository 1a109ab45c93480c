//! Field rules shared by the master-data kinds: codes, names, optional texts, e-mail
//! addresses and country codes, each failure a [`FieldIssue`] with its own code.

use super::refusal::FieldIssue;
use super::text::text_issues;

/// Longest code.
pub const MAX_CODE_CHARS: usize = 50;
/// Longest name.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest free text (addresses, descriptions).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest e-mail address (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A required text: `REQUIRED` when blank, else [`text_issues`].
pub fn required_text(value: &str, field: &str, max: usize) -> Vec<FieldIssue> {
    if value.trim().is_empty() {
        return vec![FieldIssue::new(
            field,
            "REQUIRED",
            format!("{field} is required"),
        )];
    }
    text_issues(value, field, max)
}

/// An optional text: nothing when absent, else [`required_text`] (present but blank is an
/// error: clear it with `null`).
pub fn optional_text(value: Option<&str>, field: &str, max: usize) -> Vec<FieldIssue> {
    value.map_or_else(Vec::new, |v| required_text(v, field, max))
}

/// A code: 1–50 letters, digits, `-`, `_` or `.`, starting with a letter or digit.
pub fn code_issues(value: &str, field: &str) -> Vec<FieldIssue> {
    let issues = required_text(value, field, MAX_CODE_CHARS);
    if !issues.is_empty() {
        return issues;
    }
    let well_formed = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if well_formed {
        Vec::new()
    } else {
        vec![FieldIssue::new(
            field,
            "INVALID_CODE",
            format!(
                "{field} holds letters, digits, '-', '_' or '.', starting with a letter or digit"
            ),
        )]
    }
}

/// An e-mail address: `local@domain.tld`, no spaces, at most 254 characters.
pub fn email_issues(value: &str, field: &str) -> Vec<FieldIssue> {
    let issues = required_text(value, field, MAX_EMAIL_CHARS);
    if !issues.is_empty() {
        return issues;
    }
    let shaped = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    });
    if shaped && !value.chars().any(char::is_whitespace) {
        Vec::new()
    } else {
        vec![FieldIssue::new(
            field,
            "INVALID_EMAIL",
            format!("{field} is not an e-mail address"),
        )]
    }
}

/// An ISO 3166-1 alpha-2 country code in capitals (`FR`).
pub fn country_issues(value: &str, field: &str) -> Vec<FieldIssue> {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Vec::new()
    } else {
        vec![FieldIssue::new(
            field,
            "INVALID_COUNTRY",
            format!("{field} is a two-letter ISO country code in capitals"),
        )]
    }
}

/// The parts of a postal address: optional street, postal code and city, and a country code;
/// `prefix` is put before each field's name (`sites[0].`).
pub fn address_issues(
    (address, postal_code, city): (Option<&str>, Option<&str>, Option<&str>),
    country: &str,
    prefix: &str,
) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    for (name, value) in [
        ("address", address),
        ("postal_code", postal_code),
        ("city", city),
    ] {
        issues.extend(optional_text(
            value,
            &format!("{prefix}{name}"),
            MAX_TEXT_CHARS,
        ));
    }
    issues.extend(country_issues(country, &format!("{prefix}country")));
    issues
}

/// The default country of addresses.
pub fn default_country() -> String {
    "FR".to_owned()
}

/// The default of `active` flags.
pub fn default_active() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(issues: Vec<FieldIssue>) -> Vec<String> {
        issues.into_iter().map(|i| i.code).collect()
    }

    #[test]
    fn field_rules_table() {
        let none: Vec<String> = Vec::new();
        assert_eq!(codes(code_issues("BW-TRAY-0400", "code")), none);
        assert_eq!(codes(code_issues("st.cav_01", "code")), none);
        assert_eq!(codes(code_issues(" ", "code")), ["REQUIRED"]);
        assert_eq!(codes(code_issues("-X", "code")), ["INVALID_CODE"]);
        assert_eq!(codes(code_issues("A B", "code")), ["INVALID_CODE"]);
        assert_eq!(codes(code_issues(&"A".repeat(51), "code")), ["TOO_LONG"]);
        assert_eq!(
            codes(required_text("x\u{0}", "name", 10)),
            ["INVALID_CHARACTERS"]
        );
        assert_eq!(codes(optional_text(None, "city", 10)), none);
        assert_eq!(codes(optional_text(Some(""), "city", 10)), ["REQUIRED"]);
        assert_eq!(codes(email_issues("a.b@example.fr", "email")), none);
        for bad in [
            "a", "a@b", "@b.fr", "a@.fr", "a@b.fr.", "a b@c.fr", "a@b@c.fr",
        ] {
            assert_eq!(
                codes(email_issues(bad, "email")),
                ["INVALID_EMAIL"],
                "{bad}"
            );
        }
        assert_eq!(codes(country_issues("FR", "country")), none);
        for bad in ["fr", "FRA", "F1", ""] {
            assert_eq!(
                codes(country_issues(bad, "country")),
                ["INVALID_COUNTRY"],
                "{bad}"
            );
        }
    }
}
