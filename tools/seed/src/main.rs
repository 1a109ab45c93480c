//! `seed`: applies migrations, then loads the demo world (idempotent: a re-run changes nothing).
//!
//! Needs DATABASE_URL and BLUEWHALE_DEMO_PASSWORD; the password is never printed.

use std::process::ExitCode;

use bluewhale::config::{DatabaseConfig, demo_password_from_env};
use bluewhale::db;
use bluewhale_seed as seed;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr so stdout carries only the summary line.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let (database, demo_password) = match (DatabaseConfig::from_env(), demo_password_from_env()) {
        (Ok(database), Ok(password)) => (database, password),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("seed: {e}");
            return ExitCode::from(2);
        }
    };
    // Contract years follow the business calendar (Europe/Paris), like order dates do.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();

    match load(&database, &demo_password, today).await {
        Ok(report) if report.is_empty() => {
            println!("seed: demo data already present, nothing changed");
            ExitCode::SUCCESS
        }
        Ok(report) => {
            println!("seed: inserted {report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            // `{:#}` prints the whole context chain on one line.
            eprintln!("seed: failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn load(
    database: &DatabaseConfig,
    demo_password: &bluewhale::config::Secret,
    today: chrono::NaiveDate,
) -> anyhow::Result<seed::SeedReport> {
    use anyhow::Context as _;
    // One connection is all the seed uses: everything happens in one transaction.
    let pool = db::connect(&database.url, 2)
        .await
        .context("connect to PostgreSQL")?;
    db::migrate(&pool).await.context("apply migrations")?;
    let report = seed::run(&pool, demo_password, today).await?;
    pool.close().await;
    Ok(report)
}
