//! Who may move a purchase order from which status to which (DESIGN.md §5.4).
//!
//! One pure decision used twice: by the ingress against the read model (an immediate 404, 403
//! or 409 that publishes nothing) and by the worker under the row lock (the authoritative one).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::purchase_order_status::PurchaseOrderStatus;
use super::roles::{Role, Scope};

/// A lifecycle step someone asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    /// REGISTERED → CONFIRMED.
    Confirm,
    /// CONFIRMED → SHIPPED.
    Ship,
    /// SHIPPED → RECEIVED.
    Receive,
    /// RECEIVED → CLOSED.
    Close,
    /// REGISTERED or CONFIRMED → CANCELLED.
    Cancel,
    /// CLOSED → INVOICED.
    Invoice,
    /// Any non-terminal status → ARCHIVED.
    Archive,
}

impl TransitionKind {
    /// Every transition, in lifecycle order.
    pub const ALL: [TransitionKind; 7] = [
        TransitionKind::Confirm,
        TransitionKind::Ship,
        TransitionKind::Receive,
        TransitionKind::Close,
        TransitionKind::Cancel,
        TransitionKind::Invoice,
        TransitionKind::Archive,
    ];

    /// The verb as it appears in URLs and payloads.
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionKind::Confirm => "confirm",
            TransitionKind::Ship => "ship",
            TransitionKind::Receive => "receive",
            TransitionKind::Close => "close",
            TransitionKind::Cancel => "cancel",
            TransitionKind::Invoice => "invoice",
            TransitionKind::Archive => "archive",
        }
    }

    /// The status this transition leads to.
    pub fn target(self) -> PurchaseOrderStatus {
        use PurchaseOrderStatus as S;
        match self {
            TransitionKind::Confirm => S::Confirmed,
            TransitionKind::Ship => S::Shipped,
            TransitionKind::Receive => S::Received,
            TransitionKind::Close => S::Closed,
            TransitionKind::Cancel => S::Cancelled,
            TransitionKind::Invoice => S::Invoiced,
            TransitionKind::Archive => S::Archived,
        }
    }
}

impl fmt::Display for TransitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TransitionKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TransitionKind::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or(())
    }
}

/// The parties of one purchase order, as far as permissions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseOrderParties {
    /// The supplier the order goes to.
    pub supplier_id: Uuid,
    /// The station it is delivered to.
    pub station_id: Uuid,
}

/// How the actor relates to the purchase order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Staff(Role),
    OwnStation,
    OwnSupplier,
    Stranger,
}

fn relation(role: Role, org_id: Option<Uuid>, parties: PurchaseOrderParties) -> Relation {
    match Scope::of(role, org_id) {
        Scope::All => Relation::Staff(role),
        Scope::Station(own) if own == parties.station_id => Relation::OwnStation,
        Scope::Supplier(own) if own == parties.supplier_id => Relation::OwnSupplier,
        _ => Relation::Stranger,
    }
}

/// Why a transition is refused, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionRefusal {
    /// Another organisation's purchase order: answered as if it did not exist.
    NotVisible,
    /// This actor may never make this transition (a station confirming, a supplier receiving).
    Forbidden,
    /// The purchase order is not in a status this actor may start the transition from.
    InvalidTransition {
        /// Where the purchase order stands.
        from: PurchaseOrderStatus,
        /// Where the transition would lead.
        to: PurchaseOrderStatus,
    },
}

/// The statuses `relation` may start `kind` from; empty when it may never do it.
fn allowed_from(kind: TransitionKind, relation: Relation) -> &'static [PurchaseOrderStatus] {
    use PurchaseOrderStatus as S;
    use Relation as R;
    use TransitionKind as T;
    const NON_TERMINAL: &[S] = &[
        S::Registered,
        S::Confirmed,
        S::Shipped,
        S::Received,
        S::Closed,
        S::Invoiced,
    ];
    match (kind, relation) {
        (_, R::Stranger) => &[],
        (T::Confirm, R::Staff(_) | R::OwnSupplier) => &[S::Registered],
        (T::Ship, R::Staff(_) | R::OwnSupplier) => &[S::Confirmed],
        (T::Receive, R::Staff(_) | R::OwnStation) => &[S::Shipped],
        (T::Close, R::Staff(_) | R::OwnStation) => &[S::Received],
        (T::Cancel, R::Staff(_) | R::OwnStation) => &[S::Registered, S::Confirmed],
        (T::Cancel, R::OwnSupplier) => &[S::Registered],
        (T::Invoice, R::Staff(_)) => &[S::Closed],
        (T::Archive, R::Staff(Role::Admin | Role::Manager)) => NON_TERMINAL,
        (T::Archive, R::Staff(_)) => &[S::Invoiced],
        _ => &[],
    }
}

/// Decides whether `role` of organisation `org_id` may apply `kind` to a purchase order with
/// these parties, now in status `current`. Returns the new status.
pub fn decide_transition(
    kind: TransitionKind,
    role: Role,
    org_id: Option<Uuid>,
    parties: PurchaseOrderParties,
    current: PurchaseOrderStatus,
) -> Result<PurchaseOrderStatus, TransitionRefusal> {
    let relation = relation(role, org_id, parties);
    if relation == Relation::Stranger {
        return Err(TransitionRefusal::NotVisible);
    }
    let from = allowed_from(kind, relation);
    if from.is_empty() {
        return Err(TransitionRefusal::Forbidden);
    }
    if !from.contains(&current) {
        return Err(TransitionRefusal::InvalidTransition {
            from: current,
            to: kind.target(),
        });
    }
    Ok(kind.target())
}

