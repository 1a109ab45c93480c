#!/usr/bin/env bash
# Checks the Prometheus configuration and alert rules of observability/ with promtool, and runs
# the rules' unit tests. Uses a promtool on PATH, else unpacks the one of Debian's `prometheus`
# package into .local/promtool (downloaded, not installed: no daemon, no root needed). Where
# neither is possible it says so and succeeds, so machines without apt still run the suite.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

promtool_bin() {
  if command -v promtool >/dev/null 2>&1; then command -v promtool; return; fi
  local dir="$BW_ROOT/.local/promtool"
  if [[ ! -x "$dir/usr/bin/promtool" ]] && command -v apt-get >/dev/null 2>&1; then
    say "fetching promtool (Debian package prometheus) into $dir" >&2
    local tmp; tmp=$(mktemp -d)
    if (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1); then
      dpkg -x "$tmp"/prometheus_*.deb "$dir"
    fi
    rm -rf "$tmp"
  fi
  [[ -x "$dir/usr/bin/promtool" ]] && echo "$dir/usr/bin/promtool"
}

if ! promtool=$(promtool_bin); then
  say "promtool unavailable (no PATH entry, no apt-get): alert rules not checked"
  exit 0
fi
cd "$BW_ROOT/observability"
"$promtool" check config --syntax-only prometheus.yml
"$promtool" check rules alerts.yml
"$promtool" test rules alerts_test.yml
