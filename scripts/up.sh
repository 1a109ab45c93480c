#!/usr/bin/env bash
# Quick start: services (PostgreSQL, NATS, the mail catcher), release build, migrations + demo
# data, then the ingress, one worker and one notifier until Ctrl-C. Settings: environment, else .env, else defaults (see .env.example).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_dotenv
export BW_LOG_FORMAT=${BW_LOG_FORMAT:-pretty}   # a terminal, not a log collector
prepare_stack

stop_bins_on_exit
start_ingress
start_bin worker
start_bin notifier
wait_ingress_ready

url=$(ingress_url)
[[ $BLUEWHALE_DEMO_PASSWORD == bluewhale-demo ]] && pw=bluewhale-demo || pw='<your BLUEWHALE_DEMO_PASSWORD>'
say "ready at $url — docs at $url/docs, log in as station@demo.bluewhale.test / $pw"
say "supplier e-mails: inbox at $BW_MAIL_WEB_URL (Ctrl-C to stop)"

rc=0
wait -n "${BW_PIDS[@]}" || rc=$?
say "a process exited (status $rc); stopping the others" >&2
exit $((rc ? rc : 1))
