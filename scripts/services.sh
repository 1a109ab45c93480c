#!/usr/bin/env bash
# Development services: PostgreSQL, NATS >= 2.10 with JetStream and a mail catcher (maildev),
# reusing whatever already runs and is good enough; otherwise starts/installs them under .local/
# (NATS on 14222, maildev SMTP 1025 and inbox http://127.0.0.1:1080). Safe to re-run. Settings:
# environment, else .env, else defaults (DATABASE_URL, NATS_URL, BW_SMTP_URL, BW_MAIL_WEB_URL).
# Usage: scripts/services.sh [up|stop]   (stop: stops the project NATS server, data kept, and
# the project maildev, caught mails lost)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_dotenv
case ${1:-up} in
  up) ensure_services ;;
  stop) stop_project_nats; stop_mail_catcher ;;
  *) die "usage: $0 [up|stop]" ;;
esac
