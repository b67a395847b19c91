#!/usr/bin/env bash
# A second devproxy, built from $DEVPROXY_B_SRC (say a git worktree of the commit before a change),
# otherwise as proxies/devproxy.sh: for A/B of a change in the browser, interleaved with devproxy:
#   DEVPROXY_B_SRC=/tmp/before ORDER=rotate ROUNDS=5 run.sh direct devproxy devproxy-b
# DEVPROXY_B_ENV adds environment variables to this one only (say GOMAXPROCS=1 GOGC=200);
# DEVPROXY_B_SRC defaults to the same source then.
set -euo pipefail
HERE="$(dirname "${BASH_SOURCE[0]}")"
if [[ -z ${DEVPROXY_B_SRC:-} && -n ${DEVPROXY_B_ENV:-} ]]; then DEVPROXY_B_SRC=${DEVPROXY_SRC:-${PAGELOAD_CALLER_DIR:-$PWD}}; fi
[[ -n ${DEVPROXY_B_SRC:-} ]] || { echo "DEVPROXY_B_SRC is not set: the folder of the devproxy to compare" >&2; exit 1; }
export DEVPROXY_VARIANT=devproxy-b DEVPROXY_BIN=devproxy-b DEVPROXY_SRC=$DEVPROXY_B_SRC
# shellcheck disable=SC2086 # a list of NAME=value words
[[ -z ${DEVPROXY_B_ENV:-} ]] || export ${DEVPROXY_B_ENV?}
case "${1:-}" in
  prepare | start | stop | url) exec bash "$HERE/devproxy.sh" "$1" ;;
  version) echo "$(bash "$HERE/devproxy.sh" version) ($(basename "$DEVPROXY_B_SRC")${DEVPROXY_B_ENV:+ $DEVPROXY_B_ENV})" ;;
  *) echo "usage: $0 prepare|start|stop|version|url" >&2; exit 2 ;;
esac
