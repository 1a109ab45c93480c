//! PostgreSQL access: one module per aggregate, functions taking a connection or transaction.

pub mod audit;
pub mod audit_trail;
pub mod carts;
pub mod catalogue;
pub mod command_lookup;
pub mod command_throughput;
pub mod commands;
pub mod contract_checks;
pub mod contract_history;
pub mod contract_writes;
pub mod contracts;
pub mod dead_letters;
pub mod keyset;
pub mod login_limits;
pub mod master_record_checks;
pub mod master_records;
pub mod master_tables;
pub mod notification_messages;
pub mod numbers;
pub mod order_writes;
pub mod orders;
pub mod outbox;
pub mod page;
pub mod password_tokens;
pub mod personal_data;
pub mod personal_data_keys;
pub mod pricing_inputs;
pub mod process_heartbeats;
pub mod purchase_order_history;
pub mod purchase_order_lifecycle;
pub mod purchase_orders;
pub mod refresh_tokens;
pub mod revoked_sessions;
pub mod sales_orders;
pub mod scheduled_jobs;
pub mod supplier_notifications;
pub mod users;
pub mod webhook_endpoints;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Migrations embedded in every binary, so a deployment needs no files beside it.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens a pool; statements are prepared and cached per connection by sqlx.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}

/// Applies pending migrations (sqlx serialises concurrent runners with an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}
