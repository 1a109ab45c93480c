//! Keyset paging, newest first: a page starts after the last row of the previous one, so
//! pages stay stable while new rows arrive.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where a row stands in a newest-first listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Its time (creation, occurrence).
    pub at: DateTime<Utc>,
    /// Its id (ties on time).
    pub id: Uuid,
}
