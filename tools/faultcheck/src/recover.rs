//! Time to recover: from the end of a fault until the backlog it left is drained.
//!
//! Drained means, in order: every command the COMMANDS stream held when the fault ended is
//! acknowledged (the stream is a work queue: a message leaves once a worker acked it, which
//! it does only after its transaction or dead letter committed); then every outbox row that
//! existed at that moment is published (rows are deleted once published); with `--webhooks`,
//! then also every purchase order committed by then has its webhook delivered and no webhook
//! message older than that is still pending. Orders accepted after the fault ended are not
//! waited for here (the checker proves them afterwards). Polls every 50 ms.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::args::Flags;
use crate::streams;

const POLL: Duration = Duration::from_millis(50);

pub async fn run(flags: &Flags) -> Result<bool> {
    // The instant the fault ended, from the script (milliseconds since the epoch); now if absent.
    let fault_end = match flags.optional("--fault-end-ms") {
        Some(ms) => DateTime::<Utc>::from_timestamp_millis(ms.parse().context("--fault-end-ms")?)
            .context("--fault-end-ms out of range")?,
        None => Utc::now(),
    };
    let limit = flags.number("--limit-secs", 10.0_f64)?;
    let deadline = Instant::now() + Duration::from_secs(flags.number("--deadline-secs", 120)?);
    let ns = flags.namespace()?;
    let db = connect_db(flags.required("--database-url")?, deadline).await?;
    let client = streams::connect(flags.required("--nats-url")?).await?;
    let js = async_nats::jetstream::new(client);

    // What the fault left: the last command stored when it ended (the script calls us then).
    let target = loop {
        match last_sequence(&js, &ns.commands_stream()).await {
            Ok(seq) => break seq,
            Err(e) => wait(deadline, &format!("COMMANDS stream info: {e:#}")).await?,
        }
    };
    loop {
        match acked_through(&js, &ns.commands_stream(), target).await {
            Ok(true) => break,
            Ok(false) => wait(deadline, &format!("commands up to #{target} acknowledged")).await?,
            Err(e) => wait(deadline, &format!("COMMANDS stream info: {e:#}")).await?,
        }
    }
    let commands_done = Utc::now();
    let rows: Vec<Uuid> = loop {
        match sqlx::query_scalar("SELECT id FROM outbox")
            .fetch_all(&db)
            .await
        {
            Ok(rows) => break rows,
            Err(e) => wait(deadline, &format!("outbox: {e}")).await?,
        }
    };
    loop {
        let left: Result<i64, _> =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE id = ANY($1)")
                .bind(&rows)
                .fetch_one(&db)
                .await;
        match left {
            Ok(0) => break,
            Ok(n) => wait(deadline, &format!("{n} outbox rows published")).await?,
            Err(e) => wait(deadline, &format!("outbox: {e}")).await?,
        }
    }
    let events_done = Utc::now();
    let mut drained = events_done;
    if flags.switch("--webhooks") {
        loop {
            let state: Result<(i64, i64, i64), _> = sqlx::query_as(
                "SELECT (SELECT count(*) FROM purchase_orders WHERE created_at <= $1), \
                        (SELECT count(*) FROM notification_messages WHERE channel = 'WEBHOOK' \
                           AND event_type = 'purchase_order.created' AND status = 'DELIVERED'), \
                        (SELECT count(*) FROM notification_messages WHERE channel = 'WEBHOOK' \
                           AND status = 'PENDING' AND created_at <= $1)",
            )
            .bind(commands_done)
            .fetch_one(&db)
            .await;
            match state {
                Ok((pos, delivered, pending)) if delivered >= pos && pending == 0 => break,
                Ok((pos, delivered, pending)) => {
                    wait(
                        deadline,
                        &format!("webhooks: {delivered}/{pos} delivered, {pending} pending"),
                    )
                    .await?
                }
                Err(e) => wait(deadline, &format!("notification messages: {e}")).await?,
            }
        }
        drained = Utc::now();
    }
    let secs = |at: DateTime<Utc>| (at - fault_end).num_milliseconds().max(0) as f64 / 1000.0;
    let recovery = secs(drained);
    let mut line = format!(
        "recovery: {recovery:.2} s (commands through #{target} acked after {:.2} s, their events published after {:.2} s",
        secs(commands_done),
        secs(events_done)
    );
    if flags.switch("--webhooks") {
        line.push_str(&format!(", webhooks delivered after {recovery:.2} s"));
    }
    line.push(')');
    println!("{line}");
    println!("RECOVERY_SECS={recovery:.2}");
    if recovery > limit {
        println!("FAIL recovery within {limit} s: took {recovery:.2} s");
        return Ok(false);
    }
    Ok(true)
}

/// A pool that waits for a restarting server.
async fn connect_db(url: &str, deadline: Instant) -> Result<PgPool> {
    loop {
        match sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(2))
            .connect(url)
            .await
        {
            Ok(pool) => return Ok(pool),
            Err(e) => wait(deadline, &format!("PostgreSQL: {e}")).await?,
        }
    }
}

async fn last_sequence(js: &async_nats::jetstream::Context, stream: &str) -> Result<u64> {
    let mut stream = js.get_stream(stream).await?;
    Ok(stream.info().await?.state.last_sequence)
}

/// Whether every message up to `target` has left the work-queue stream.
async fn acked_through(
    js: &async_nats::jetstream::Context,
    stream: &str,
    target: u64,
) -> Result<bool> {
    let mut stream = js.get_stream(stream).await?;
    let state = stream.info().await?.state.clone();
    Ok(state.messages == 0 || state.first_sequence > target)
}

/// Sleeps one poll interval, or fails with what was awaited once the deadline passed.
async fn wait(deadline: Instant, awaiting: &str) -> Result<()> {
    if Instant::now() >= deadline {
        bail!("backlog not drained before the deadline: still waiting for {awaiting}");
    }
    tokio::time::sleep(POLL).await;
    Ok(())
}
