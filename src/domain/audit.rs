//! Audit trail vocabulary and the `{field: {old, new}}` diff stored in `audit_log.changes` (§5.5).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// What kind of event an audit row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditAction {
    /// An entity was created.
    Create,
    /// Fields of an entity were edited.
    Update,
    /// A status changed through the state machine.
    Transition,
    /// An entity was deleted.
    Delete,
    /// A user signed in.
    Login,
    /// A sign-in attempt failed (kept to detect credential stuffing).
    LoginFailed,
    /// An authenticated user was refused an action.
    AccessDenied,
    /// A user signed out.
    Logout,
    /// A delivery was asked for outside the normal flow (webhook test, resend, recover).
    Deliver,
    /// A refresh token was exchanged for a new pair.
    TokenRefreshed,
    /// A spent refresh token was presented again: its whole session was revoked.
    RefreshTokenReused,
    /// Login or refresh attempts were refused for a while (too many from one place).
    AccountThrottled,
    /// A user's password was changed (by themselves or with a one-time token).
    PasswordChanged,
    /// A user was deactivated: every session ended.
    UserDeactivated,
    /// Everything held about a person was exported.
    PersonalDataExported,
    /// A user's personal data was erased.
    UserErased,
}

impl AuditAction {
    /// The code stored in `audit_log.action`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::Create => "CREATE",
            AuditAction::Update => "UPDATE",
            AuditAction::Transition => "TRANSITION",
            AuditAction::Delete => "DELETE",
            AuditAction::Login => "LOGIN",
            AuditAction::LoginFailed => "LOGIN_FAILED",
            AuditAction::AccessDenied => "ACCESS_DENIED",
            AuditAction::Logout => "LOGOUT",
            AuditAction::Deliver => "DELIVER",
            AuditAction::TokenRefreshed => "TOKEN_REFRESHED",
            AuditAction::RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            AuditAction::AccountThrottled => "ACCOUNT_THROTTLED",
            AuditAction::PasswordChanged => "PASSWORD_CHANGED",
            AuditAction::UserDeactivated => "USER_DEACTIVATED",
            AuditAction::PersonalDataExported => "PERSONAL_DATA_EXPORTED",
            AuditAction::UserErased => "USER_ERASED",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Placeholder written instead of a secret's value; the change itself stays visible.
pub const REDACTED: &str = "[REDACTED]";

/// Top-level fields that differ between two JSON objects, as `{field: {"old": x, "new": y}}`.
///
/// `old: None` is a creation (every field with old null), `new: None` a deletion. Timestamps
/// (`created_at`, `updated_at`, any `*_at`) are left out because they change on every write and
/// would drown the real changes. Values of secret-looking fields (`*password*`, `*_hash`,
/// `*secret*`, `*_token`) are replaced by [`REDACTED`] so no credential reaches the audit log or
/// its events (DESIGN §7.7); null stays null so setting or clearing one is still visible.
/// A value that is not a JSON object is treated as having no fields. Keys come out sorted.
pub fn changes(old: Option<&Value>, new: Option<&Value>) -> Map<String, Value> {
    let empty = Map::new();
    let old_fields = old.and_then(Value::as_object).unwrap_or(&empty);
    let new_fields = new.and_then(Value::as_object).unwrap_or(&empty);

    let mut diff = Map::new();
    let names = old_fields
        .keys()
        .chain(new_fields.keys().filter(|k| !old_fields.contains_key(*k)));
    for name in names {
        if is_timestamp(name) {
            continue;
        }
        let before = old_fields.get(name).unwrap_or(&Value::Null);
        let after = new_fields.get(name).unwrap_or(&Value::Null);
        if before == after {
            continue;
        }
        let (before, after) = if is_secret(name) {
            (redact(before), redact(after))
        } else {
            (before.clone(), after.clone())
        };
        diff.insert(name.clone(), json!({ "old": before, "new": after }));
    }
    diff
}

/// Timestamps change on every write; the audit row has its own `occurred_at`.
fn is_timestamp(field: &str) -> bool {
    field.ends_with("_at")
}

/// Fields whose values must never be copied into the audit trail.
fn is_secret(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    f.contains("password")
        || f.contains("secret")
        || f.ends_with("_hash")
        || f.ends_with("_token")
        || f == "token"
}

/// Hides a value but keeps null as null.
fn redact(value: &Value) -> Value {
    if value.is_null() {
        Value::Null
    } else {
        Value::String(REDACTED.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_table() {
        let cases = [
            (AuditAction::Create, "CREATE"),
            (AuditAction::Update, "UPDATE"),
            (AuditAction::Transition, "TRANSITION"),
            (AuditAction::Delete, "DELETE"),
            (AuditAction::Login, "LOGIN"),
            (AuditAction::LoginFailed, "LOGIN_FAILED"),
            (AuditAction::AccessDenied, "ACCESS_DENIED"),
            (AuditAction::Logout, "LOGOUT"),
        ];
        for (action, code) in cases {
            assert_eq!(action.as_str(), code);
            assert_eq!(action.to_string(), code);
            assert_eq!(
                serde_json::to_value(action).expect("serialise"),
                json!(code)
            );
            assert_eq!(
                serde_json::from_value::<AuditAction>(json!(code)).ok(),
                Some(action)
            );
        }
    }

    #[test]
    fn changes_table() {
        let cases: Vec<(&str, Option<Value>, Option<Value>, Value)> = vec![
            (
                "update keeps only changed fields",
                Some(json!({"name": "Tray", "active": true, "price": "10.00"})),
                Some(json!({"name": "Tray", "active": false, "price": "10.50"})),
                json!({"active": {"old": true, "new": false}, "price": {"old": "10.00", "new": "10.50"}}),
            ),
            (
                "create lists every field with old null",
                None,
                Some(
                    json!({"code": "TRAY-01", "active": true, "created_at": "2026-01-01T00:00:00Z"}),
                ),
                json!({"code": {"old": null, "new": "TRAY-01"}, "active": {"old": null, "new": true}}),
            ),
            (
                "delete lists every field with new null",
                Some(json!({"code": "TRAY-01", "updated_at": "2026-01-01T00:00:00Z"})),
                None,
                json!({"code": {"old": "TRAY-01", "new": null}}),
            ),
            (
                "timestamps are excluded",
                Some(
                    json!({"status": "REGISTERED", "updated_at": "a", "shipped_at": null, "created_at": "x"}),
                ),
                Some(
                    json!({"status": "SHIPPED", "updated_at": "b", "shipped_at": "c", "created_at": "y"}),
                ),
                json!({"status": {"old": "REGISTERED", "new": "SHIPPED"}}),
            ),
            (
                "added and removed fields",
                Some(json!({"gone": 1, "same": [1, 2]})),
                Some(json!({"added": {"a": 1}, "same": [1, 2]})),
                json!({"gone": {"old": 1, "new": null}, "added": {"old": null, "new": {"a": 1}}}),
            ),
            (
                "nested values compare whole",
                Some(json!({"breaks": [{"min_quantity": 100, "reduction_percent": "5.00"}]})),
                Some(json!({"breaks": [{"min_quantity": 100, "reduction_percent": "6.00"}]})),
                json!({"breaks": {
                    "old": [{"min_quantity": 100, "reduction_percent": "5.00"}],
                    "new": [{"min_quantity": 100, "reduction_percent": "6.00"}]
                }}),
            ),
            (
                "identical objects give nothing",
                Some(json!({"a": 1})),
                Some(json!({"a": 1})),
                json!({}),
            ),
            ("nothing at all gives nothing", None, None, json!({})),
            (
                "non-objects have no fields",
                Some(json!(3)),
                Some(json!("x")),
                json!({}),
            ),
            (
                "null field versus missing field is no change",
                Some(json!({"notes": null})),
                Some(json!({})),
                json!({}),
            ),
            (
                "secrets are redacted but their change is recorded",
                Some(json!({"password_hash": "$argon2id$old", "email": "a@x"})),
                Some(json!({"password_hash": "$argon2id$new", "email": "a@x"})),
                json!({"password_hash": {"old": REDACTED, "new": REDACTED}}),
            ),
            (
                "setting a secret keeps null visible",
                None,
                Some(json!({"refresh_token": "abc", "webhook_secret": "s"})),
                json!({
                    "refresh_token": {"old": null, "new": REDACTED},
                    "webhook_secret": {"old": null, "new": REDACTED}
                }),
            ),
        ];
        for (name, old, new, expected) in cases {
            let got = Value::Object(changes(old.as_ref(), new.as_ref()));
            assert_eq!(got, expected, "{name}");
        }
    }
}
