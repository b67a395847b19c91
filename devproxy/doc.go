// Package devproxy is a local development proxy: one origin for a frontend
// and every API it calls, so the browser never makes a cross-origin request.
//
// A request takes this path:
//
//	client ─▶ Server ─▶ router (loaded once per request from an atomic.Pointer)
//	                      ├─ /__devproxy/…  devproxy's own endpoints (status)
//	                      ├─ longest route prefix ─▶ mock (respond) or httputil.ReverseProxy ─▶ target
//	                      └─ everything else     ─▶ frontend: dev server (proxied) or folder (static, SPA)
//
// Configuration flows one way: devproxy.yaml ─▶ ParseConfig ─▶ Config ─▶
// compile ─▶ immutable router ─▶ one atomic store. A reload builds the whole
// new router first and swaps it in only when it is complete, so a request is
// served entirely by the config that was current when it started.
package devproxy
