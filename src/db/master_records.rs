//! Master-data records in their tables, for every kind at once: each kind names its table and
//! columns ([`MasterTable`]); loading, inserting, updating, the uniqueness look-up and the
//! API representation are one parameterised statement each, the row passing through
//! `to_jsonb` / `jsonb_populate_record` so no kind repeats them.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

use crate::domain::master_record::{MasterKind, UniqueKey};
use crate::domain::refusal::{FieldIssue, Refusal};

/// Where a kind of master data is stored, and what it stores besides its row.
pub trait MasterTable: MasterKind {
    /// The table (a constant of ours, never input).
    const TABLE: &'static str;
    /// The columns the fields set (constants of ours).
    const COLUMNS: &'static [&'static str];
    /// Columns derived from the fields: written, but not fields of their own.
    const DERIVED: &'static [&'static str] = &[];
    /// Columns never shown in the API (credentials, login bookkeeping).
    const HIDDEN: &'static [&'static str] = &[];
    /// Fields that are personal data about the record itself (a user's e-mail and name):
    /// sealed with the record's own key in its audit changes, so erasure can shred them.
    const PERSONAL: &'static [&'static str] = &[];

    /// The row as JSON for `jsonb_populate_record` (default: the fields themselves).
    fn row_json(fields: &Self::Fields) -> serde_json::Result<Value> {
        serde_json::to_value(fields)
    }

    /// Adds what is stored outside the row (a supplier's sites) to its JSON object.
    fn load_related(
        conn: &mut PgConnection,
        id: Uuid,
        object: &mut Map<String, Value>,
    ) -> impl Future<Output = sqlx::Result<()>> + Send {
        let _ = (conn, id, object);
        async { Ok(()) }
    }

    /// Fields naming records that do not exist (a station's group, a user's organisation).
    fn reference_issues(
        conn: &mut PgConnection,
        fields: &Self::Fields,
    ) -> impl Future<Output = sqlx::Result<Vec<FieldIssue>>> + Send {
        let _ = (conn, fields);
        async { Ok(Vec::new()) }
    }

    /// Why `actor` may not change record `id` from `before` to `after` though their role may
    /// change records of this kind (an erased user, an administrator's own access), if so.
    fn change_refusal(
        conn: &mut PgConnection,
        actor: Uuid,
        id: Uuid,
        (before, after): (&Self::Fields, &Self::Fields),
    ) -> impl Future<Output = sqlx::Result<Option<Refusal>>> + Send {
        let _ = (conn, actor, id, before, after);
        async { Ok(None) }
    }

    /// Writes what the change means outside the row, in the command's transaction, and
    /// returns what the audit row says about it.
    fn write_related(
        conn: &mut PgConnection,
        write: RelatedWrite<'_, Self>,
    ) -> impl Future<Output = sqlx::Result<RelatedAudit>> + Send {
        let _ = (conn, write);
        async { Ok(RelatedAudit::default()) }
    }
}

/// What [`MasterTable::write_related`] adds to the change's audit row.
#[derive(Debug, Default)]
pub struct RelatedAudit {
    /// The row's reason.
    pub reason: Option<String>,
    /// A more specific action than UPDATE (a user's deactivation is a security event).
    pub action: Option<crate::domain::audit::AuditAction>,
}

/// One applied change, as [`MasterTable::write_related`] sees it.
#[derive(Debug)]
pub struct RelatedWrite<'a, K: MasterKind> {
    /// The record.
    pub id: Uuid,
    /// Its fields before (none for a creation).
    pub before: Option<&'a K::Fields>,
    /// Its fields now.
    pub after: &'a K::Fields,
    /// What the command carried besides.
    pub extra: &'a K::Extra,
    /// The command.
    pub command_id: Uuid,
    /// The transaction's instant.
    pub now: DateTime<Utc>,
}

