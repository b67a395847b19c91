// Package devproxy is a local development proxy: one origin for a frontend
// and every API it calls, so the browser never makes a cross-origin request.
//
// A request takes this path:
//
//	client ─▶ Server ─▶ router (loaded once per request from an atomic.Pointer)
//	                      ├─ /__devproxy/…  devproxy's own endpoints (status)
//	                      ├─ longest route prefix ─▶ [cors mode] ─▶ mock (respond) or httputil.ReverseProxy ─▶ target
//	                      └─ everything else     ─▶ frontend: dev server (proxied) or folder (static, SPA)
//
// Before routing, the path's dot segments are resolved and a path that could
// leave its route once a target decodes it is refused (router.go,
// resolveDots); routing and forwarding use the resolved path.
//
// Configuration flows one way: devproxy.yaml ─▶ ParseConfig ─▶ Config ─▶
// compile ─▶ immutable router ─▶ one atomic store. A reload builds the whole
// new router first and swaps it in only when it is complete, so a request is
// served entirely by the config that was current when it started.
//
// ReverseProxy's Transport is the target's pool (roundtrip.go): a plain-HTTP
// GET, HEAD or OPTIONS without a body is written and its response read on the
// request's own goroutine over a kept connection; anything else (https, bodies,
// WebSocket upgrades) goes through the pool's http.Transport. A kept
// connection on which anything arrived while it idled is closed at hand-off,
// so a response is only ever read by the request it answers.
//
// Cors mode (cors.go) wraps a route's handler when its config has a cors
// block: it answers preflights and owns the Access-Control-* headers. Package
// doctor is the other side: it sends the requests a browser would and judges
// the answers as Chromium does, which its browser suite checks case by case.
//
// Why a connection to a target failed is worded once, by internal/neterr,
// for the proxy's failures (proxyerror.go), doctor and the CLI.
package devproxy
