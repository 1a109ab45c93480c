//! Command handlers: decode, decide (domain), write (db).

pub mod submit_order;
