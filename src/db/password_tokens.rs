//! One-time password tokens (an admin's reset, a new user's first password): only the SHA-256
//! of a token is stored; a token sets a password once, before it expires.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::user_terms::PasswordGrant;

/// A stored token (its hash is not read back).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasswordTokenRow {
    /// Token id.
    pub id: Uuid,
    /// Whose password it sets.
    pub user_id: Uuid,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Set once it set a password.
    pub used_at: Option<DateTime<Utc>>,
    /// Set when a newer token replaced it.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Stores a new token of `user_id` (its id derived from the command) and revokes the user's
/// earlier unused ones: only the newest reset works.
pub async fn issue(
    conn: &mut PgConnection,
    user_id: Uuid,
    grant: &PasswordGrant,
    command_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE password_reset_tokens SET revoked_at = $2 \
         WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO password_reset_tokens (id, user_id, token_hash, issued_at, expires_at, command_id) \
         VALUES ($1, $2, decode($3, 'hex'), $4, $5, $6)",
    )
    .bind(Uuid::new_v5(&command_id, b"password_reset_token"))
    .bind(user_id)
    .bind(&grant.token_sha256)
    .bind(now)
    .bind(grant.expires_at)
    .bind(command_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The token with this hash, locked for the rest of the transaction (two uses of one token
/// cannot both succeed).
pub async fn find_for_update(
    conn: &mut PgConnection,
    hash: &[u8],
) -> sqlx::Result<Option<PasswordTokenRow>> {
    sqlx::query_as(
        "SELECT id, user_id, expires_at, used_at, revoked_at FROM password_reset_tokens \
         WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(hash)
    .fetch_optional(conn)
    .await
}

/// Marks a token used.
pub async fn mark_used(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("UPDATE password_reset_tokens SET used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
