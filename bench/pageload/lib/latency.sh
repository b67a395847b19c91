#!/usr/bin/env bash
# lib/latency.sh up RTT_MS | down - the delayed link of latency mode (run.sh calls it when PL_RTT_MS
# is set). up: creates the network namespace $PL_NETNS, builds netdelay from DEVPROXY_SRC
# (bench/pageload/netdelay) and starts it: a TUN pair, 10.231.0.1 in the root namespace and
# 10.231.0.2 in $PL_NETNS, every packet held RTT_MS/2 each way. down: stops netdelay by its PID
# (the devices go with it) and deletes the namespace.
# Why not veth + tc netem: this machine's kernel has no netem (CONFIG_NET_SCH_NETEM is not set).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/proc.sh"
NS=${PL_NETNS:-devproxy-pl}
NET_DIR="$RUN_DIR/net"
SRC="${DEVPROXY_SRC:-${PAGELOAD_CALLER_DIR:-$PWD}}"
BIN="$RUN_DIR/bin/netdelay"
mkdir -p "$NET_DIR"

case "${1:-}" in
  up)
    rtt=${2:?usage: $0 up RTT_MS}
    [[ -e /var/run/netns/$NS ]] && { echo "error: network namespace $NS exists; run $0 down first" >&2; exit 1; }
    mkdir -p "$RUN_DIR/bin"
    if ! (cd "$SRC" && timeout 300 go build -o "$BIN" ./bench/pageload/netdelay) >"$NET_DIR/build.log" 2>&1; then
      echo "error: go build ./bench/pageload/netdelay failed in $SRC (log: $NET_DIR/build.log)" >&2
      exit 1
    fi
    ip netns add "$NS"
    rm -f "$NET_DIR/ready"
    PIDFILE="$NET_DIR/netdelay.pids"
    pid=$(start_bg netdelay "$NET_DIR/netdelay.log" "$BIN" -netns "$NS" -rtt "${rtt}ms" -host 10.231.0.1 -peer 10.231.0.2 -ready "$NET_DIR/ready")
    for ((i = 0; i < 50; i++)); do
      [[ -e $NET_DIR/ready ]] && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if [[ ! -e $NET_DIR/ready ]]; then
      cat "$NET_DIR/netdelay.log" >&2
      "$0" down >&2
      exit 1
    fi
    cat "$NET_DIR/netdelay.log" >&2
    ;;
  down)
    stop_pidfile "$NET_DIR/netdelay.pids"
    if [[ -e /var/run/netns/$NS ]]; then ip netns del "$NS" && echo "deleted network namespace $NS"; fi
    ;;
  *) echo "usage: $0 up RTT_MS | down" >&2; exit 2 ;;
esac
