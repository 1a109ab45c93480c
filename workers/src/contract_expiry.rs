//! The contract expiry job: once per interval across all workers, every contract in force
//! whose last day is before today (business time zone) gets a `contract.expire` command. The
//! command id is derived from the contract, so a run repeated after a crash issues the same
//! commands, and the runner applies each once.

use std::time::Duration;

use chrono_tz::Tz;
use tokio::sync::watch;

use bluewhale::db::contract_writes;
use bluewhale::domain::business_date::order_date;
use bluewhale::messaging::commands::ExpireContract;
use bluewhale::messaging::envelope::{Actor, Envelope};
use bluewhale::messaging::publish::publish_command;

use crate::context::WorkerContext;
use crate::periodic;

/// Name of the job's row in `scheduled_jobs`.
pub const JOB: &str = "contract_expiry";
/// Contracts expired per run at most (the next run takes the rest).
const PER_RUN: i64 = 1_000;

/// Runs the job every `interval` until `stop` turns true.
pub async fn run(ctx: WorkerContext, tz: Tz, interval: Duration, stop: watch::Receiver<bool>) {
    periodic::every(
        interval,
        stop,
        "contract expiry: expire commands published",
        || run_once(&ctx, tz, interval),
    )
    .await;
}

/// One run, if this worker claims it: the number of commands published, or `None` when
/// another worker ran the job within the interval.
pub async fn run_once(
    ctx: &WorkerContext,
    tz: Tz,
    interval: Duration,
) -> anyhow::Result<Option<usize>> {
    let Some((mut tx, now)) = periodic::claim(&ctx.db, JOB, interval).await? else {
        return Ok(None);
    };
    let today = order_date(now, tz);
    let ended = contract_writes::ended_in_force(&mut tx, today, PER_RUN).await?;
    for contract_id in &ended {
        let command = ExpireContract {
            contract_id: *contract_id,
            as_of: today,
        };
        let envelope = Envelope::new(
            ExpireContract::command_id_for(*contract_id),
            now,
            Actor::SYSTEM,
            None,
            None,
            command,
        );
        publish_command(&ctx.js, &ctx.ns, &envelope, None).await?;
    }
    // Committed only once every command is stored: a failed run is retried next interval.
    tx.commit().await?;
    Ok(Some(ended.len()))
}
