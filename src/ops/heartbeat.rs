//! What a process reports of itself with every round of gauges.

use chrono::Utc;
use std::net::SocketAddr;
use uuid::Uuid;

use super::Role;
use crate::db::process_heartbeats::Heartbeat;

/// The heartbeat of this process, started now, serving its ops endpoints on `ops_addr`.
pub fn of_this_process(role: Role, ops_addr: SocketAddr) -> Heartbeat {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    Heartbeat {
        instance_id: Uuid::now_v7(),
        role: role.as_str().to_owned(),
        host,
        pid: i32::try_from(std::process::id()).unwrap_or(i32::MAX),
        ops_addr: ops_addr.to_string(),
        started_at: Utc::now(),
        seen_at: Utc::now(),
    }
}
