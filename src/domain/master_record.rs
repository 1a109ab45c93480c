//! Master data (products, suppliers, station groups, stations, users) as one kind of thing:
//! a record of editable fields with a version, created or patched by staff. Who may change a
//! kind, the order refusals rank in (403, 404, 412, 422, 409) and how a patch applies are
//! decided here once for every kind; each kind only says what its fields are and which of
//! them are unique.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::refusal::{FieldIssue, Refusal, RefusalCode};
use super::roles::Role;

/// A kind of master-data record.
pub trait MasterKind: Debug + Clone + Copy + PartialEq + Send + Sync + 'static {
    /// Its name in audit rows, aggregates and messages (`product`).
    const ENTITY: &'static str;
    /// Its fields, every one a client may set (the `active` flag too, where it has one).
    type Fields: Serialize + DeserializeOwned + Clone + PartialEq + Debug + Send + Sync + 'static;
    /// What a command of this kind carries besides the fields (a user's one-time password
    /// token hash); `()` for most.
    type Extra: Serialize
        + DeserializeOwned
        + Clone
        + PartialEq
        + Debug
        + Default
        + Send
        + Sync
        + 'static;

    /// Whether `role` may create or change records of this kind (default: MANAGER, ADMIN).
    fn may_change(role: Role) -> bool {
        matches!(role, Role::Admin | Role::Manager)
    }

    /// The rule-breaking fields of `fields`, each with its own code (pure; no lookups).
    fn issues(fields: &Self::Fields) -> Vec<FieldIssue>;

    /// The values of `fields` no other record of this kind may have.
    fn unique_keys(fields: &Self::Fields) -> Vec<UniqueKey>;
}

/// A value that must be unique among the records of a kind, and the refusal when it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueKey {
    /// The field (and column) holding it.
    pub field: &'static str,
    /// Its value.
    pub value: String,
    /// Compared case-insensitively (e-mails) or exactly (codes).
    pub case_insensitive: bool,
    /// The stable code of the 409.
    pub taken: RefusalCode,
}

/// What a command does to a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum RecordChange<F> {
    /// A new record (its id is the command's aggregate id).
    Create {
        /// Every field.
        fields: F,
    },
    /// The fields present in `patch` take its values (`null` clears an optional one).
    Update {
        /// Field name → new value.
        patch: Map<String, Value>,
    },
}

impl<F> RecordChange<F> {
    /// Whether the change makes a new record.
    pub fn creates(&self) -> bool {
        matches!(self, RecordChange::Create { .. })
    }
}

/// Checks a change of a record of kind `K` (`stored_version`: `None` when there is none) in
/// the order refusals rank: the role (403), existence (404; 409 for a creation of an existing
/// id), the version `If-Match` named (412).
pub fn check_change<K: MasterKind>(
    role: Role,
    creates: bool,
    stored_version: Option<i32>,
    expected_version: Option<i32>,
) -> Result<(), Refusal> {
    let entity = K::ENTITY.replace('_', " ");
    if !K::may_change(role) {
        return Err(Refusal::new(
            RefusalCode::Forbidden,
            format!("A {} may not change {entity}s.", role.as_str()),
        ));
    }
    match (creates, stored_version) {
        (true, None) => Ok(()),
        (true, Some(_)) => Err(Refusal::new(
            RefusalCode::InvalidTransition,
            format!("This {entity} exists already."),
        )),
        (false, None) => Err(Refusal::new(
            RefusalCode::NotFound,
            format!("No such {entity}."),
        )),
        (false, Some(version)) => match expected_version {
            Some(expected) if expected != version => Err(Refusal::new(
                RefusalCode::PreconditionFailed,
                format!("The {entity} is at version {version}, not {expected}."),
            )),
            _ => Ok(()),
        },
    }
}

/// `fields` with `patch` applied: each field present in the patch takes its value. A patch
/// naming an unknown field or giving a value of the wrong type is a 422 on that field.
pub fn patched<F: Serialize + DeserializeOwned>(
    fields: &F,
    patch: &Map<String, Value>,
) -> Result<F, Refusal> {
    let invalid = |field: &str, message: String| {
        Refusal::invalid(vec![FieldIssue::new(field, "INVALID", message)])
    };
    let mut object = match serde_json::to_value(fields) {
        Ok(Value::Object(object)) => object,
        _ => return Err(invalid("", "these fields cannot be patched".to_owned())),
    };
    for (name, value) in patch {
        if !object.contains_key(name) {
            return Err(invalid(
                name,
                format!("{name} is not a field of this resource"),
            ));
        }
        object.insert(name.clone(), value.clone());
    }
    serde_json::from_value(Value::Object(object)).map_err(|e| {
        let field = patch.keys().next().map_or("", String::as_str);
        invalid(field, format!("invalid value: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Thing;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct ThingFields {
        code: String,
        note: Option<String>,
        active: bool,
    }

    impl MasterKind for Thing {
        const ENTITY: &'static str = "thing";
        type Fields = ThingFields;
        type Extra = ();

        fn issues(_: &ThingFields) -> Vec<FieldIssue> {
            Vec::new()
        }

        fn unique_keys(_: &ThingFields) -> Vec<UniqueKey> {
            Vec::new()
        }
    }

    fn code(result: Result<(), Refusal>) -> Option<RefusalCode> {
        result.err().map(|r| r.code)
    }

    #[test]
    fn refusals_rank_role_then_existence_then_version() {
        use RefusalCode::*;
        let cases = [
            (Role::Handler, true, None, None, Some(Forbidden)),
            (Role::Station, false, Some(1), Some(9), Some(Forbidden)),
            (Role::Manager, true, None, None, None),
            (Role::Admin, true, Some(1), None, Some(InvalidTransition)),
            (Role::Manager, false, None, Some(1), Some(NotFound)),
            (
                Role::Manager,
                false,
                Some(2),
                Some(1),
                Some(PreconditionFailed),
            ),
            (Role::Manager, false, Some(2), Some(2), None),
            (Role::Admin, false, Some(2), None, None),
        ];
        for (role, creates, stored, expected, refusal) in cases {
            assert_eq!(
                code(check_change::<Thing>(role, creates, stored, expected)),
                refusal,
                "{role:?} creates={creates} stored={stored:?} expected={expected:?}"
            );
        }
    }

    #[test]
    fn a_patch_changes_only_the_fields_it_names() {
        let fields = ThingFields {
            code: "A".into(),
            note: Some("n".into()),
            active: true,
        };
        let patch = |v: Value| v.as_object().cloned().unwrap();
        let got = patched(&fields, &patch(json!({"active": false, "note": null}))).unwrap();
        assert_eq!(
            got,
            ThingFields {
                code: "A".into(),
                note: None,
                active: false
            }
        );
        assert_eq!(patched(&fields, &Map::new()).unwrap(), fields);
        let unknown = patched(&fields, &patch(json!({"colour": "red"}))).unwrap_err();
        assert_eq!(unknown.code, RefusalCode::ValidationFailed);
        assert_eq!(unknown.errors[0].field, "colour");
        let wrong_type = patched(&fields, &patch(json!({"active": "yes"}))).unwrap_err();
        assert_eq!(wrong_type.errors[0].field, "active");
    }
}
