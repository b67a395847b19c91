#!/usr/bin/env bash
# Chromium as measure.mjs starts it (run.sh sets CHROMIUM to this file): the real binary
# ($PL_CHROMIUM_BIN) with HOME=.run/home, whose NSS database (.pki/nssdb) `devproxy trust` fills in
# proxies/devproxy-h2.sh prepare, so every variant runs with the same profile home; in latency mode
# ($PL_NETNS set by run.sh) inside that network namespace, at the far end of the delayed link.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/proc.sh"
mkdir -p "$RUN_DIR/home"
export HOME="$RUN_DIR/home"
unset XDG_CONFIG_HOME
real=${PL_CHROMIUM_BIN:-/usr/bin/chromium}
if [[ -n ${PL_NETNS:-} ]]; then
  exec ip netns exec "$PL_NETNS" "$real" "$@"
fi
exec "$real" "$@"