/// A stored record: id, version and fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<F> {
    /// Id.
    pub id: Uuid,
    /// Version (1 when created, +1 per change).
    pub version: i32,
    /// Fields.
    pub fields: F,
}

fn corrupt(e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(e.to_string().into())
}

fn encode(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(e))
}

/// The record `id` of kind `K`; with `lock`, locked for the rest of the transaction.
pub async fn load<K: MasterTable>(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Stored<K::Fields>>> {
    let sql = format!(
        "SELECT to_jsonb(t) FROM {} t WHERE id = $1{}",
        K::TABLE,
        if lock { " FOR UPDATE" } else { "" }
    );
    let row: Option<Value> = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(Value::Object(row)) = row else {
        return Ok(None);
    };
    let version = row
        .get("version")
        .and_then(Value::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| corrupt(format!("{} {id} has no version", K::TABLE)))?;
    let mut object: Map<String, Value> = row
        .into_iter()
        .filter(|(k, _)| K::COLUMNS.contains(&k.as_str()) && !K::DERIVED.contains(&k.as_str()))
        .collect();
    K::load_related(conn, id, &mut object).await?;
    let fields = serde_json::from_value(Value::Object(object)).map_err(corrupt)?;
    Ok(Some(Stored {
        id,
        version,
        fields,
    }))
}

/// Inserts a new record at version 1.
pub async fn insert<K: MasterTable>(
    conn: &mut PgConnection,
    id: Uuid,
    fields: &K::Fields,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let columns = K::COLUMNS.join(", ");
    let sql = format!(
        "INSERT INTO {table} (id, version, created_at, updated_at, {columns}) \
         SELECT $1, 1, $3, $3, {columns} FROM jsonb_populate_record(NULL::{table}, $2)",
        table = K::TABLE
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .bind(K::row_json(fields).map_err(encode)?)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes the fields of an existing record at `version`.
pub async fn update<K: MasterTable>(
    conn: &mut PgConnection,
    record: &Stored<K::Fields>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let columns = K::COLUMNS.join(", ");
    let sql = format!(
        "UPDATE {table} SET ({columns}, version, updated_at) = \
         (SELECT {columns}, $3, $4 FROM jsonb_populate_record(NULL::{table}, $2)) WHERE id = $1",
        table = K::TABLE
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(record.id)
        .bind(K::row_json(&record.fields).map_err(encode)?)
        .bind(record.version)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a record of kind `K` other than `id` holds `key`'s value.
pub async fn taken<K: MasterTable>(
    conn: &mut PgConnection,
    key: &UniqueKey,
    id: Uuid,
) -> sqlx::Result<bool> {
    let column = K::COLUMNS
        .iter()
        .find(|c| **c == key.field)
        .ok_or_else(|| corrupt(format!("{} has no column {}", K::TABLE, key.field)))?;
    let compared = if key.case_insensitive {
        format!("lower({column}) = lower($1)")
    } else {
        format!("{column} = $1")
    };
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE {compared} AND id <> $2)",
        K::TABLE
    );
    sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(&key.value)
        .bind(id)
        .fetch_one(conn)
        .await
}

/// The API representation of record `id`: its row without the hidden columns, with what is
/// stored beside it.
pub async fn view<K: MasterTable>(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Value>> {
    let sql = format!(
        "SELECT to_jsonb(t) - $2::text[] FROM {} t WHERE id = $1",
        K::TABLE
    );
    let hidden: Vec<&str> = K::HIDDEN.to_vec();
    let row: Option<Value> = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(id)
        .bind(hidden)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(Value::Object(mut object)) = row else {
        return Ok(None);
    };
    K::load_related(conn, id, &mut object).await?;
    Ok(Some(Value::Object(object)))
}

/// Whether a row `id` exists in `table` (a constant of ours).
pub async fn exists(conn: &mut PgConnection, table: &str, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)"
    )))
    .bind(id)
    .fetch_one(conn)
    .await
}