/// Whether `role` could ever make `kind` on some purchase order (for the 403 before any lookup).
pub fn role_may_ever(kind: TransitionKind, role: Role) -> bool {
    let relation = match role {
        Role::Station => Relation::OwnStation,
        Role::Supplier => Relation::OwnSupplier,
        staff => Relation::Staff(staff),
    };
    !allowed_from(kind, relation).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use PurchaseOrderStatus::*;
    use TransitionKind::*;

    const STATION: Uuid = Uuid::from_u128(1);
    const OTHER_STATION: Uuid = Uuid::from_u128(2);
    const SUPPLIER: Uuid = Uuid::from_u128(3);
    const OTHER_SUPPLIER: Uuid = Uuid::from_u128(4);
    const PO: PurchaseOrderParties = PurchaseOrderParties {
        supplier_id: SUPPLIER,
        station_id: STATION,
    };

    /// Actors: (label, role, organisation).
    const ACTORS: [(&str, Role, Option<Uuid>); 7] = [
        ("admin", Role::Admin, None),
        ("manager", Role::Manager, None),
        ("handler", Role::Handler, None),
        ("own station", Role::Station, Some(STATION)),
        ("other station", Role::Station, Some(OTHER_STATION)),
        ("own supplier", Role::Supplier, Some(SUPPLIER)),
        ("other supplier", Role::Supplier, Some(OTHER_SUPPLIER)),
    ];

    /// The statuses each (transition, actor) may start from; `None` = 403, strangers 404.
    fn expected(kind: TransitionKind, actor: &str) -> Option<&'static [PurchaseOrderStatus]> {
        let non_terminal: &'static [PurchaseOrderStatus] =
            &[Registered, Confirmed, Shipped, Received, Closed, Invoiced];
        let staff = matches!(actor, "admin" | "manager" | "handler");
        match (kind, actor) {
            (Confirm, _) if staff || actor == "own supplier" => Some(&[Registered]),
            (Ship, _) if staff || actor == "own supplier" => Some(&[Confirmed]),
            (Receive, _) if staff || actor == "own station" => Some(&[Shipped]),
            (Close, _) if staff || actor == "own station" => Some(&[Received]),
            (Cancel, _) if staff || actor == "own station" => Some(&[Registered, Confirmed]),
            (Cancel, "own supplier") => Some(&[Registered]),
            (Invoice, _) if staff => Some(&[Closed]),
            (Archive, "admin" | "manager") => Some(non_terminal),
            (Archive, "handler") => Some(&[Invoiced]),
            _ => None,
        }
    }

    #[test]
    fn every_status_transition_and_actor() {
        let mut checked = 0;
        for kind in TransitionKind::ALL {
            for (label, role, org) in ACTORS {
                for current in PurchaseOrderStatus::ALL {
                    let got = decide_transition(kind, role, org, PO, current);
                    let want = if label.starts_with("other") {
                        Err(TransitionRefusal::NotVisible)
                    } else {
                        match expected(kind, label) {
                            None => Err(TransitionRefusal::Forbidden),
                            Some(from) if from.contains(&current) => Ok(kind.target()),
                            Some(_) => Err(TransitionRefusal::InvalidTransition {
                                from: current,
                                to: kind.target(),
                            }),
                        }
                    };
                    assert_eq!(got, want, "{kind} by {label} from {current}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 7 * 8);
    }

    #[test]
    fn terminal_statuses_leave_to_nothing() {
        for kind in TransitionKind::ALL {
            for current in [Cancelled, Archived] {
                assert!(matches!(
                    decide_transition(kind, Role::Admin, None, PO, current),
                    Err(TransitionRefusal::InvalidTransition { .. })
                ));
            }
        }
    }

    #[test]
    fn spot_checks_of_the_issue_table() {
        // A station confirming and a supplier receiving are never allowed: 403.
        assert_eq!(
            decide_transition(Confirm, Role::Station, Some(STATION), PO, Registered),
            Err(TransitionRefusal::Forbidden)
        );
        assert_eq!(
            decide_transition(Receive, Role::Supplier, Some(SUPPLIER), PO, Shipped),
            Err(TransitionRefusal::Forbidden)
        );
        // The supplier cancels only what it has not confirmed.
        assert_eq!(
            decide_transition(Cancel, Role::Supplier, Some(SUPPLIER), PO, Confirmed),
            Err(TransitionRefusal::InvalidTransition {
                from: Confirmed,
                to: Cancelled
            })
        );
        assert_eq!(
            decide_transition(Archive, Role::Handler, None, PO, Invoiced),
            Ok(Archived)
        );
    }

    #[test]
    fn role_may_ever_matches_the_table() {
        for kind in TransitionKind::ALL {
            for (label, role, _) in ACTORS.iter().filter(|a| !a.0.starts_with("other")) {
                assert_eq!(
                    role_may_ever(kind, *role),
                    expected(kind, label).is_some(),
                    "{kind} {label}"
                );
            }
        }
    }

    #[test]
    fn verbs_round_trip() {
        for kind in TransitionKind::ALL {
            assert_eq!(kind.as_str().parse::<TransitionKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert!("teleport".parse::<TransitionKind>().is_err());
    }
}
