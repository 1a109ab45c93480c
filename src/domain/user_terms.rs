//! Users as an ADMIN sets them: an e-mail unique case-insensitively, a name, a role and the
//! organisation the role belongs to (none for Blue Whale staff, a station or a supplier
//! otherwise), an `active` flag. Passwords are not fields: a user sets theirs with a one-time
//! token whose SHA-256 alone travels in the command ([`PasswordGrant`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::master_fields::{MAX_NAME_CHARS, default_active, email_issues, required_text};
use super::master_record::{MasterKind, UniqueKey};
use super::refusal::{FieldIssue, RefusalCode};
use super::roles::{OrgType, Role};

/// The user kind of master data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User;

/// A user's fields (`POST /users` body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserFields {
    /// Login e-mail, unique whatever its case.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// `ADMIN`, `MANAGER`, `HANDLER`, `STATION` or `SUPPLIER`.
    #[schema(value_type = String, example = "STATION")]
    pub role: Role,
    /// The station of a STATION user, the supplier of a SUPPLIER user; none for staff.
    #[serde(default)]
    pub org_id: Option<Uuid>,
    /// Whether they may log in (default true); `false` deactivates them and ends their sessions.
    #[serde(default = "default_active")]
    pub active: bool,
}

impl UserFields {
    /// The kind of organisation the role belongs to.
    pub fn org_type(&self) -> OrgType {
        org_type_of(self.role)
    }
}

/// The kind of organisation of a role.
pub fn org_type_of(role: Role) -> OrgType {
    match role {
        Role::Admin | Role::Manager | Role::Handler => OrgType::Bluewhale,
        Role::Station => OrgType::Station,
        Role::Supplier => OrgType::Supplier,
    }
}

/// A one-time password token as the command and the database know it: only its SHA-256.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordGrant {
    /// Hex SHA-256 of the token.
    pub token_sha256: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What a user command carries besides the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserExtra {
    /// A new one-time password token (a creation, or an admin's reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_reset: Option<PasswordGrant>,
}

impl MasterKind for User {
    const ENTITY: &'static str = "user";
    type Fields = UserFields;
    type Extra = UserExtra;

    fn may_change(role: Role) -> bool {
        role == Role::Admin
    }

    fn issues(f: &UserFields) -> Vec<FieldIssue> {
        let mut issues = email_issues(&f.email, "email");
        issues.extend(required_text(&f.full_name, "full_name", MAX_NAME_CHARS));
        match (f.org_type(), f.org_id) {
            (OrgType::Bluewhale, Some(_)) => issues.push(FieldIssue::new(
                "org_id",
                "NOT_ALLOWED",
                "Blue Whale staff belong to no station or supplier",
            )),
            (OrgType::Station | OrgType::Supplier, None) => issues.push(FieldIssue::new(
                "org_id",
                "REQUIRED",
                format!("a {} user belongs to one organisation", f.role.as_str()),
            )),
            _ => {}
        }
        issues
    }

    fn unique_keys(f: &UserFields) -> Vec<UniqueKey> {
        vec![UniqueKey {
            field: "email",
            value: f.email.clone(),
            case_insensitive: true,
            taken: RefusalCode::UserEmailTaken,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{Case, check_table};

    #[test]
    fn user_rules_table() {
        let user = UserFields {
            email: "new.user@station.example".into(),
            full_name: "New User".into(),
            role: Role::Station,
            org_id: Some(Uuid::from_u128(1)),
            active: true,
        };
        let cases: &[Case<'_, UserFields>] = &[
            ("valid", |_| {}, &[]),
            (
                "bad e-mail",
                |u| u.email = "nobody".into(),
                &[("email", "INVALID_EMAIL")],
            ),
            (
                "no name",
                |u| u.full_name = String::new(),
                &[("full_name", "REQUIRED")],
            ),
            (
                "station without one",
                |u| u.org_id = None,
                &[("org_id", "REQUIRED")],
            ),
            (
                "staff with one",
                |u| u.role = Role::Manager,
                &[("org_id", "NOT_ALLOWED")],
            ),
            (
                "staff",
                |u| {
                    u.role = Role::Admin;
                    u.org_id = None
                },
                &[],
            ),
        ];
        check_table(&user, cases, User::issues);
        assert!(User::may_change(Role::Admin));
        assert!(!User::may_change(Role::Manager));
        assert!(User::unique_keys(&user)[0].case_insensitive);
        assert_eq!(org_type_of(Role::Supplier), OrgType::Supplier);
    }

    #[test]
    fn a_grant_never_shows_its_hash_in_debug() {
        let grant = PasswordGrant {
            token_sha256: "abcdef0123".into(),
            expires_at: Utc::now(),
        };
        assert!(!format!("{grant:?}").contains("abcdef"));
    }
}
