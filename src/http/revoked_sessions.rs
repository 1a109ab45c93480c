//! The sessions whose access tokens this ingress refuses, kept in memory.
//!
//! Checking a token must not cost a query, and a revocation must reach every ingress within
//! moments: the set is reloaded from `revoked_sessions` whenever PostgreSQL notifies an
//! insert (LISTEN), and every few seconds anyway in case a notification was lost while the
//! listening connection was down. Only sessions revoked within an access token's lifetime
//! are kept; older ones have no live token left.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::db::revoked_sessions;

#[derive(Default)]
struct Sets {
    /// As of the last load.
    loaded: HashSet<Uuid>,
    /// Ended by this ingress, with when: a load that began before the commit misses them.
    ended_here: HashMap<Uuid, Instant>,
}

/// Reload period while notifications arrive (a safety net only).
const RELOAD_EVERY: Duration = Duration::from_secs(5);
/// Reload period while the listening connection is down.
const RELOAD_EVERY_WITHOUT_LISTENER: Duration = Duration::from_secs(1);
/// Margin over the token lifetime (clock skew, the verifier's leeway).
const HORIZON_MARGIN: Duration = Duration::from_secs(60);
/// How long a session ended here is kept apart from the loaded set: longer than any load
/// that began before its revocation was committed can take.
const KEEP_ENDED_HERE: Duration = Duration::from_secs(60);

/// The revoked sessions of the last access-token lifetime.
pub struct RevokedSessions {
    sessions: RwLock<Sets>,
    loaded: AtomicBool,
    first_load: Notify,
}

impl RevokedSessions {
    /// Starts keeping the set current from `db` (call inside the runtime); tokens are checked
    /// only once the first load is done.
    pub fn spawn(db: PgPool, token_ttl: Duration) -> Arc<Self> {
        let set = Arc::new(Self {
            sessions: RwLock::default(),
            loaded: AtomicBool::new(false),
            first_load: Notify::new(),
        });
        tokio::spawn(keep_current(
            Arc::downgrade(&set),
            db,
            token_ttl + HORIZON_MARGIN,
        ));
        set
    }

    /// Whether `session` was revoked (waits for the first load on a fresh ingress).
    pub async fn is_revoked(&self, session: Uuid) -> bool {
        while !self.loaded.load(Ordering::Acquire) {
            let notified = self.first_load.notified();
            if self.loaded.load(Ordering::Acquire) {
                break;
            }
            notified.await;
        }
        let sets = self.sessions.read().unwrap_or_else(|e| e.into_inner());
        sets.loaded.contains(&session) || sets.ended_here.contains_key(&session)
    }

    /// Refuses `sessions` on this ingress at once, once their revocation is committed: the
    /// ingress that ended a session does not wait for the notification to come round.
    pub fn add(&self, sessions: impl IntoIterator<Item = Uuid>) {
        let now = Instant::now();
        let mut sets = self.sessions.write().unwrap_or_else(|e| e.into_inner());
        sets.ended_here
            .extend(sessions.into_iter().map(|s| (s, now)));
    }

    fn replace(&self, sessions: HashSet<Uuid>) {
        {
            let mut sets = self.sessions.write().unwrap_or_else(|e| e.into_inner());
            sets.loaded = sessions;
            sets.ended_here
                .retain(|_, at| at.elapsed() < KEEP_ENDED_HERE);
        }
        if !self.loaded.swap(true, Ordering::AcqRel) {
            self.first_load.notify_waiters();
        }
    }
}

async fn keep_current(set: std::sync::Weak<RevokedSessions>, db: PgPool, horizon: Duration) {
    let horizon = chrono::Duration::from_std(horizon).unwrap_or(chrono::Duration::hours(1));
    let mut listener: Option<PgListener> = None;
    loop {
        if listener.is_none() {
            listener = listen(&db).await;
        }
        // Listen first, then load: an insert between the two is still seen by the next load.
        match revoked_sessions::since(&db, chrono::Utc::now() - horizon).await {
            Ok(sessions) => match set.upgrade() {
                Some(set) => set.replace(sessions.into_iter().collect()),
                None => return,
            },
            Err(error) => tracing::warn!(%error, "revoked sessions not reloaded"),
        }
        let period = if listener.is_some() {
            RELOAD_EVERY
        } else {
            RELOAD_EVERY_WITHOUT_LISTENER
        };
        let notified = async {
            match listener.as_mut() {
                Some(l) => l.try_recv().await.map(|n| n.is_some()),
                None => std::future::pending().await,
            }
        };
        match tokio::time::timeout(period, notified).await {
            Ok(Ok(true)) | Err(_) => {}
            // The connection dropped (notifications may have been missed: reload now).
            Ok(Ok(false)) => listener = None,
            Ok(Err(error)) => {
                tracing::warn!(%error, "revoked sessions: listening connection lost");
                listener = None;
            }
        }
        if set.strong_count() == 0 {
            return;
        }
    }
}

async fn listen(db: &PgPool) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(db)
        .await
        .inspect_err(|error| tracing::warn!(%error, "revoked sessions: cannot listen"))
        .ok()?;
    listener
        .listen(revoked_sessions::CHANNEL)
        .await
        .inspect_err(|error| tracing::warn!(%error, "revoked sessions: cannot listen"))
        .ok()?;
    Some(listener)
}
