//! What is held about a person (the export) and its erasure (pseudonymisation).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// The account as stored (without its password hash).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct AccountData {
    /// User id.
    pub id: Uuid,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Role.
    pub role: String,
    /// Organisation kind.
    pub org_type: String,
    /// Organisation.
    pub org_id: Option<Uuid>,
    /// Whether they may log in.
    pub active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// When the account was erased (its fields are a pseudonym since).
    pub erased_at: Option<DateTime<Utc>>,
}

/// One session (a refresh-token family).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct SessionData {
    /// Session id (the `sid` of its access tokens).
    pub session_id: Uuid,
    /// Login.
    pub started_at: DateTime<Utc>,
    /// Last refresh.
    pub last_refreshed_at: DateTime<Utc>,
    /// When its newest refresh token expires.
    pub expires_at: DateTime<Utc>,
    /// When it was ended (logout, revocation), if it was.
    pub ended_at: Option<DateTime<Utc>>,
}

/// The account, if it exists.
pub async fn account(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<AccountData>> {
    sqlx::query_as(
        "SELECT id, email, full_name, role, org_type, org_id, active, created_at, updated_at, \
         erased_at FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Every session of the account, newest first.
pub async fn sessions(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<SessionData>> {
    sqlx::query_as(
        "SELECT family_id AS session_id, min(issued_at) AS started_at, \
           max(issued_at) AS last_refreshed_at, max(expires_at) AS expires_at, \
           max(revoked_at) AS ended_at \
         FROM refresh_tokens WHERE user_id = $1 GROUP BY family_id ORDER BY min(issued_at) DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// Locks the account for its erasure: whether it was erased already, if it exists.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar("SELECT erased_at IS NOT NULL FROM users WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Whether account `id` was erased (false when there is none).
pub async fn is_erased(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND erased_at IS NOT NULL)",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Replaces every personal field of the account by a pseudonym and deactivates it; deletes
/// the client details (addresses, user agents) of every audit row they caused or that is
/// about them. The audit rows themselves are not touched (append-only): the personal fields
/// inside them are sealed with the person's key, which the caller destroys.
pub async fn pseudonymise(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    // '!' is no PHC string: no password verifies against it.
    sqlx::query(
        "UPDATE users SET email = 'erased-' || id || '@erased.invalid', full_name = 'Erased user', \
           password_hash = '!erased', active = false, erased_at = $2, updated_at = $2, \
           version = version + 1 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM audit_clients WHERE audit_id IN (SELECT id FROM audit_log \
           WHERE actor_user_id = $1 OR (entity_type = 'user' AND entity_id = $1))",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
