# A throwaway PostgreSQL cluster of the project's own, made with the installed initdb on its
# own port: for the benchmark (production settings) and the fault scenarios (restarted under
# load). The machine's shared server is never touched. Sourced after scripts/lib.sh.
# shellcheck shell=bash

# The directory of the installed server binaries (initdb, pg_ctl, postgres).
pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x $dir/initdb ]] && { say "$dir"; return 0; }
  done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
  die "initdb not found (apt-get install postgresql)"
}

# pg_as_owner <command...>: initdb and postgres refuse to run as root; run them as the
# postgres user when we are root.
pg_as_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# own_postgres_dir <name>: where a cluster called <name> lives: under .local when the postgres
# user can reach it, else (a checkout under a private directory, as a CI clone in a
# mktemp dir is) under /tmp, keyed by the checkout so two checkouts never share one.
own_postgres_dir() {
  mkdir -p "$BW_LOCAL"
  if ((EUID != 0)) || runuser -u postgres -- test -x "$BW_LOCAL" 2>/dev/null; then
    say "$BW_LOCAL/$1"
    return 0
  fi
  local root=/tmp/bluewhale-own-pg
  mkdir -p "$root"
  chmod 755 "$root"
  say "$root/$(printf '%s' "$BW_ROOT" | cksum | cut -d' ' -f1)-$1"
}

# start_own_postgres <dir> <port> [setting=value…]: initdb a fresh cluster in <dir> (trust auth
# on loopback, fsync and synchronous_commit on: durable like production) and start it on
# <port> with the given extra settings. Prints nothing; the URL is
# postgres://postgres@127.0.0.1:<port>/postgres.
start_own_postgres() {
  local dir=$1 port=$2 bin setting
  shift 2
  bin=$(pg_bindir)
  mkdir -p "$dir"
  if ((EUID == 0)); then
    chown postgres: "$dir"
    pg_as_owner test -x "$dir" || die "$dir: the postgres user cannot enter it (a parent is private)"
  fi
  pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$dir/initdb.log")"
  {
    say "listen_addresses = '127.0.0.1'"
    say "port = $port"
    say "unix_socket_directories = '$dir'"
    for setting in "$@"; do say "$setting"; done
  } >>"$dir/data/postgresql.conf"
  pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null ||
    die "own PostgreSQL on port $port did not start: $(tail -n 5 "$dir/postgres.log")"
}

# restart_own_postgres <dir> [mode]: restart it (mode immediate = a crash and recovery).
restart_own_postgres() {
  local bin
  bin=$(pg_bindir)
  pg_as_owner "$bin/pg_ctl" -D "$1/data" -m "${2:-fast}" -w -t 60 restart -l "$1/postgres.log" >/dev/null
}

# stop_own_postgres <dir>: stop it and remove its files.
stop_own_postgres() {
  local bin
  [[ -d $1/data ]] || return 0
  bin=$(pg_bindir)
  pg_as_owner "$bin/pg_ctl" -D "$1/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  rm -rf "$1"
}

# Production-like settings for a 2-core, 24 GiB machine that PostgreSQL shares with the rest
# of the stack: durable commits, a buffer cache that holds the benchmark's working set, and
# checkpoints spread out so that full-page writes do not dominate the WAL.
OWN_PG_PRODUCTION_SETTINGS=(
  "shared_buffers = 6GB"
  "effective_cache_size = 12GB"
  "work_mem = 16MB"
  "maintenance_work_mem = 512MB"
  "wal_buffers = 64MB"
  "max_wal_size = 16GB"
  "min_wal_size = 2GB"
  "checkpoint_timeout = 15min"
  "checkpoint_completion_target = 0.9"
  "wal_compression = lz4"
  "max_connections = 200"
  "random_page_cost = 1.1"
  "effective_io_concurrency = 200"
  "autovacuum_vacuum_scale_factor = 0.05"
  "autovacuum_analyze_scale_factor = 0.02"
)
