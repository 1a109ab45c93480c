//! Users and their login bookkeeping.

use std::fmt;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A user row, credential included: never serialised, and its Debug hides the hash.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Id.
    pub id: Uuid,
    /// Login email.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role spelling.
    pub role: String,
    /// Organisation kind spelling.
    pub org_type: String,
    /// Organisation id.
    pub org_id: Option<Uuid>,
    /// Whether the user may log in.
    pub active: bool,
}

impl fmt::Debug for UserRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("org_id", &self.org_id)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, email, full_name, password_hash, role, org_type, org_id, active";

/// The user with this email, compared case-insensitively.
pub async fn find_by_email(pool: &PgPool, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE lower(email) = lower($1)"
    )))
    .bind(email)
    .fetch_optional(pool)
    .await
}

/// The user with this id.
pub async fn find_by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Name of the user's organisation.
pub async fn organization_name(
    pool: &PgPool,
    org_type: &str,
    org_id: Option<Uuid>,
) -> sqlx::Result<Option<String>> {
    let Some(org_id) = org_id else {
        return Ok(Some("Blue Whale".to_owned()));
    };
    let sql = match org_type {
        "STATION" => "SELECT name FROM stations WHERE id = $1",
        "SUPPLIER" => "SELECT name FROM suppliers WHERE id = $1",
        _ => return Ok(None),
    };
    sqlx::query_scalar(sql)
        .bind(org_id)
        .fetch_optional(pool)
        .await
}

/// Sets a user's password hash (and clears the failed-login lock) at a new version.
pub async fn set_password_hash(
    conn: &mut PgConnection,
    user_id: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $2, version = version + 1, updated_at = $3 WHERE id = $1",
    )
    .bind(user_id)
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A user as the user list shows it (no credential fields).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct UserListItem {
    /// Id.
    pub id: Uuid,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Role.
    pub role: String,
    /// `BLUEWHALE`, `STATION` or `SUPPLIER`.
    pub org_type: String,
    /// The station or supplier.
    pub org_id: Option<Uuid>,
    /// Whether they may log in.
    pub active: bool,
    /// Version (the `ETag` of `GET /users/{id}`).
    pub version: i32,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Users matching `search` (e-mail or name) and, if given, having `role`.
pub async fn list(
    pool: &PgPool,
    search: &super::catalogue::Search,
    role: Option<&str>,
    page: super::page::PageRequest,
) -> sqlx::Result<super::page::Paged<UserListItem>> {
    use super::catalogue::{USER_KEYS, search_sql_on};
    let filter = format!(
        "{} AND ($3::text IS NULL OR role = $3)",
        search_sql_on("", 1, USER_KEYS)
    );
    let pattern = search.pattern();
    let items = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, email, full_name, role, org_type, org_id, active, version, created_at, \
         updated_at FROM users WHERE {filter} ORDER BY {} LIMIT $4 OFFSET $5",
        search.sort.sql_on("", USER_KEYS)
    )))
    .bind(&pattern)
    .bind(search.active)
    .bind(role)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM users WHERE {filter}"
    )))
    .bind(&pattern)
    .bind(search.active)
    .bind(role)
    .fetch_one(pool)
    .await?;
    Ok(super::page::Paged { items, total })
}
