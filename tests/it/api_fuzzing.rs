//! Schemathesis (pinned in `.local/schemathesis`, installed by scripts/test.sh; settings and
//! the few declared exceptions in tests/schemathesis.toml) against a
//! real ingress and worker with every check, as an administrator: no server error, no answer
//! outside the document (status, content type, headers, schema), no accepted invalid input.
//! Afterwards the process that served it is back under its memory budget (the ingress
//! binary's allocator setting, [`bluewhale::allocator`], applies here too: see TestApp).

use std::path::{Path, PathBuf};
use std::time::Instant;

use bluewhale_tests::{TestApp, world};

/// Resident memory allowed after the run (issue 9 §6): the whole test process, which holds the
/// ingress, the worker and the harness, so the ingress alone is less.
const RSS_BUDGET_MIB: u64 = 150;

fn schemathesis() -> PathBuf {
    std::env::var_os("BW_TEST_SCHEMATHESIS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.local/schemathesis/bin/schemathesis"),
        PathBuf::from,
    )
}

fn resident_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_on_any_operation() {
    let app = TestApp::spawn().await;
    let token = app.login(world::ADMIN_EMAIL).await;
    let reports = tempfile::tempdir().unwrap();
    let program = schemathesis();
    let started = Instant::now();
    let before = resident_mib();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemathesis.toml");
    let output = tokio::process::Command::new(&program)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/openapi.json", app.base_url))
        .args(["--checks", "all"])
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"))
        .args(["--report", "junit", "--report-dir"])
        .arg(reports.path())
        // e.g. BW_TEST_SCHEMATHESIS_ARGS="--include-path /api/v1/orders --output-sanitize false"
        .args(
            std::env::var("BW_TEST_SCHEMATHESIS_ARGS")
                .unwrap_or_default()
                .split_whitespace(),
        )
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e} (scripts/test.sh installs it; or set BW_TEST_SCHEMATHESIS)",
                program.display()
            )
        });
    let printed = String::from_utf8_lossy(&output.stdout);
    println!("{printed}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "schemathesis found failures (above)"
    );
    let after = resident_mib();
    println!(
        "schemathesis took {:.0?}; test process resident memory {before} MiB before, \
         {after} MiB after",
        started.elapsed()
    );
    assert!(
        after < RSS_BUDGET_MIB,
        "{after} MiB resident after the run (budget {RSS_BUDGET_MIB} MiB)"
    );
    app.cleanup().await;
}
