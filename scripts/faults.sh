#!/usr/bin/env bash
# Fault scenarios (issue 10 §2, DESIGN.md §7 and §8): each runs the stack (ingress, worker,
# notifier, a local webhook receiver with an endpoint per supplier) in a database and NATS
# namespace of its own, under an open-model load (loadgen --rate), injects its fault, ends it,
# times the recovery (fault end → every command stored by then acknowledged and the events it
# committed published) and then proves the invariants with target/release/faultcheck.
# Usage: scripts/faults.sh [--short] [scenario…]      (default: every scenario)
#   --short            small load (the test command runs this)
#   scenarios          worker-kill worker-kill-after-commit worker-stop nats-restart
#                      postgres-restart notifier-kill duplicates-poison
# Fails (exit 1) naming the scenario and the broken invariant, or the recovery over 10 s.
# BW_FAULTS_KEEP=1 keeps the databases; logs are in .local/logs/faults/<scenario>/;
# BW_FAULTS_NATS_BIN names the nats-server binary of nats-restart (default: lib.sh's).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/own_postgres.sh
source "$BW_ROOT/scripts/own_postgres.sh"

ALL_SCENARIOS=(worker-kill worker-kill-after-commit worker-stop nats-restart postgres-restart
  notifier-kill duplicates-poison)
RECOVERY_LIMIT=10          # seconds, DESIGN.md §8
ACK_WAIT=4                 # BW_ACK_WAIT_SECS of the scenario workers (see README "Faults")
IDLE_TX_TIMEOUT=3s         # idle_in_transaction_session_timeout of the scenario databases
FAULT_PORT_BASE=18480      # ingress, ops ports and the receiver: 18480-18486
FAULT_NATS_PORT=14422      # the throwaway NATS of nats-restart (monitoring 18422)
FAULT_PG_PORT=15433        # the own PostgreSQL of postgres-restart

short=0 scenarios=()
while (($#)); do
  case $1 in
    --short) short=1; shift ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown flag $1 (see --help)" ;;
    *) [[ " ${ALL_SCENARIOS[*]} " == *" $1 "* ]] || die "unknown scenario $1 (known: ${ALL_SCENARIOS[*]})"
       scenarios+=("$1"); shift ;;
  esac
