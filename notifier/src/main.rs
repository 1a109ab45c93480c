//! The notifier binary: delivers supplier notifications until SIGTERM, then drains.

use std::process::ExitCode;

use bluewhale::{process, shutdown};

fn main() -> ExitCode {
    process::main("notifier", |config| {
        bluewhale_notifier::run(config, shutdown::signal())
    })
}
