//! Integration tests against real PostgreSQL and NATS JetStream (see tests/src/lib.rs).

mod delivery;
mod orders;
