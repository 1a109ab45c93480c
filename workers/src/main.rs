//! The worker binary: consumes commands until SIGTERM, then drains.

use std::process::ExitCode;

use bluewhale::{process, shutdown};

fn main() -> ExitCode {
    process::main("worker", |config| {
        bluewhale_workers::run(config, shutdown::signal())
    })
}
