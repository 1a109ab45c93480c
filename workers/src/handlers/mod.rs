//! Command handlers, one module per command family: load, decide (domain), write (db).

pub mod cart_change;
pub mod contract_change;
pub mod contract_expiry;
mod contract_status;
pub mod dead_letter_resolution;
pub mod master_record_change;
pub mod purchase_order_transition;
pub mod sales_order_invoice;
pub mod submit_order;
pub mod webhook_endpoint;
