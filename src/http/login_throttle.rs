//! The login and refresh limits, applied (policy in [`crate::domain::login_limits`]).
//!
//! Counters live in PostgreSQL, so they hold across every ingress. Known and unknown e-mails
//! go through exactly the same counters and delays: a 429 or a slow answer never tells
//! whether an account exists.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::config::LoginLimitConfig;
use crate::db::login_limits::{self, Window};
use crate::domain::login_limits::{LimitKey, slowdown};

/// Why an attempt was refused before any password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the window that refused it ends.
    pub retry_after_secs: u64,
    /// Whether this is the first refusal of the window (it is audited; the rest are not, so
    /// a flood cannot flood the audit log).
    pub first: bool,
}

/// Applies [`LoginLimitConfig`] through the shared counters.
pub struct LoginLimits {
    config: LoginLimitConfig,
}

impl LoginLimits {
    /// Limits with these settings.
    pub fn new(config: LoginLimitConfig) -> Self {
        Self { config }
    }

    /// Before a login (or a current-password check): counts the attempt against the address,
    /// refuses an address over its limits, then waits the account's slowdown.
    pub async fn before_login(
        &self,
        db: &PgPool,
        email: &str,
        ip: IpAddr,
    ) -> sqlx::Result<Result<(), Throttled>> {
        let now = Utc::now();
        let mut conn = db.acquire().await?;
        let address = LimitKey::LoginAddress(ip).digest();
        let hit = login_limits::hit(&mut conn, &address, self.config.address_window, now).await?;
        if let Some(throttled) = over(hit, self.config.login_per_address, now) {
            return Ok(Err(throttled));
        }
        let window = self.config.failure_window;
        let pair = LimitKey::AccountAddress(email, ip).digest();
        let pair = login_limits::read(&mut conn, &pair, window, now).await?;
        if pair.hits >= self.config.max_failures {
            return Ok(Err(Throttled {
                retry_after_secs: seconds_until(pair.ends_at, now),
                first: false,
            }));
        }
        let account = LimitKey::Account(email).digest();
        let account = login_limits::read(&mut conn, &account, window, now).await?;
        drop(conn);
        let delay = slowdown(
            account.hits,
            self.config.slowdown_after,
            self.config.slowdown_base,
            self.config.slowdown_max,
        );
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(Ok(()))
    }

    /// Counts a wrong password; `Some` when this failure made the address refused for the
    /// account (audited as the throttle's start).
    pub async fn failed(
        &self,
        db: &PgPool,
        email: &str,
        ip: IpAddr,
    ) -> sqlx::Result<Option<Throttled>> {
        let now = Utc::now();
        let window = self.config.failure_window;
        let mut tx = db.begin().await?;
        let account = LimitKey::Account(email).digest();
        login_limits::hit(&mut tx, &account, window, now).await?;
        let pair = LimitKey::AccountAddress(email, ip).digest();
        let pair = login_limits::hit(&mut tx, &pair, window, now).await?;
        tx.commit().await?;
        Ok((pair.hits == self.config.max_failures).then(|| Throttled {
            retry_after_secs: seconds_until(pair.ends_at, now),
            first: true,
        }))
    }

    /// A right password: that address's failures on the account are forgotten (the account's
    /// own count decays with its window, so an attacker cannot reset it by logging in
    /// elsewhere).
    pub async fn succeeded(&self, db: &PgPool, email: &str, ip: IpAddr) -> sqlx::Result<()> {
        let mut conn = db.acquire().await?;
        login_limits::clear(&mut conn, &LimitKey::AccountAddress(email, ip).digest()).await
    }

    /// Before a refresh: counts it against the address.
    pub async fn before_refresh(
        &self,
        db: &PgPool,
        ip: IpAddr,
    ) -> sqlx::Result<Result<(), Throttled>> {
        let now = Utc::now();
        let mut conn = db.acquire().await?;
        let key = LimitKey::RefreshAddress(ip).digest();
        let hit = login_limits::hit(&mut conn, &key, self.config.address_window, now).await?;
        Ok(over(hit, self.config.refresh_per_address, now).map_or(Ok(()), Err))
    }
}

fn over(hit: Window, limit: u32, now: DateTime<Utc>) -> Option<Throttled> {
    (hit.hits > limit).then(|| Throttled {
        retry_after_secs: seconds_until(hit.ends_at, now),
        first: hit.hits == limit + 1,
    })
}

fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let millis = u64::try_from((until - now).num_milliseconds()).unwrap_or(0);
    millis.div_ceil(1000).max(1)
}
