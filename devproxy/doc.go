// Package devproxy is a local development proxy: one origin for a frontend
// and every API it calls, so the browser never makes a cross-origin request.
//
// A request takes this path:
//
//	client ─▶ listener (listener.go, headerlimit.go; plain HTTP/1.1 GET and HEAD
//	  on devproxy's own connection loop, h1.go; the rest on net/http) ─▶ Server.ServeHTTP (server.go)
//	  ─▶ recorder (recorder.go) ─▶ router.dispatch (router.go: path rule, site by Host,
//	     match, the site's guards)
//	      ├─ /__devproxy/…  devproxy's own endpoints (own.go), the inspector
//	      ├─ longest route prefix ─▶ [cors mode] ─▶ [inject] ─▶ mock, replay, or
//	      │     [record] ─▶ upstream ─▶ pool ─▶ target (refused: fallback, replay: auto)
//	      └─ everything else     ─▶ frontend: dev server (upstream) or folder (static.go);
//	                                what the dev server does not serve ─▶ fallback_api (fallback.go)
//	  ─▶ finish (server.go): one log line (log.go)
//
// Configuration flows one way: devproxy.yaml ─▶ config.LoadFor / ParseFor
// ─▶ *config.Config ─▶ compile ─▶ immutable router ─▶ one atomic store. A
// reload builds the whole new router first and swaps it in only when it is
// complete, so a request is served entirely by the config that was current
// when it started; the router records the pools it uses, and a reload keeps
// exactly those.
//
// Every handler serves with serve(w, r, o *outcome): o is the request's
// outcome, which the log reads. Handlers record failures there (through
// writeProxyError) and never look behind the ResponseWriter; the recorder
// is the one wrapper of the connection's writer.
//
// Every request but devproxy's own is an exchange of the inspector
// (package inspect) when capture is on: ServeHTTP begins it once the
// router has decided, with the route, target and kind, and tees the
// request body; the recorder hands it the response header and each write
// after it is made, and the frames of a hijacked WebSocket; finish ends it
// with the failure the log reports. The store outlives routers; a router
// points at it, or at nil when inspect: false. Each exchange records the
// site it came in on; a site's inspector (inspect.ForSite) sees only that
// site's exchanges, the one on localhost sees them all.
//
// # Where each behaviour lives
//
// The request path:
//
//	server.go       Options, Server, New, ServeHTTP, finish (log line, panics)
//	recorder.go     outcome, the handler interface, recorder (status, bytes,
//	                hijack, the inspector's response hooks)
//	router.go       kind, compiled routes, match, longest prefix first, dispatch;
//	                sites by Host (exact, then longest wildcard), each with
//	                its routes, frontend and guards
//	compile.go      Config ─▶ router: handlers, kinds and the pools they use
//	paths.go        the path rule: dot segments resolved, hidden ones refused
//	guards.go       Host (DNS rebinding), open proxy, WebSocket Origin,
//	                cross-site requests and scripts, only websocket upgrades
//	headerlimit.go  header size limits (431 with cookie advice) and the log
//	                line of requests net/http refuses itself
//	loop.go         loops caught at run time: the hop header and the 508
//
// Forwarding to a target:
//
//	proxy.go        upstream: ReverseProxy's Rewrite (path, Host, forwarding
//	                headers, route headers) and ModifyResponse (Location,
//	                cookies, 101s, event streams); upstreamOptions
//	pool.go         one connection pool per target and setting: idle list,
//	                sweep, retire; the set of pools kept across reloads
//	roundtrip.go    the short path: a body-less GET, HEAD or OPTIONS written
//	                and read over a kept connection; its retry on a closed one
//	forward.go      the short path's forwarding, ReverseProxy's steps without
//	                its clone and header copies (the rest uses ReverseProxy)
//	h1parse.go      request and response heads parsed in a few allocations,
//	                as ReadRequest and ReadResponse parse them (the cases
//	                they handle; the rest goes to net/http's parsers)
//	reqwrite.go     the short path's request writer: Request.Write's bytes
//	                without its sort and exclusion map
//	header.go       headerGet, Header.Get for the canonical names devproxy
//	                looks up, without canonicalizing them again
//	transport.go    the http.Transport for everything else; localhost dialled
//	                on both loopback addresses
//	idle_unix.go    the check that a kept connection stayed quiet while idle
//	sockio*.go      TCP reads and writes of the connection loop and the
//	                short path as raw system calls on Linux, waiting on the
//	                network poller as net.Conn does (the scheduler is not
//	                told of each call, so its monitor stays asleep)
//	streams.go      WebSockets and event streams, ended cleanly at shutdown
//	fallback.go     the frontend's fallback_api: requests that are not page
//	                loads and that the dev server answers 404 or its page
//	                to go on to an API (CRA's "proxy" field)
//
// What devproxy answers itself:
//
//	proxyerror.go   failures classified (502, 504, 431, 499; 503 while a
//	                command starts) and the one failure writer: HTML,
//	                plain text or JSON, same words
//	static.go       a folder frontend: types, ranges, SPA fallback, no
//	                dotfiles, nothing outside the folder
//	mock.go         respond blocks: status, body or file, headers, delay
//
// Working without the backend (README: Work without the backend):
//
//	record.go       record: each exchange the target answered written to a
//	                file named for its request; secrets masked; the names
//	                replay looks up
//	replay.go       replay: answers from those files, read on every
//	                request; the 404 naming the file it looked for
//	targetdown.go   what answers while a route's target refuses connections
//	                (its fallback, replay: auto): the upstream hands it the
//	                request, body unread; a failure of both names both
//	inject.go       latency, fail, throttle (both ways, streamed) and
//	                rate_limit around a route's handler; X-Devproxy-Injected
//	cors.go         cors mode: preflights and Access-Control-* headers
//	own.go          GET /__devproxy/status, /__devproxy/frontend (what the
//	                waiting page polls), the inspector's page and API
//	                mounted at /__devproxy/, the no-frontend route list and
//	                the list of sites for a name that is none of them
//
// Around the requests:
//
//	log.go          request log lines, styles and colours, JSON lines,
//	                repeated failures counted and recoveries said, fetches
//	                that got the frontend's page, config errors as JSON
//	                records, lines fitted and hints wrapped to the width,
//	                secrets shortened, background writer
//	terminal.go     whether the log goes to a terminal, its colour and width
//	resize_unix.go  SIGWINCH, so the log follows a resized terminal
//	banner.go       the start-up banner and route table (WriteRoutes)
//	probe.go        the probe of each target at start-up, on a reload and on
//	                Restart (the r key), and the warning when devproxy
//	                listens beyond loopback
//	reload.go       watching the config's folder, reload (all or nothing),
//	                deleted and refused saves, what changed
//	listener.go     Serve, start, relisten on a listen change, a new
//	                listener on the same socket when https or tls
//	                changes, drain, stop
//	h1.go           plain HTTP/1.1 GETs and HEADs served on the connection's
//	                goroutine with a ResponseWriter of net/http's rules (one
//	                write for a small response); other requests hand the
//	                connection to net/http; shutdown of its connections
//	commands.go     the commands of the frontend and routes (runner): planned
//	                with the config, their URLs filling in missing targets,
//	                started by Serve, restarted when changed by a reload,
//	                stopped at shutdown; commandlog.go logs their lines
//	tls.go          https: certificates, HTTP/2 settings, the first-byte
//	                sniff that redirects http:// to https://
//	share.go        one listen address for several devproxies: the unix
//	                socket of the first, the names the others register
//	                there (served by forwarding to them), devproxy ls
//
// Other packages:
//
//	config                devproxy.yaml: schema, parse, validate, errors with
//	                      file:line and hints, self-targets, sites (site.go), warnings of
//	                      routes over dev-server paths (shadow.go), the JSON Schema;
//	                      golden and fuzz tests
//	doctor                the CORS doctor: the requests a browser would send,
//	                      Chromium's verdicts, fix snippets, the config check
//	inspect               the inspector: the last exchanges in bounded
//	                      memory, a page and a JSON API, replay, HAR export
//	importer              devproxy init: proxy rules of Vite, CRA, Angular,
//	                      webpack-dev-server and Next.js turned into a config
//	localca               the local CA of devproxy trust: leaf certificates,
//	                      the browsers' and the system's trust stores
//	runner                the dev commands behind the frontend and routes,
//	                      started and supervised
//	internal/probe        whether a server answers HTTP: TLS for https, then
//	                      HEAD /; for the banner, reloads, r and doctor
//	internal/keys         single-key commands on a terminal (h o r c q), the
//	                      terminal's mode restored; nothing read from a pipe
//	internal/neterr       why a connection failed, worded once for the
//	                      proxy's failures (proxyerror.go), doctor and the CLI
//	internal/web          origins (one parser), loopback names, default ports
//	internal/status       the shape of /__devproxy/status, shared with doctor
//	internal/regularfile  reading regular files only (mock files, the config)
//	internal/printable    text from a request made safe for a terminal
//	internal/wsframe      WebSocket frames, for tests and the benchmark
//	internal/testnet      closed ports and servers on 127.0.0.1 for tests
//	internal/syncbuf      a buffer for output written on other goroutines,
//	                      for tests
//	internal/headless     the headless Chromium every browser test drives
//	internal/gitname      the name of a git checkout: REPO, or BRANCH.REPO in a
//	                      linked worktree or on another branch than the default
//	internal/hostsfile    devproxy's block of /etc/hosts (devproxy hosts)
//	internal/procs        the Go runtime sized to the load (main starts both):
//	                      procs.go, GOMAXPROCS one P while devproxy uses little
//	                      CPU, every P when it is busy; heapfloor.go, GOGC
//	                      raised while the live heap is small, for a heap
//	                      goal of 32 MiB
//
// The command line is package main: main.go wires, cli.go writes every
// error: and hint: line, and each command has its file (serve.go,
// doctor.go, init.go, schema.go, trust.go, hosts.go); browser.go opens the browser
// for the o key.
//
// Tests sit beside what they test (router_test.go for router.go, …); the
// ones that cross concepts say what they attack: badinput_test.go
// (malformed requests and responses), hostile_test.go (targets that speak
// bad HTTP), faults_test.go (targets down, slow or reset, clients gone,
// slowloris), load_test.go (load and leaks). Helpers shared by several test files are in
// helpers_test.go and ws_helpers_test.go.
package devproxy
