//! Integration tests against real PostgreSQL and NATS JetStream (see tests/src/lib.rs).

mod auth;
mod carts;
mod catalogue_search;
mod contracts;
mod dead_letters;
mod delivery;
mod event_stream;
mod group_commit;
mod http_errors;
mod lifecycle;
mod login_limits;
mod master_data;
mod metrics;
mod notifications;
mod ops_overview;
mod ops_page;
mod orders;
mod sales_orders;
mod scoping;
mod security_headers;
mod seed;
mod sessions;
mod tracing;
mod users;
mod webhook_endpoints;
mod worker_robustness;
