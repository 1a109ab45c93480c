//! `faultcheck`: the Rust half of `scripts/faults.sh`.
//!
//! - `check`: proves the invariants of DESIGN.md §7 after a fault scenario, in SQL and against
//!   the EVENTS and DLQ streams; prints one line per invariant and exits 1 naming the broken
//!   ones and their offending ids.
//! - `recover`: called at the end of a fault, waits until the backlog is drained (every command
//!   accepted before the fault ended acknowledged, the events they committed published, and
//!   with `--webhooks` their webhooks delivered) and prints the time to recover.
//! - `inject`: duplicates of live order commands and poison messages published by hand onto
//!   the COMMANDS stream.
//! - `webhooks`: one webhook endpoint per supplier, pointing at `receiver`.
//! - `receiver`: a webhook receiver that logs every delivery it is sent.

mod args;
mod check;
mod inject;
mod receiver;
mod recover;
mod stream_ops;
mod streams;
mod webhooks;

use std::process::ExitCode;

const USAGE: &str = "\
faultcheck: fault-scenario tools of scripts/faults.sh

USAGE:
  faultcheck check    --database-url URL --nats-url URL [--namespace NS] --accepted FILE
                      [--expected-dead-letters FILE] [--receipts FILE]
  faultcheck recover  --database-url URL --nats-url URL [--namespace NS] [--fault-end-ms T]
                      [--limit-secs 10] [--deadline-secs 120] [--webhooks]
  faultcheck inject   --database-url URL --nats-url URL [--namespace NS] --dead-letters-out FILE
                      [--duplicates N]
  faultcheck webhooks --base-url URL --receiver-url URL
  faultcheck receiver --listen ADDR --log FILE [--delay-ms 0]
  faultcheck stream-seq      --nats-url URL [--namespace NS]   (COMMANDS last sequence)
  faultcheck acked-through   --nats-url URL [--namespace NS] --sequence N
  faultcheck delete-streams  --nats-url URL --namespace NS

Exit code: 0 when every invariant holds (check) or the backlog drained within the limit
(recover), 1 otherwise, 2 on a usage error.
";

#[tokio::main]
async fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let flags = match args::Flags::parse(argv) {
        Ok(flags) => flags,
        Err(e) => {
            eprintln!("faultcheck: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match command.as_str() {
        "check" => check::run(&flags).await,
        "recover" => recover::run(&flags).await,
        "inject" => inject::run(&flags).await,
        "webhooks" => webhooks::run(&flags).await,
        "receiver" => receiver::run(&flags).await,
        "stream-seq" => stream_ops::last_seq(&flags).await,
        "acked-through" => stream_ops::acked_through(&flags).await,
        "delete-streams" => stream_ops::delete(&flags).await,
        "--help" | "-h" | "help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("faultcheck: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("faultcheck {command}: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
