#!/usr/bin/env bash
# Development services: PostgreSQL and NATS >= 2.10 with JetStream, reusing whatever already
# runs and is good enough; otherwise starts/installs them (NATS under .local/, port 14222).
# Safe to re-run. Settings: environment, else .env, else defaults (DATABASE_URL, NATS_URL).
# Usage: scripts/services.sh [up|stop]   (stop: stops the project NATS server, data kept)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_dotenv
case ${1:-up} in
  up) ensure_services ;;
  stop) stop_project_nats ;;
  *) die "usage: $0 [up|stop]" ;;
esac
