#!/usr/bin/env bash
# Benchmark: services, release build, seed, then ingress + one worker in the background (logs in
# .local/logs/), then target/release/loadgen with the given flags; everything is stopped after.
# Usage: scripts/bench.sh [--ingress-only] [loadgen flags: --orders N --concurrency C …]
#   --ingress-only: no worker runs, to measure accepted orders/s of the ingress alone (DESIGN §8);
#   loadgen sees BW_BENCH_MODE=ingress-only (else end-to-end) in its environment.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export BW_BENCH_MODE=end-to-end
[[ ${1:-} != --ingress-only ]] || { BW_BENCH_MODE=ingress-only; shift; }
load_dotenv
prepare_stack

logs=$BW_LOCAL/logs
mkdir -p "$logs"
trap stop_bins EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_ingress "$logs/ingress.log"
[[ $BW_BENCH_MODE == ingress-only ]] || start_bin worker "$logs/worker.log"
wait_ingress_ready
say "bench: $BW_BENCH_MODE, logs in ${logs#"$BW_ROOT"/}/"
"$BW_ROOT/target/release/loadgen" --base-url "$(ingress_url)" --nats-url "$NATS_URL" "$@"
