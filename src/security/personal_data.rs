//! Personal fields sealed per person (crypto-shredding): inside audit changes, and so inside
//! the events that publish them, a user's e-mail and name are stored encrypted with a key of
//! that user's own. Erasure destroys the key; the append-only rows stay as they are and what
//! was sealed reads [`ERASED`] from then on.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::secret_box::SecretBox;

/// What a sealed value starts with.
pub const SEALED_PREFIX: &str = "pd1:";
/// What a sealed value reads once its key is destroyed.
pub const ERASED: &str = "[ERASED]";

/// A person's key (32 random bytes, kept in `personal_data_keys`).
pub type PersonKey = [u8; 32];

/// A new random key.
pub fn new_key() -> PersonKey {
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
    key
}

/// `value` sealed for `person` (bound to them: it opens with their key and id only).
pub fn seal(key: &PersonKey, person: Uuid, value: &Value) -> Value {
    let plain = serde_json::to_vec(value).unwrap_or_default();
    let sealed = SecretBox::new(*key).seal(&plain, person.as_bytes());
    Value::String(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed)))
}

/// Seals the old and new values of `fields` in a `{field: {old, new}}` diff (nulls stay null:
/// setting or clearing a field stays visible).
pub fn seal_fields(
    changes: &mut Map<String, Value>,
    fields: &[&str],
    key: &PersonKey,
    person: Uuid,
) {
    for field in fields {
        let Some(Value::Object(change)) = changes.get_mut(*field) else {
            continue;
        };
        for side in change.values_mut() {
            if !side.is_null() {
                *side = seal(key, person, side);
            }
        }
    }
}

/// `value` with every sealed string opened with `key` (or [`ERASED`] without one).
pub fn open_all(value: &Value, key: Option<&PersonKey>, person: Uuid) -> Value {
    match value {
        Value::String(text) => match text.strip_prefix(SEALED_PREFIX) {
            Some(sealed) => open(sealed, key, person).unwrap_or_else(|| ERASED.into()),
            None => value.clone(),
        },
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| open_all(v, key, person)).collect())
        }
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), open_all(v, key, person)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether `value` holds a sealed string anywhere.
pub fn is_sealed(value: &Value) -> bool {
    match value {
        Value::String(text) => text.starts_with(SEALED_PREFIX),
        Value::Array(items) => items.iter().any(is_sealed),
        Value::Object(fields) => fields.values().any(is_sealed),
        _ => false,
    }
}

fn open(sealed: &str, key: Option<&PersonKey>, person: Uuid) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let plain = SecretBox::new(*key?).open(&bytes, person.as_bytes()).ok()?;
    serde_json::from_slice(&plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sealed_fields_open_with_the_persons_key_only_and_read_erased_without_it() {
        let (key, person) = (new_key(), Uuid::from_u128(5));
        let mut changes = json!({
            "email": {"old": null, "new": "ana@example.test"},
            "role": {"old": null, "new": "STATION"}
        });
        seal_fields(
            changes.as_object_mut().unwrap(),
            &["email", "full_name"],
            &key,
            person,
        );
        let text = changes.to_string();
        assert!(!text.contains("ana@"), "{text}");
        assert!(is_sealed(&changes));
        assert_eq!(changes["email"]["old"], Value::Null);
        assert_eq!(changes["role"]["new"], "STATION");
        assert_eq!(
            open_all(&changes, Some(&key), person)["email"]["new"],
            "ana@example.test"
        );
        assert_eq!(open_all(&changes, None, person)["email"]["new"], ERASED);
        let other = Uuid::from_u128(6);
        assert_eq!(
            open_all(&changes, Some(&key), other)["email"]["new"],
            ERASED
        );
        assert_eq!(
            open_all(&changes, Some(&new_key()), person)["email"]["new"],
            ERASED
        );
    }
}
