//! `loadgen`: the benchmark of DESIGN.md §8, run by `scripts/bench.sh`.
//!
//! Logs in as a station user, builds a 3-supplier order from the active contracts, submits it
//! N times (closed loop or open model), matches the `order.priced` / `order.rejected` events to
//! the 202s for end-to-end latency, samples the processes' memory, measures the JetStream and
//! naive-transaction baselines in the same run, and prints a report plus a `RESULT_JSON` line.

mod api;
mod baselines;
mod cli;
mod events;
mod http_load;
mod plan;
mod report;
mod rss;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::Utc;

use crate::cli::{Args, Command, USAGE};
use crate::http_load::{LoadShape, OrderRequest};
use crate::report::{E2eSummary, LoadSummary, Percentiles, Report};

#[tokio::main]
async fn main() -> ExitCode {
    let parsed = cli::parse(
        std::env::args().skip(1),
        std::env::var("BLUEWHALE_DEMO_PASSWORD").ok(),
    );
    let args = match parsed {
        Ok(Command::Run(args)) => *args,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("loadgen: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = run(&args).await;
    if args.delete_streams_after {
        delete_namespace_streams(&args).await;
    }
    match outcome {
        Ok(report) => {
            print!("{}", report.text());
            println!("{}", report.json_line());
            if report.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("loadgen: error: {e:#}");
            // Scripts parse this line; give them a failure they can read too.
            let failure = serde_json::json!({ "ok": false, "error": format!("{e:#}") });
            println!("RESULT_JSON {failure}");
            ExitCode::FAILURE
        }
    }
}

/// Deletes the benchmark namespace's streams, so a run leaves no backlog for the next one.
async fn delete_namespace_streams(args: &Args) {
    let Ok(ns) = bluewhale::messaging::Namespace::new(args.namespace.clone()) else {
        return;
    };
    let Ok(client) = async_nats::connect(&args.nats_url).await else {
        eprintln!("loadgen: cannot reach NATS to delete the benchmark streams");
        return;
    };
    let js = async_nats::jetstream::new(client);
    for stream in [ns.commands_stream(), ns.events_stream(), ns.dlq_stream()] {
        if let Err(e) = js.delete_stream(&stream).await {
            eprintln!("loadgen: could not delete stream {stream}: {e}");
        }
    }
}

/// An empty report for these arguments.
fn new_report(args: &Args) -> Report {
    Report {
        mode: if args.rate.is_some() {
            "open-model"
        } else {
            "closed-loop"
        },
        ingress_only: args.ingress_only,
        orders: args.orders,
        concurrency: args.concurrency,
        rate: args.rate,
        suppliers_per_order: 0,
        lines_per_order: 0,
        plan_notes: Vec::new(),
        load: None,
        e2e: None,
        baselines: None,
        memory: Vec::new(),
        errors: BTreeMap::new(),
    }
}

/// Measures the baselines and records their failures as errors.
async fn baselines_into(report: &mut Report, args: &Args) {
    let b = baselines::measure(
        &args.nats_url,
        &args.database_url,
        args.baseline_messages,
        args.baseline_secs,
    )
    .await;
    if !b.errors.is_empty() {
        report
            .errors
            .insert("baseline_failed".into(), b.errors.len() as u64);
    }
    report.baselines = Some(b);
}

/// The whole run; an `Err` means it could not start (login, contracts, NATS…).
async fn run(args: &Args) -> Result<Report> {
    let mut report = new_report(args);
    if args.baselines_only {
        baselines_into(&mut report, args).await;
        return Ok(report);
    }

    // Set-up first, so a missing seed or a stopped ingress fails before the slow baselines.
    let client = http_load::client(args.concurrency)?;
    let session = api::login(&client, &args.base_url, &args.email, &args.password).await?;
    let contracts = api::active_contracts(&client, &args.base_url, &session.access_token).await?;
    // Pricing uses the order date in the business time zone (DESIGN §5.2), Paris by default.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let plan = plan::plan_order(&contracts, args.suppliers, today);
    if plan.lines.is_empty() {
        bail!(
            "no usable line in {} ACTIVE contract(s) visible to {}: is the demo data seeded?",
            contracts.len(),
            args.email
        );
    }
    for n in &plan.notes {
        eprintln!("loadgen: note: {n}");
    }
    if let Some(rate) = args.rate {
        let secs = args.orders as f64 / rate;
        if session.expires_in > 0 && secs > session.expires_in as f64 {
            eprintln!(
                "loadgen: warning: the run (~{secs:.0} s) outlives the access token ({} s): expect 401s",
                session.expires_in
            );
        }
    }
    report.suppliers_per_order = plan.suppliers;
    report.lines_per_order = plan.lines.len();
    report.plan_notes = plan.notes.clone();

    if !args.skip_baselines {
        baselines_into(&mut report, args).await;
    }

    // Subscribe before the first order so that no event can be missed.
    let collector = if args.ingress_only {
        None
    } else {
        Some(events::start(&args.nats_url, &args.namespace, session.station_id).await?)
    };
    let watched = args
        .ingress_pids
        .iter()
        .map(|&pid| rss::Watched {
            role: "ingress",
            pid,
        })
        .chain(args.worker_pids.iter().map(|&pid| rss::Watched {
            role: "worker",
            pid,
        }))
        .collect();
    let sampler = rss::start(watched);

    let request = Arc::new(OrderRequest::new(
        client,
        &args.base_url,
        &session.access_token,
        session.station_id,
        &plan.lines,
    )?);
    let done = Arc::new(AtomicU64::new(0));
    let progress = spawn_progress(done.clone(), args.orders);
    eprintln!(
        "loadgen: submitting {} orders of {} lines…",
        args.orders,
        plan.lines.len()
    );
    let shape = LoadShape {
        orders: args.orders,
        concurrency: args.concurrency,
        rate: args.rate,
    };
    let sink = collector.as_ref().map(|c| c.sink.clone());
    let cpu_before = rss::self_cpu_secs();
    let load = http_load::run(request, shape, sink, done).await;
    let cpu_after = rss::self_cpu_secs();
    progress.abort();
    let load = load?;

    let wall = load.finished.duration_since(load.started);
    report.load = Some(LoadSummary {
        submitted: args.orders,
        accepted: load.accepted,
        wall_secs: wall.as_secs_f64(),
        accepted_per_s: load.accepted as f64 / wall.as_secs_f64().max(1e-9),
        http: Percentiles::from_us(&load.latency_us),
        client_cpu_secs: cpu_before.zip(cpu_after).map(|(b, a)| a - b),
    });
    report.errors.extend(load.errors);

    if let Some(collector) = collector {
        let out = collector
            .finish(Duration::from_secs(args.timeout_secs), load.accepted)
            .await?;
        let m = &out.matcher;
        if let Some(path) = &args.accepted_file {
            write_accepted(path, m)?;
        }
        let processed = m.priced + m.rejected;
        let span = m
            .last_event
            .map(|l| l.saturating_duration_since(load.started).as_secs_f64())
            .unwrap_or(0.0);
        let mut count = |kind: &str, n: u64| {
            if n > 0 {
                *report.errors.entry(kind.into()).or_default() += n;
            }
        };
        // A correct run has no rejection: rejected orders mean a bad plan or a broken worker.
        count("rejected", m.rejected);
        count("missing", out.missing);
        count("event_undecodable", m.decode_errors);
        count("nats_slow_consumer", out.slow_consumer);
        report.e2e = Some(E2eSummary {
            priced: m.priced,
            rejected: m.rejected,
            missing: out.missing,
            duplicates: m.duplicates,
            unmatched: out.unmatched,
            timed_out: out.timed_out,
            processed_per_s: if span > 0.0 {
                processed as f64 / span
            } else {
                0.0
            },
            latency: Percentiles::from_us(&m.latency_us),
            first_rejection: m.first_rejection.clone(),
        });
    }
    report.memory = sampler.finish().await;
    Ok(report)
}

/// Writes the ids of the accepted orders, one per line.
fn write_accepted(path: &str, m: &events::Matcher) -> Result<()> {
    use std::fmt::Write as _;
    let mut text = String::new();
    for id in m.accepted_ids() {
        let _ = writeln!(text, "{id}");
    }
    std::fs::write(path, text).with_context(|| format!("writing {path}"))
}

/// Prints `n / total submitted` on stderr every 5 s while the load runs.
fn spawn_progress(done: Arc<AtomicU64>, total: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.tick().await;
        loop {
            tick.tick().await;
            eprintln!(
                "loadgen: {} / {total} requests answered",
                done.load(Ordering::Relaxed)
            );
        }
    })
}
