//! Changes no one may make to a user account whatever their role: an erased account takes no
//! change at all (its fields are a pseudonym; reviving it would undo the erasure), and an
//! administrator may not deactivate, demote or erase themself (they would lock themself, and
//! with the last administrator everyone, out of user management: another administrator does
//! it).

use uuid::Uuid;

use super::refusal::{Refusal, RefusalCode};
use super::roles::Role;
use super::user_terms::UserFields;

/// What is asked of an account.
#[derive(Debug, Clone, Copy)]
pub enum AccountChange<'a> {
    /// Its fields become `after`.
    Patch {
        /// Its fields now.
        before: &'a UserFields,
        /// Its fields after the change.
        after: &'a UserFields,
    },
    /// Its personal data is erased.
    Erase,
}

/// Why `actor` may not make `change` to account `user_id` (erased or not), if they may not.
pub fn account_change_refusal(
    actor: Uuid,
    user_id: Uuid,
    erased: bool,
    change: AccountChange<'_>,
) -> Option<Refusal> {
    if erased {
        return match change {
            // Erasing again changes nothing: the request's wish holds already.
            AccountChange::Erase => None,
            AccountChange::Patch { .. } => Some(Refusal::new(
                RefusalCode::UserErased,
                "This user was erased; an erased account takes no changes.",
            )),
        };
    }
    if actor != user_id {
        return None;
    }
    let what = match change {
        AccountChange::Erase => "erase",
        AccountChange::Patch { before, after } if before.active && !after.active => "deactivate",
        AccountChange::Patch { before, after }
            if before.role == Role::Admin && after.role != Role::Admin =>
        {
            "demote"
        }
        AccountChange::Patch { .. } => return None,
    };
    Some(Refusal::new(
        RefusalCode::OwnAccountProtected,
        format!("An administrator may not {what} their own account; another administrator can."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> UserFields {
        UserFields {
            email: "a@example.com".into(),
            full_name: "A".into(),
            role: Role::Admin,
            org_id: None,
            active: true,
        }
    }

    fn code(refusal: Option<Refusal>) -> Option<&'static str> {
        refusal.map(|r| r.code.as_str())
    }

    #[test]
    fn an_administrator_keeps_their_own_access() {
        let (me, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let before = admin();
        let renamed = UserFields {
            full_name: "B".into(),
            ..admin()
        };
        let inactive = UserFields {
            active: false,
            ..admin()
        };
        let manager = UserFields {
            role: Role::Manager,
            ..admin()
        };
        let patch = |after| AccountChange::Patch {
            before: &before,
            after,
        };
        let protected = Some("OWN_ACCOUNT_PROTECTED");
        assert_eq!(
            code(account_change_refusal(me, me, false, patch(&renamed))),
            None
        );
        assert_eq!(
            code(account_change_refusal(me, me, false, patch(&inactive))),
            protected
        );
        assert_eq!(
            code(account_change_refusal(me, me, false, patch(&manager))),
            protected
        );
        assert_eq!(
            code(account_change_refusal(me, me, false, AccountChange::Erase)),
            protected
        );
        for change in [patch(&inactive), patch(&manager), AccountChange::Erase] {
            assert_eq!(code(account_change_refusal(me, other, false, change)), None);
        }
    }

    #[test]
    fn an_erased_account_takes_no_change_but_a_second_erasure() {
        let (me, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let before = admin();
        let patch = AccountChange::Patch {
            before: &before,
            after: &before,
        };
        assert_eq!(
            code(account_change_refusal(me, other, true, patch)),
            Some("USER_ERASED")
        );
        assert_eq!(
            code(account_change_refusal(
                me,
                other,
                true,
                AccountChange::Erase
            )),
            None
        );
    }
}
