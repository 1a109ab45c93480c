#!/usr/bin/env bash
# The whole test suite (quick start and CI): services, format check, clippy, cargo deny, every
# test, then the fault scenarios in their short form (scripts/faults.sh --short).
# Extra arguments go to the test runner (cargo nextest run, else cargo test), e.g. a filter.
# All steps run even after a failure, so one run reports everything; exit status 1 if any failed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_dotenv
ensure_services
# Tests create their own databases, NATS namespaces and mail recipients on these servers.
export BW_TEST_PG_URL=${BW_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export BW_TEST_NATS_URL=${BW_TEST_NATS_URL:-$NATS_URL}
export BW_TEST_SMTP_URL=${BW_TEST_SMTP_URL:-$BW_SMTP_URL}
export BW_TEST_MAIL_WEB_URL=${BW_TEST_MAIL_WEB_URL:-$BW_MAIL_WEB_URL}
# The NATS restart test runs a throwaway server of its own (never the shared one): same binary.
export BW_TEST_NATS_SERVER=${BW_TEST_NATS_SERVER:-$(nats_binary)}
# The ops page test drives a real headless Chromium.
ensure_chromium
# The API fuzzing test runs the pinned schemathesis against a real ingress.
ensure_schemathesis
cd "$BW_ROOT"

failed=()
step() { say "==> $*"; "$@" || failed+=("$*"); }
step cargo fmt --all -- --check
step cargo clippy --workspace --all-targets -- -D warnings
step scripts/check-alerts.sh
step scripts/deny.sh
if cargo nextest --version >/dev/null 2>&1; then
  # nextest does not run doctests; they go first so that nextest's summary closes the run.
  step cargo test --workspace --doc
  step cargo nextest run --workspace --no-fail-fast "$@"
else
  step cargo test --workspace --no-fail-fast "$@"
fi

# The fault scenarios, short form (a few minutes): real kills and restarts under load, then
# the invariants of DESIGN.md §7 checked and the recovery times printed (README "Faults").
step scripts/faults.sh --short

((${#failed[@]} == 0)) || die "failed steps:$(printf '\n  %s' "${failed[@]}")"
say "all checks passed"
