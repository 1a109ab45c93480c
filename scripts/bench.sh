#!/usr/bin/env bash
# Benchmark: services, release build, seed, then ingress + one worker in the background (logs in
# .local/logs/), then target/release/loadgen with the given flags; everything is stopped after.
# Usage: scripts/bench.sh [--ingress-only] [loadgen flags: --orders N --concurrency C …]
#   --ingress-only: no worker runs, to measure accepted orders/s of the ingress alone (DESIGN §8);
#   loadgen sees BW_BENCH_MODE=ingress-only (else end-to-end) in its environment.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export BW_BENCH_MODE=end-to-end
[[ ${1:-} != --ingress-only ]] || { BW_BENCH_MODE=ingress-only; shift; }
load_dotenv
prepare_stack

LOG_DIR=$BW_LOCAL/logs
stop_bins_on_exit
start_ingress
[[ $BW_BENCH_MODE == ingress-only ]] || start_bin worker
wait_ingress_ready
say "bench: $BW_BENCH_MODE, process logs in .local/logs/"
"$BW_ROOT/target/release/loadgen" --base-url "$(ingress_url)" --nats-url "$NATS_URL" "$@"