done
((${#scenarios[@]})) || scenarios=("${ALL_SCENARIOS[@]}")
if ((short)); then orders=300 rate=40; else orders=2000 rate=100; fi

# ---------------------------------------------------------------- one scenario's stack

declare -A PID=()          # label → pid of the processes of the current scenario
SC_DIR='' SC_DB='' SC_ADMIN_URL='' SC_NATS_PID='' SC_NATS_STORE='' SC_PG_DIR=''
FC_DB=() FC_NATS=()        # faultcheck's flags for the current scenario

# sc_start <label> <command…>: a process of the scenario, log in $SC_DIR/<label>.log.
sc_start() {
  local label=$1
  shift
  "$@" >>"$SC_DIR/$label.log" 2>&1 &
  PID[$label]=$!
}

# sc_stop <label>: SIGTERM, SIGKILL after 15 s (a stopped process is continued first).
sc_stop() {
  local pid=${PID[$1]:-}
  unset "PID[$1]"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# sc_kill9 <label>: the fault itself.
sc_kill9() {
  local pid=${PID[$1]}
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  unset "PID[$1]"
}

ingress_env() { say "BW_HTTP_ADDR=127.0.0.1:$FAULT_PORT_BASE" "BW_OPS_ADDR=127.0.0.1:$((FAULT_PORT_BASE + 1))"; }
# worker_env <n> [VAR=value…]: worker n (1 or 2) with the scenario's ack wait.
worker_env() {
  say "BW_OPS_ADDR=127.0.0.1:$((FAULT_PORT_BASE + 1 + $1))" "BW_ACK_WAIT_SECS=$ACK_WAIT"
}
# Short webhook timeout: a lease (2 × timeout) held by a killed notifier expires soon.
notifier_env() { say "BW_OPS_ADDR=127.0.0.1:$((FAULT_PORT_BASE + 4))" BW_WEBHOOK_TIMEOUT_SECS=2; }
RECEIVER_ADDR=127.0.0.1:$((FAULT_PORT_BASE + 5))

start_worker() { # start_worker <n> [VAR=value…]
  local n=$1
  shift
  # shellcheck disable=SC2046 # one word per VAR=value
  sc_start "worker$n" env $(worker_env "$n") "$@" "$BW_BIN/worker"
}
start_notifier() {
  # shellcheck disable=SC2046
  sc_start notifier env $(notifier_env) "$BW_BIN/notifier"
}

start_fault_nats() {
  SC_NATS_STORE=$SC_DIR/nats
  mkdir -p "$SC_NATS_STORE"
  sed -e "s/^port: 14222/port: $FAULT_NATS_PORT/" -e 's/^http_port: 18222/http_port: 18422/' \
    "$BW_ROOT/nats/nats-server.conf" >"$SC_DIR/nats.conf"
  "$FAULT_NATS_BIN" -c "$SC_DIR/nats.conf" -sd "$SC_NATS_STORE" >>"$SC_DIR/nats.log" 2>&1 &
  SC_NATS_PID=$!
  wait_for "throwaway NATS on $FAULT_NATS_PORT" 30 curl -fs -o /dev/null 'http://127.0.0.1:18422/healthz?js-enabled-only=true'
}

db_count() { psql "$DATABASE_URL" -XtAq -c "$1"; }
processed_orders() { db_count "select count(*) from master_orders"; }
at_least_processed() { (($(processed_orders 2>/dev/null || echo 0) >= $1)); }
ingress_answers() { curl -fs -o /dev/null "http://127.0.0.1:$FAULT_PORT_BASE/ready"; }
ingress_unready() { ! ingress_answers; }
receiver_up() { curl -fs -o /dev/null -X POST "http://$RECEIVER_ADDR/probe"; }
proc_state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }
stopped() { [[ $(proc_state "$1") == T ]]; }

# A batch of the worker in the middle of its transaction: one of its inserts running, or
# the transaction open between statements.
worker_mid_batch() {
  [[ $(psql "$DATABASE_URL" -XtAq -v db="$SC_DB" <<'SQL'
select count(*) from pg_stat_activity
where datname = :'db' and pid <> pg_backend_pid() and xact_start is not null
  and state in ('active', 'idle in transaction')
  and query ~* 'insert into (master_orders|purchase_orders|purchase_order_lines|sales_orders|sales_order_lines|commands|audit_log|outbox)'
SQL
  ) -gt 0 ]]
}

# The COMMANDS stream of the scenario: every message up to <seq> acknowledged (a work queue).
commands_last_seq() { "$BW_BIN/faultcheck" stream-seq "${FC_NATS[@]}" 2>/dev/null; }

# sc_setup <scenario>: database, namespace, services and processes; the load is not started.
sc_setup() {
  local name=$1 suffix
  shift
  suffix=$(date +%s)$RANDOM
  SC_DIR=$BW_LOCAL/logs/faults/$name
  rm -rf "$SC_DIR"
  mkdir -p "$SC_DIR"
  export BW_NAMESPACE=faults_${name//-/_}_$suffix
  SC_DB=bluewhale_$BW_NAMESPACE
  local pg_base=postgres://postgres@127.0.0.1:5432
  if [[ $name == postgres-restart ]]; then
    SC_PG_DIR=$(own_postgres_dir faults-pg)
    stop_own_postgres "$SC_PG_DIR"
    start_own_postgres "$SC_PG_DIR" "$FAULT_PG_PORT"
    pg_base=postgres://postgres@127.0.0.1:$FAULT_PG_PORT
  fi
  SC_ADMIN_URL=$pg_base/postgres
  export DATABASE_URL=$pg_base/$SC_DB
  psql "$SC_ADMIN_URL" -Xq -v ON_ERROR_STOP=1 -v db="$SC_DB" <<<'create database :"db"' ||
    die "$name: cannot create database $SC_DB"
  # A frozen worker (SIGSTOP, a VM pause) inside its batch transaction holds the gapless
  # number counters' row locks: without this timeout every other worker waits on them for as
  # long as it stays frozen (measured: worker-stop never recovers). Below ack_wait, so the
  # locks are free by the time its commands are redelivered to another worker.
  psql "$SC_ADMIN_URL" -Xq -v ON_ERROR_STOP=1 -v db="$SC_DB" -v t="$IDLE_TX_TIMEOUT" \
    <<<'alter database :"db" set idle_in_transaction_session_timeout = :'"'"'t'"'" ||
    die "$name: cannot set idle_in_transaction_session_timeout"
  if [[ $name == nats-restart ]]; then
    start_fault_nats
    export NATS_URL=nats://127.0.0.1:$FAULT_NATS_PORT
  else
    export NATS_URL=$SHARED_NATS_URL
  fi
  FC_DB=(--database-url "$DATABASE_URL")
  FC_NATS=(--nats-url "$NATS_URL" --namespace "$BW_NAMESPACE")
  "$BW_BIN/seed" >"$SC_DIR/seed.log" 2>&1 || die "$name: seed failed (see $SC_DIR/seed.log)"
  psql "$DATABASE_URL" -qc ANALYZE
  ! ingress_answers || die "127.0.0.1:$FAULT_PORT_BASE already answers: another faults.sh run?"
  # shellcheck disable=SC2046
  sc_start ingress env $(ingress_env) "$BW_BIN/ingress"
  wait_for "$name: ingress ready" 60 ingress_answers
  sc_start receiver "$BW_BIN/faultcheck" receiver --listen "$RECEIVER_ADDR" --log "$SC_DIR/receipts.log" --delay-ms 20
  wait_for "$name: webhook receiver" 30 receiver_up
  # The endpoints are commands too: the worker applies them.
  start_worker 1 "$@"
  "$BW_BIN/faultcheck" webhooks --base-url "http://127.0.0.1:$FAULT_PORT_BASE" \
    --receiver-url "http://$RECEIVER_ADDR/hook" >>"$SC_DIR/faultcheck.log" ||
    die "$name: webhook endpoints not registered (see $SC_DIR/faultcheck.log)"
  start_notifier
}

# sc_load: the open-model load in the background (its output in loadgen.log).
sc_load() {
  "$BW_BIN/loadgen" --base-url "http://127.0.0.1:$FAULT_PORT_BASE" "${FC_NATS[@]}" \
    --database-url "$DATABASE_URL" --skip-baselines --orders "$orders" --rate "$rate" \
    --timeout-secs 120 --accepted-file "$SC_DIR/accepted.txt" >"$SC_DIR/loadgen.log" 2>&1 &
  PID[loadgen]=$!
}

# sc_recover <fault end ms> [--webhooks]: the time to recover (sets RECOVERY), 1 if over the limit.
sc_recover() {
  local end_ms=$1 out rc
  out=$("$BW_BIN/faultcheck" recover "${FC_DB[@]}" "${FC_NATS[@]}" --fault-end-ms "$end_ms" \
    --limit-secs "$RECOVERY_LIMIT" --deadline-secs 120 "${@:2}" 2>&1) && rc=0 || rc=$?
  say "$out" | tee -a "$SC_DIR/faultcheck.log" | sed 's/^/  /' | grep -v RECOVERY_SECS || true
  RECOVERY=$(sed -n 's/^RECOVERY_SECS=//p' <<<"$out")
  RECOVERY=${RECOVERY:-none}
  return "$rc"
}

# sc_finish: the load's end, everything settled, then the checker.
sc_finish() {
  local rc=0 missing
  wait "${PID[loadgen]}" || true   # errors during the fault (503s) are expected; the checker judges
  unset "PID[loadgen]"
  missing=$(grep -o '"missing":[0-9]*' "$SC_DIR/loadgen.log" | head -n1 | cut -d: -f2)
  say "  loadgen: $(grep -E '^ *(accepted|e2e|errors)' "$SC_DIR/loadgen.log" | tr -s ' ' | paste -sd ';' -)"
  [[ -s $SC_DIR/accepted.txt ]] || die "$SCENARIO: loadgen wrote no accepted orders (see $SC_DIR/loadgen.log)"
  # The rest of the pipeline (dead letters, webhooks) settles before the check.
  "$BW_BIN/faultcheck" recover "${FC_DB[@]}" "${FC_NATS[@]}" --webhooks --limit-secs 120 \
    --deadline-secs 120 >>"$SC_DIR/faultcheck.log" 2>&1 || say "  warning: the pipeline did not settle within 120 s"
  "$BW_BIN/faultcheck" check "${FC_DB[@]}" "${FC_NATS[@]}" --accepted "$SC_DIR/accepted.txt" \
    --receipts "$SC_DIR/receipts.log" "${@}" >"$SC_DIR/check.txt" 2>&1 || rc=1
  sed 's/^/  /' "$SC_DIR/check.txt"
  if [[ ${missing:-0} != 0 ]]; then
    say "  FAIL loadgen reported $missing accepted orders without their event"
    rc=1
  fi
  return "$rc"
}

sc_teardown() {
  local label
  for label in "${!PID[@]}"; do sc_stop "$label"; done
  if [[ -n $SC_NATS_PID ]]; then
    kill -TERM "$SC_NATS_PID" 2>/dev/null || true
    wait "$SC_NATS_PID" 2>/dev/null || true
    SC_NATS_PID=''
  fi
  if [[ -n $SC_DB && ${BW_FAULTS_KEEP:-} != 1 ]]; then
    psql "$SC_ADMIN_URL" -Xq -v db="$SC_DB" <<<'drop database if exists :"db" with (force)' 2>/dev/null || true
    if [[ -n $BW_NAMESPACE && $NATS_URL == "$SHARED_NATS_URL" ]]; then
      "$BW_BIN/faultcheck" delete-streams "${FC_NATS[@]}" >/dev/null 2>&1 || true
    fi
  fi
  if [[ -n $SC_PG_DIR && ${BW_FAULTS_KEEP:-} != 1 ]]; then stop_own_postgres "$SC_PG_DIR"; fi
  [[ -z $SC_NATS_STORE || ${BW_FAULTS_KEEP:-} == 1 ]] || rm -rf "$SC_NATS_STORE"
  SC_DB='' SC_PG_DIR='' SC_NATS_STORE='' FC_DB=() FC_NATS=()
}

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- the scenarios
# Each injects its fault once a quarter of the orders are processed, ends it, and calls
# sc_recover with the instant it ended.

scenario_worker-kill() {
  sc_setup worker-kill
  sc_load
  wait_for "a quarter of the orders processed" 60 at_least_processed $((orders / 4))
  wait_for "worker in the middle of a batch transaction" 30 worker_mid_batch
  sc_kill9 worker1
  say "  fault: kill -9 of the worker inside a batch transaction; a new worker started"
  start_worker 1
  sc_recover "$(now_ms)"
}

scenario_worker-kill-after-commit() {
  # Armed for the 60th ack (the 5 endpoint registrations come first): the worker stops itself
  # right after a batch of orders committed, before its first ack.
  sc_setup worker-kill-after-commit BW_FAILPOINT=after-commit-before-ack:60
  sc_load
  wait_for "worker frozen by its failpoint after a commit" 60 stopped "${PID[worker1]}"
  grep -q 'failpoint after-commit-before-ack reached' "$SC_DIR/worker1.log" ||
    die "worker-kill-after-commit: the worker stopped but not at its failpoint"
  sc_kill9 worker1
  say "  fault: kill -9 of the worker between a batch's commit and its ack; a new worker started"
  start_worker 1
  sc_recover "$(now_ms)"
}

scenario_worker-stop() {
  local stopped_at seq takeover
  sc_setup worker-stop
  start_worker 2
  sc_load
  wait_for "a quarter of the orders processed" 60 at_least_processed $((orders / 4))
  kill -STOP "${PID[worker1]}"
  stopped_at=$(now_ms)
  seq=$(commands_last_seq)
  # The stopped worker's unacknowledged commands go to the other after ack_wait.
  wait_for "worker 2 taking over the commands stored before the stop" 60 commands_acked_through "$seq"
  takeover=$(( $(now_ms) - stopped_at ))
  NOTE="takeover $((takeover / 1000)).$(printf %03d $((takeover % 1000))) s after SIGSTOP (ack_wait ${ACK_WAIT} s)"
  say "  fault: SIGSTOP of worker 1; worker 2 processed every command stored before the stop: $NOTE; SIGCONT"
  kill -CONT "${PID[worker1]}"
  sc_recover "$(now_ms)"
}
commands_acked_through() { "$BW_BIN/faultcheck" acked-through "${FC_NATS[@]}" --sequence "$1" 2>/dev/null; }

scenario_nats-restart() {
  sc_setup nats-restart
  sc_load
  wait_for "a quarter of the orders processed" 60 at_least_processed $((orders / 4))
  kill -KILL "$SC_NATS_PID"
  wait "$SC_NATS_PID" 2>/dev/null || true
  wait_for "the ingress to notice NATS is gone" 30 ingress_unready
  "$FAULT_NATS_BIN" -c "$SC_DIR/nats.conf" -sd "$SC_NATS_STORE" >>"$SC_DIR/nats.log" 2>&1 &
  SC_NATS_PID=$!
  wait_for "NATS back" 30 curl -fs -o /dev/null 'http://127.0.0.1:18422/healthz?js-enabled-only=true'
  say "  fault: kill -9 of NATS (the ingress answered not ready), restarted on the same store"
  sc_recover "$(now_ms)"
}

scenario_postgres-restart() {
  sc_setup postgres-restart
  sc_load
  wait_for "a quarter of the orders processed" 60 at_least_processed $((orders / 4))
  restart_own_postgres "$SC_PG_DIR" immediate
  say "  fault: immediate restart of PostgreSQL (crash and recovery) on port $FAULT_PG_PORT"
  sc_recover "$(now_ms)"
}

scenario_notifier-kill() {
  sc_setup notifier-kill
  sc_load
  wait_for "a quarter of the orders processed" 60 at_least_processed $((orders / 4))
  wait_for "a webhook delivery in flight" 30 delivery_in_flight
  sc_kill9 notifier
  say "  fault: kill -9 of the notifier with a webhook delivery in flight; a new notifier started"
  start_notifier
  sc_recover "$(now_ms)" --webhooks
}
delivery_in_flight() {
  [[ $(db_count "select count(*) from notification_messages where channel = 'WEBHOOK' and status = 'PENDING' and lease_token is not null and leased_until > now()") -gt 0 ]]
}

scenario_duplicates-poison() {
  sc_setup duplicates-poison
  sc_load
  wait_for "a quarter of the orders processed" 60 at_least_processed $((orders / 4))
  "$BW_BIN/faultcheck" inject "${FC_DB[@]}" "${FC_NATS[@]}" --duplicates 5 \
    --dead-letters-out "$SC_DIR/expected-dead-letters.txt" | sed 's/^/  /'
  sc_recover "$(now_ms)"
}

# ---------------------------------------------------------------- main

load_dotenv
ensure_services
SHARED_NATS_URL=$NATS_URL
export BLUEWHALE_DEMO_PASSWORD=${BLUEWHALE_DEMO_PASSWORD:-bluewhale-demo}
ensure_jwt_secret
ensure_webhook_key
export BW_LOG_FORMAT=${BW_LOG_FORMAT:-pretty}
# The throwaway NATS of nats-restart: the project's binary (BW_FAULTS_NATS_BIN overrides).
FAULT_NATS_BIN=${BW_FAULTS_NATS_BIN:-}
[[ " ${scenarios[*]} " != *" nats-restart "* || -n $FAULT_NATS_BIN ]] || FAULT_NATS_BIN=$(nats_binary)
say "build: cargo build --release --workspace --bins"
(cd "$BW_ROOT" && nice -n 10 cargo build --release --workspace --bins -q)
trap sc_teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "faults: ${scenarios[*]} — $orders orders at $rate/s each, recovery limit ${RECOVERY_LIMIT} s, logs in ${BW_LOCAL#"$BW_ROOT"/}/logs/faults/"
results=() failures=()
for SCENARIO in "${scenarios[@]}"; do
  say "==> $SCENARIO"
  started=$SECONDS rc=0 RECOVERY=none NOTE=
  "scenario_$SCENARIO" || rc=1
  extra=()
  [[ $SCENARIO != duplicates-poison ]] || extra=(--expected-dead-letters "$SC_DIR/expected-dead-letters.txt")
  ((rc == 0)) || failures+=("$SCENARIO: recovery over ${RECOVERY_LIMIT} s (${RECOVERY} s)")
  if ! sc_finish "${extra[@]}"; then
    failures+=("$SCENARIO: $(grep -o 'BROKEN: .*' "$SC_DIR/check.txt" || say 'loadgen missing orders')")
    rc=1
  fi
  sc_teardown
  verdict=ok
  ((rc == 0)) || verdict=FAILED
  results+=("$(printf '%-26s recovery %6s s   %-6s (scenario %d s)%s' "$SCENARIO" "$RECOVERY" \
    "$verdict" $((SECONDS - started)) "${NOTE:+; $NOTE}")")
done

say "==> summary (recovery: fault end → backlog drained; limit ${RECOVERY_LIMIT} s)"
printf '  %s\n' "${results[@]}"
((${#failures[@]} == 0)) || die "fault scenarios failed:$(printf '\n  %s' "${failures[@]}")"
say "faults: every scenario passed"
