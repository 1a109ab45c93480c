#!/usr/bin/env bash
# Supply chain (issue 9 §6): cargo deny checks the licences, bans and sources of every
# dependency against deny.toml, and the RustSec advisories when their database (on GitHub)
# can be reached. Installs the pinned cargo-deny into cargo's bin directory when missing
# (a one-time build of a few minutes).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$BW_ROOT"

CARGO_DENY_PIN=0.20.2
if [[ $(cargo deny --version 2>/dev/null) != "cargo-deny $CARGO_DENY_PIN" ]]; then
  say "deny: installing cargo-deny $CARGO_DENY_PIN (once per machine)"
  cargo install --locked --quiet --version "$CARGO_DENY_PIN" cargo-deny
fi

checks=(licenses bans sources)
if timeout 10 git ls-remote --heads https://github.com/RustSec/advisory-db main >/dev/null 2>&1; then
  checks+=(advisories)
else
  say "deny: the RustSec advisory database (github.com) is unreachable from here: advisories not checked"
fi
cargo deny --log-level error check "${checks[@]}"
