#!/usr/bin/env bash
# devproxy with https: true (HTTP/2 to the browser by ALPN; Vite and the backend still over plain
# HTTP/1.1), otherwise as proxies/devproxy.sh. The page is https://$PL_HOST:8080.
#   proxies/devproxy-h2.sh prepare   # build, then `devproxy trust` with HOME=.run/home: creates the
#                                    # CA in .run/home/.config/devproxy and adds it to
#                                    # .run/home/.pki/nssdb, the NSS database of the harness's
#                                    # Chromium (lib/chromium.sh runs it with that HOME)
#   proxies/devproxy-h2.sh start|stop|version|url
# Chromium gets no --ignore-certificate-errors: it trusts the CA as a user's would after
# `devproxy trust`. The system-store step of devproxy trust is kept off this shared machine by a
# PATH that holds certutil only; it reports FAIL and is not needed by Chromium.
set -euo pipefail
HERE="$(dirname "${BASH_SOURCE[0]}")"
source "$HERE/../lib/proc.sh"
export DEVPROXY_VARIANT=devproxy-h2 DEVPROXY_HTTPS=true

case "${1:-}" in
  prepare)
    bash "$HERE/devproxy.sh" prepare
    command -v certutil >/dev/null || { echo "certutil not found (apt-get install -y libnss3-tools)" >&2; exit 1; }
    mkdir -p "$RUN_DIR/home" "$RUN_DIR/trust-path"
    ln -sf "$(command -v certutil)" "$RUN_DIR/trust-path/certutil"
    out=$(HOME="$RUN_DIR/home" XDG_CONFIG_HOME="" PATH="$RUN_DIR/trust-path" "$RUN_DIR/bin/devproxy" trust 2>&1 || true)
    echo "$out" >"$RUN_DIR/devproxy-trust.log"
    if ! grep -q '^ok  *Chromium NSS database' <<<"$out"; then
      echo "devproxy trust did not add the CA to $RUN_DIR/home/.pki/nssdb: $(tr '\n' ' ' <<<"$out" | head -c 300)" >&2
      exit 1
    fi
    ;;
  start | stop | version | url) exec bash "$HERE/devproxy.sh" "$1" ;;
  *) echo "usage: $0 prepare|start|stop|version|url" >&2; exit 2 ;;
esac
