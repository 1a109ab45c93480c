//! Small stream operations for the script: the COMMANDS stream's last sequence, whether
//! everything up to a sequence is acknowledged, and deleting a scenario's streams.

use anyhow::{Context, Result};

use crate::args::Flags;
use crate::streams;

async fn js(flags: &Flags) -> Result<async_nats::jetstream::Context> {
    Ok(async_nats::jetstream::new(
        streams::connect(flags.required("--nats-url")?).await?,
    ))
}

/// Prints the last sequence of the COMMANDS stream.
pub async fn last_seq(flags: &Flags) -> Result<bool> {
    let js = js(flags).await?;
    let mut stream = js.get_stream(flags.namespace()?.commands_stream()).await?;
    println!("{}", stream.info().await?.state.last_sequence);
    Ok(true)
}

/// Succeeds when every COMMANDS message up to `--sequence` has been acknowledged (the stream
/// is a work queue: acknowledged messages leave it).
pub async fn acked_through(flags: &Flags) -> Result<bool> {
    let target: u64 = flags
        .required("--sequence")?
        .parse()
        .context("--sequence")?;
    let js = js(flags).await?;
    let mut stream = js.get_stream(flags.namespace()?.commands_stream()).await?;
    let state = &stream.info().await?.state;
    Ok(state.messages == 0 || state.first_sequence > target)
}

/// Deletes the namespace's COMMANDS, EVENTS and DLQ streams (scenario clean-up).
pub async fn delete(flags: &Flags) -> Result<bool> {
    let ns = flags.namespace()?;
    anyhow::ensure!(
        !ns.subject("").is_empty(),
        "refusing to delete the streams of the empty namespace"
    );
    let js = js(flags).await?;
    for stream in [ns.commands_stream(), ns.events_stream(), ns.dlq_stream()] {
        js.delete_stream(&stream)
            .await
            .with_context(|| format!("deleting {stream}"))?;
    }
    Ok(true)
}
