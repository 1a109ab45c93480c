//! Per-person keys of sealed personal fields (`personal_data_keys`); erasure deletes one.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::security::personal_data::{PersonKey, new_key};

fn to_key(bytes: Vec<u8>) -> Option<PersonKey> {
    bytes.try_into().ok()
}

/// The person's key, made on first use (racing makers agree on the first one stored).
pub async fn get_or_create(conn: &mut PgConnection, person: Uuid) -> sqlx::Result<PersonKey> {
    sqlx::query(
        "INSERT INTO personal_data_keys (user_id, key) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(person)
    .bind(new_key().as_slice())
    .execute(&mut *conn)
    .await?;
    let bytes: Vec<u8> =
        sqlx::query_scalar("SELECT key FROM personal_data_keys WHERE user_id = $1")
            .bind(person)
            .fetch_one(conn)
            .await?;
    to_key(bytes).ok_or_else(|| sqlx::Error::Decode("personal data key of a wrong length".into()))
}

/// The keys of these people that still exist.
pub async fn find_many(pool: &PgPool, people: &[Uuid]) -> sqlx::Result<HashMap<Uuid, PersonKey>> {
    if people.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Vec<u8>)> =
        sqlx::query_as("SELECT user_id, key FROM personal_data_keys WHERE user_id = ANY($1)")
            .bind(people)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, bytes)| Some((id, to_key(bytes)?)))
        .collect())
}

/// Destroys the person's key: what was sealed with it can never be read again.
pub async fn destroy(conn: &mut PgConnection, person: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM personal_data_keys WHERE user_id = $1")
        .bind(person)
        .execute(conn)
        .await?;
    Ok(())
}
