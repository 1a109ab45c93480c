//! Who may change a supplier's webhook endpoints, and which changes an endpoint's state allows.
//! The ingress checks the same rules against the read model before publishing; the worker
//! decides under the row lock.

use uuid::Uuid;

use super::refusal::{Refusal, RefusalCode};
use super::roles::Role;

/// What the stored endpoint looks like to the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointState {
    /// Owner.
    pub supplier_id: Uuid,
    /// Whether deliveries go out.
    pub enabled: bool,
    /// Deleted endpoints are gone for everyone.
    pub deleted: bool,
    /// Current version.
    pub version: i32,
}

/// Who asks, and against which version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointRequester {
    /// Role.
    pub role: Role,
    /// Organisation (a supplier's id for supplier users).
    pub org_id: Option<Uuid>,
    /// `If-Match`, when sent.
    pub expected_version: Option<i32>,
}

/// The kinds of change, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointAction {
    /// Registration of a new endpoint.
    Create,
    /// A change of the endpoint itself (fields, secret, deletion, enabling).
    Modify,
    /// The notifier disables it.
    Disable,
    /// A test delivery (needs an enabled endpoint).
    Test,
    /// Resend or recover of its messages.
    Repair,
}

/// Whether this user may see and manage the endpoints of `supplier_id`: the supplier's own
/// users and staff ADMIN or MANAGER. Another supplier's user gets 404 (ids are not disclosed),
/// other roles 403.
pub fn authorise(role: Role, org_id: Option<Uuid>, supplier_id: Uuid) -> Result<(), Refusal> {
    match role {
        Role::Admin | Role::Manager => Ok(()),
        Role::Supplier if org_id == Some(supplier_id) => Ok(()),
        Role::Supplier => Err(not_found()),
        Role::Handler | Role::Station => Err(Refusal::new(
            RefusalCode::Forbidden,
            "Only the supplier's users, managers and administrators manage webhook endpoints.",
        )),
    }
}

fn not_found() -> Refusal {
    Refusal::new(RefusalCode::NotFound, "No such webhook endpoint.")
}

/// Decides whether `action` may apply to the endpoint as stored (`None`: no such endpoint),
/// asked through the path of `supplier_id`.
pub fn check_change(
    stored: Option<&EndpointState>,
    supplier_id: Uuid,
    action: EndpointAction,
    requester: EndpointRequester,
) -> Result<(), Refusal> {
    authorise(requester.role, requester.org_id, supplier_id)?;
    let Some(state) = stored else {
        return match action {
            EndpointAction::Create => Ok(()),
            _ => Err(not_found()),
        };
    };
    if state.deleted || state.supplier_id != supplier_id {
        return Err(not_found());
    }
    if action == EndpointAction::Create {
        return Err(Refusal::new(
            RefusalCode::InvalidTransition,
            "This endpoint already exists.",
        ));
    }
    if let Some(expected) = requester.expected_version
        && expected != state.version
    {
        return Err(Refusal::new(
            RefusalCode::PreconditionFailed,
            format!(
                "The endpoint is at version {}, not {expected}.",
                state.version
            ),
        ));
    }
    match action {
        EndpointAction::Test | EndpointAction::Disable if !state.enabled => Err(Refusal::new(
            RefusalCode::WebhookEndpointDisabled,
            "The endpoint is disabled; enable it first.",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPPLIER: Uuid = Uuid::from_u128(7);
    const OTHER: Uuid = Uuid::from_u128(8);

    fn state() -> EndpointState {
        EndpointState {
            supplier_id: SUPPLIER,
            enabled: true,
            deleted: false,
            version: 3,
        }
    }

    fn by(role: Role, org_id: Option<Uuid>) -> EndpointRequester {
        EndpointRequester {
            role,
            org_id,
            expected_version: None,
        }
    }

    fn code(result: Result<(), Refusal>) -> Option<RefusalCode> {
        result.err().map(|r| r.code)
    }

    #[test]
    fn owners_and_managers_may_act_others_may_not() {
        let s = state();
        for (role, org, expected) in [
            (Role::Supplier, Some(SUPPLIER), None),
            (Role::Admin, None, None),
            (Role::Manager, None, None),
            (Role::Supplier, Some(OTHER), Some(RefusalCode::NotFound)),
            (Role::Handler, None, Some(RefusalCode::Forbidden)),
            (Role::Station, Some(OTHER), Some(RefusalCode::Forbidden)),
        ] {
            let result = check_change(Some(&s), SUPPLIER, EndpointAction::Modify, by(role, org));
            assert_eq!(code(result), expected, "{role:?}");
        }
    }

    #[test]
    fn a_missing_deleted_or_foreign_endpoint_is_not_found() {
        let admin = by(Role::Admin, None);
        let deleted = EndpointState {
            deleted: true,
            ..state()
        };
        for stored in [None, Some(deleted)] {
            let result = check_change(stored.as_ref(), SUPPLIER, EndpointAction::Modify, admin);
            assert_eq!(code(result), Some(RefusalCode::NotFound));
        }
        let result = check_change(Some(&state()), OTHER, EndpointAction::Modify, admin);
        assert_eq!(code(result), Some(RefusalCode::NotFound));
        assert_eq!(
            code(check_change(None, SUPPLIER, EndpointAction::Create, admin)),
            None
        );
    }

    #[test]
    fn a_stale_version_is_a_failed_precondition() {
        let mut requester = by(Role::Admin, None);
        requester.expected_version = Some(2);
        let result = check_change(Some(&state()), SUPPLIER, EndpointAction::Modify, requester);
        assert_eq!(code(result), Some(RefusalCode::PreconditionFailed));
        requester.expected_version = Some(3);
        let result = check_change(Some(&state()), SUPPLIER, EndpointAction::Modify, requester);
        assert_eq!(code(result), None);
    }

    #[test]
    fn a_disabled_endpoint_takes_no_test_but_can_be_changed() {
        let disabled = EndpointState {
            enabled: false,
            ..state()
        };
        let admin = by(Role::Admin, None);
        for (action, expected) in [
            (
                EndpointAction::Test,
                Some(RefusalCode::WebhookEndpointDisabled),
            ),
            (
                EndpointAction::Disable,
                Some(RefusalCode::WebhookEndpointDisabled),
            ),
            (EndpointAction::Modify, None),
            (EndpointAction::Repair, None),
        ] {
            let result = check_change(Some(&disabled), SUPPLIER, action, admin);
            assert_eq!(code(result), expected, "{action:?}");
        }
    }
}
