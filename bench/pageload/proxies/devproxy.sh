#!/usr/bin/env bash
# devproxy over plain HTTP/1.1, built from source and run on $PL_HOST:8080 (127.0.0.1 on loopback;
# the root namespace's end of the delayed link in latency mode) with a config file in .run/:
#   listen: $PL_HOST:8080 / frontend: http://$PL_HOST:5173 / routes: /api -> http://127.0.0.1:5000
#   proxies/devproxy.sh prepare   # go build -o .run/bin/devproxy . in DEVPROXY_SRC
#   proxies/devproxy.sh start     # background; PID in .run/devproxy.pid, log in .run/devproxy.log
#   proxies/devproxy.sh stop|version|url
# DEVPROXY_ARGS adds arguments to the command line (say -inspect=false; through DEVPROXY_B_ENV for
# devproxy-b alone).
# Replaces the shared harness's devproxy.sh, which listens on 127.0.0.1 only. devproxy runs with
# HOME=.run/home, as devproxy-h2 does, so both read the same (empty) user config folder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/proc.sh"
NAME=${DEVPROXY_VARIANT:-devproxy}
PIDFILE="$RUN_DIR/$NAME.pid"
SRC="${DEVPROXY_SRC:-${PAGELOAD_CALLER_DIR:-$PWD}}"
BIN="$RUN_DIR/bin/${DEVPROXY_BIN:-devproxy}"
CFG="$RUN_DIR/$NAME.yaml"
HOST=${PL_HOST:-127.0.0.1}
HTTPS=${DEVPROXY_HTTPS:-false}
SCHEME=http
[[ $HTTPS == true ]] && SCHEME=https

case "${1:-}" in
  prepare)
    command -v go >/dev/null || { echo "go not found" >&2; exit 1; }
    [[ -d $SRC ]] || { echo "DEVPROXY_SRC=$SRC is not a directory" >&2; exit 1; }
    mkdir -p "$RUN_DIR/bin" "$RUN_DIR/home"
    if ! (cd "$SRC" && timeout 300 go build -o "$BIN.new" .) >"$RUN_DIR/$NAME-build.log" 2>&1; then
      echo "go build failed in $SRC: $(grep -v '^#' "$RUN_DIR/$NAME-build.log" | head -n 1) (log: .run/$NAME-build.log)" >&2
      exit 1
    fi
    mv "$BIN.new" "$BIN"
    ;;
  start)
    [[ -x $BIN ]] || { echo "error: $BIN missing; run $0 prepare first" >&2; exit 1; }
    if [[ -s $PIDFILE ]]; then echo "error: $PIDFILE exists; run $0 stop first" >&2; exit 1; fi
    if port_open 8080 "$HOST"; then echo "error: $HOST:8080 is already in use" >&2; exit 1; fi
    {
      echo "listen: $HOST:8080"
      echo "https: $HTTPS"
      # a non-loopback address is a name devproxy must accept and (over https) certify
      [[ $HOST == 127.0.0.1 ]] || echo "allowed_hosts: [$HOST]"
      echo "frontend: http://$HOST:5173"
      echo "routes:"
      echo "  /api: http://127.0.0.1:5000"
    } >"$CFG"
    # shellcheck disable=SC2086 # DEVPROXY_ARGS is a list of words
    pid=$(HOME="$RUN_DIR/home" XDG_CONFIG_HOME="" start_bg "$NAME" "$RUN_DIR/$NAME.log" "$BIN" -config "$CFG" ${DEVPROXY_ARGS:-})
    if ! WAIT_HOST=$HOST wait_port "$NAME" 8080 30 "$pid"; then tail -n 20 "$RUN_DIR/$NAME.log" >&2; stop_pidfile "$PIDFILE"; exit 1; fi
    echo "$NAME up: pid $pid"
    ;;
  stop) stop_pidfile "$PIDFILE" ;;
  version) if out=$("$BIN" -version 2>/dev/null); then echo "${out%%$'\n'*}"; else echo "(no -version flag)"; fi ;;
  url) echo "$SCHEME://$HOST:8080" ;;
  *) echo "usage: $0 prepare|start|stop|version|url" >&2; exit 2 ;;
esac
