//! Refresh-token families (rotation with reuse detection).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::revoked_sessions;

/// A stored refresh token (the hash itself is not read back).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    /// Token id.
    pub id: Uuid,
    /// The login it belongs to.
    pub family_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Set once exchanged for a new pair.
    pub spent_at: Option<DateTime<Utc>>,
    /// Set when its family was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Stores a new token of a family.
pub async fn insert(
    conn: &mut PgConnection,
    family_id: Uuid,
    user_id: Uuid,
    hash: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(family_id)
    .bind(user_id)
    .bind(hash)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The token with this hash, locked for the rest of the transaction so two concurrent
/// refreshes with one token cannot both succeed.
pub async fn find_for_update(
    conn: &mut PgConnection,
    hash: &[u8],
) -> sqlx::Result<Option<RefreshTokenRow>> {
    sqlx::query_as(
        "SELECT id, family_id, user_id, expires_at, spent_at, revoked_at \
         FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(hash)
    .fetch_optional(conn)
    .await
}

/// Marks a token spent.
pub async fn mark_spent(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("UPDATE refresh_tokens SET spent_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends a session: revokes every token of its family (logout, reuse of a spent token) and
/// records it in `revoked_sessions`, so its access tokens are refused too.
pub async fn revoke_family(
    conn: &mut PgConnection,
    family_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    revoked_sessions::revoke(conn, user_id, &[family_id], now).await
}

/// Ends every session of a user (deactivation, a password change, erasure); returns the
/// sessions that were still live.
pub async fn revoke_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Uuid>> {
    let sessions: Vec<Uuid> = sqlx::query_scalar(
        "WITH revoked AS (UPDATE refresh_tokens SET revoked_at = $2 \
           WHERE user_id = $1 AND revoked_at IS NULL RETURNING family_id) \
         SELECT DISTINCT family_id FROM revoked",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    revoked_sessions::revoke(conn, user_id, &sessions, now).await?;
    Ok(sessions)
}
