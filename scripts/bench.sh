#!/usr/bin/env bash
# Benchmark (DESIGN.md §8): services, release build, seed into its own database, ingress and one
# worker in the background (logs in .local/logs/), then target/release/loadgen; all stopped after.
# Usage: scripts/bench.sh [--ingress-only | --webhooks N] [--nats-sync always|default]
#                         [--postgres own|shared] [loadgen flags…]
#   --ingress-only        no worker: accepted orders/s of the ingress alone
#   --webhooks N          N webhook.test events queued for a local receiver, then a notifier
#                         started: deliveries/s and its memory draining N pending messages
#   --nats-sync default   run against a throwaway NATS without fsync per write (the project
#                         server uses sync_interval: always), to report both settings
#   --postgres shared     run against the machine's PostgreSQL (DATABASE_URL's server) instead
#                         of a cluster of the benchmark's own, made with the installed initdb
#                         on port 15432 with production settings (scripts/own_postgres.sh);
#                         the naive-transaction baseline always runs on the same server
#   --pg-setting 'k = v'  one more postgresql.conf line for the own cluster (repeatable), e.g.
#                         "session_preload_libraries = 'auto_explain'" to profile statements
#   loadgen flags         --orders N --concurrency C --rate R … (target/release/loadgen --help)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/own_postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/own_postgres.sh"

mode=end-to-end sync=always webhooks=0 postgres=own pg_settings=("${OWN_PG_PRODUCTION_SETTINGS[@]}")
while (($#)); do
  case $1 in
    --ingress-only) mode=ingress-only; shift ;;
    --webhooks) mode=webhooks webhooks=${2:?--webhooks takes a number of messages}; shift 2 ;;
    --nats-sync) sync=${2:?--nats-sync takes always or default}; shift 2 ;;
    --postgres) postgres=${2:?--postgres takes own or shared}; shift 2 ;;
    --pg-setting) pg_settings+=("${2:?--pg-setting takes a postgresql.conf line}"); shift 2 ;;
    *) break ;;
  esac
done
load_dotenv
# A database and a namespace of their own per run: no backlog or outbox of an earlier run is
# processed by this one. loadgen deletes the streams and the database is dropped when done
# (BW_BENCH_KEEP=1 keeps it for inspection).
run_id=bench$(date +%s)
export BW_NAMESPACE=$run_id
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bluewhale_$run_id
LOG_DIR=$BW_LOCAL/logs
store='' own_pg=''
finish() {
  stop_bins
  [[ -z $store ]] || rm -rf "$store"
  if [[ -n $own_pg ]]; then
    # BW_BENCH_KEEP=1 leaves the cluster running for inspection.
    [[ ${BW_BENCH_KEEP:-} == 1 ]] && { say "bench: own PostgreSQL left running: $DATABASE_URL"; return 0; }
    cp "$own_pg/postgres.log" "$LOG_DIR/postgres.log" 2>/dev/null || true
    stop_own_postgres "$own_pg"
    return 0
  fi
  [[ ${BW_BENCH_KEEP:-} == 1 ]] ||
    psql "${DATABASE_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS bluewhale_$run_id WITH (FORCE)" || true
}
stop_bins_on_exit
trap finish EXIT
case $postgres in
  own)
    own_pg=$(own_postgres_dir "bench-pg-$run_id")
    start_own_postgres "$own_pg" 15432 "${pg_settings[@]}"
    export DATABASE_URL=postgres://postgres@127.0.0.1:15432/bluewhale_$run_id ;;
  shared) ;;
  *) die "--postgres takes own or shared, not $postgres" ;;
esac
if [[ $sync == default ]]; then
  # Same configuration on other ports and a fresh store, minus sync_interval: always.
  store=$(mktemp -d)
  sed -e 's/^port: 14222/port: 14322/' -e 's/^http_port: 18222/http_port: 18322/' \
    -e '/sync_interval/d' "$BW_ROOT/nats/nats-server.conf" >"$store/nats.conf"
  "$(nats_binary)" -c "$store/nats.conf" -sd "$store" >"$store/nats.log" 2>&1 &
  BW_PIDS+=("$!")
  export NATS_URL=nats://127.0.0.1:14322
  wait_for "throwaway NATS" 30 curl -fs -o /dev/null 'http://127.0.0.1:18322/healthz?js-enabled-only=true'
fi
prepare_stack
# Plans made on empty tables scan whole tables for foreign keys (DESIGN.md §8).
psql "$DATABASE_URL" -qc ANALYZE

start_ingress
ingress_pid=$!
pids=(--ingress-pid "$ingress_pid")
if [[ $mode != ingress-only ]]; then
  start_bin worker
  pids+=(--worker-pid "$!")
fi
wait_for "ingress $(ingress_url)/ready" 120 curl -fs -o /dev/null "$(ingress_url)/ready"
if [[ $mode == webhooks ]]; then
  say "bench: webhooks, $webhooks messages, NATS sync $sync, process logs in .local/logs/"
  "$BW_BIN/webhookbench" --base-url "$(ingress_url)" --messages "$webhooks" \
    --notifier-bin "$BW_BIN/notifier" --notifier-log "$LOG_DIR/notifier.log" "$@"
  exit
fi
say "bench: $mode, NATS sync $sync ($NATS_URL), PostgreSQL $postgres (${DATABASE_URL%/*}), process logs in .local/logs/"
flags=(--base-url "$(ingress_url)" --nats-url "$NATS_URL" --database-url "$DATABASE_URL"
  --namespace "$BW_NAMESPACE" --delete-streams-after "${pids[@]}")
[[ $mode == end-to-end ]] || flags+=(--ingress-only)
"$BW_BIN/loadgen" "${flags[@]}" "$@"
