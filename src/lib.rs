//! Blue Whale order pipeline: the library shared by the ingress, the workers and the tools.

pub mod allocator;
pub mod bootstrap;
pub mod config;
pub mod db;
pub mod domain;
pub mod group_commit;
pub mod http;
pub mod messaging;
pub mod ops;
pub mod process;
pub mod security;
pub mod shutdown;
pub mod telemetry;
pub mod tls;
