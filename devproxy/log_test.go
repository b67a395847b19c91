package devproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/muesli/termenv"
)

var update = flag.Bool("update", false, "rewrite the golden logs in testdata/log")

// fakeClock returns times one millisecond apart from a fixed start.
func fakeClock() func() time.Time {
	t := time.Date(2026, 11, 28, 14, 2, 11, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Millisecond)
		return t
	}
}

// logScript writes one of every kind of log line.
func logScript(t *testing.T, l *logger) {
	t.Helper()
	start := time.Date(2026, 11, 28, 14, 2, 11, 0, time.UTC)
	api, _ := url.Parse("http://localhost:5000")
	fe, _ := url.Parse("http://localhost:5173")
	cfg := &config.Config{
		File:     "devproxy.yaml",
		Frontend: &config.Frontend{URL: fe},
		Routes: []config.Route{
			{Path: "/api", Target: api, StripPrefix: true, Timeout: 30 * time.Second},
			{Path: "/api/hello", Respond: &config.Respond{}},
		},
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	down5000 := &loopbackDialError{port: "5000", err4: refused, err6: refused}
	l.banner(bannerInfo{version: "0.1.0", cfg: cfg, open: "http://localhost:8080", ready: 15 * time.Millisecond,
		inspect: "http://localhost:8080/__devproxy/", capture: true,
		probes: map[string]error{"http://localhost:5000": down5000, "http://localhost:5173": nil}, note: "press h to show the keys"})
	down := &proxyError{Status: 502, Err: "connection refused: nothing listens on 127.0.0.1:5000 or [::1]:5000", Route: "/api", Target: "http://localhost:5000", Hint: "is the API running? start it, or fix routes./api.target in the config"}
	entries := []*logEntry{
		{method: "GET", uri: "/api/users?id=1", route: "/api", dest: "localhost:5000", duration: 12300 * time.Microsecond, outcome: outcome{status: 200, bytes: 1234}},
		{method: "POST", uri: "/api/login", route: "/api", dest: "localhost:5000", duration: 800 * time.Microsecond, outcome: outcome{status: 201, bytes: 17}},
		{method: "GET", uri: "/api/report", route: "/api", dest: "localhost:5000", duration: 2500 * time.Millisecond, outcome: outcome{status: 200, bytes: 3 << 20}},
		{method: "GET", uri: "/api/hello", kind: kindMock, route: "/api/hello", dest: "mock", duration: 5 * time.Microsecond, outcome: outcome{status: 404, bytes: 9}},
		{method: "GET", uri: "/src/main.js", kind: kindFrontend, route: "frontend", dest: "localhost:5173", duration: time.Millisecond, outcome: outcome{status: 200, bytes: 500}},
		{method: "GET", uri: "/", kind: kindFrontend, route: "frontend", dest: "localhost:5173", duration: 2 * time.Millisecond, navigation: true, outcome: outcome{status: 200, bytes: 900}},
		{method: "GET", uri: "/missing.js", kind: kindFrontend, route: "frontend", dest: "localhost:5173", duration: time.Millisecond, outcome: outcome{status: 404, bytes: 0}},
		{method: "GET", uri: "/api/a", route: "/api", dest: "localhost:5000", duration: 400 * time.Microsecond, outcome: outcome{status: 502, bytes: 171, err: down}},
		{method: "GET", uri: "/api/b", route: "/api", dest: "localhost:5000", duration: 300 * time.Microsecond, outcome: outcome{status: 502, bytes: 171, err: down}},
		{method: "GET", uri: "/api/c", route: "/api", dest: "localhost:5000", duration: 300 * time.Microsecond, outcome: outcome{status: 502, bytes: 171, err: down}},
		{method: "GET", uri: "/api/d", route: "/api", dest: "localhost:5000", duration: 3 * time.Millisecond, outcome: outcome{status: 200, bytes: 20}},
		{method: "GET", uri: "/api/slow", route: "/api", dest: "localhost:5000", duration: 30 * time.Second, outcome: outcome{status: 504, bytes: 150, err: &proxyError{Status: 504, Err: "no response headers within 30s", Route: "/api", Hint: "the target is slow or stuck; raise timeout for this route if that is expected"}}},
		{method: "GET", uri: "/api/wait", route: "/api", dest: "localhost:5000", duration: 700 * time.Millisecond, outcome: outcome{status: StatusClientClosed}},
		{method: "GET", uri: "/events", route: "/api", dest: "localhost:5000", duration: 90 * time.Second, stream: true, outcome: outcome{status: 200, bytes: 4096}},
		{method: "GET", uri: "/apii/users", kind: kindFrontend, route: "frontend", dest: "localhost:5173", duration: time.Millisecond, fetch: true, misroute: noRoute("/apii/users", []*compiledRoute{{Route: &config.Route{Path: "/api/hello"}}, {Route: &config.Route{Path: "/api"}}}), outcome: outcome{status: 200, bytes: 900}},
		{method: "GET", uri: "/api/x", kind: kindDevproxy, route: "devproxy", dest: "refused", duration: 50 * time.Microsecond, outcome: outcome{status: 403, bytes: 120, err: &proxyError{Status: 403, Err: `Host "evil.example" is not allowed (DNS rebinding protection)`, Hint: "add it to allowed_hosts if you mean to reach devproxy by that name"}}},
		{method: "GET", uri: "/@vite/client?token=Zx81kQp0aLmN3vTy&t=1732802531", kind: kindFrontend, route: "frontend", dest: "localhost:5173", duration: time.Millisecond, navigation: true, outcome: outcome{status: 200, bytes: 300}},
		{method: "GET", uri: "/api/" + strings.Repeat("segment/", 12) + "end.json?page=2", route: "/api", dest: "localhost:5000", duration: 4 * time.Millisecond, outcome: outcome{status: 200, bytes: 64}},
	}
	for i, e := range entries {
		e.start = start.Add(time.Duration(i) * time.Second)
		l.request(e)
	}
	ws := &logEntry{start: start.Add(20 * time.Second), method: "GET", uri: "/api/ws", route: "/api", dest: "localhost:5000"}
	l.wsOpened(ws)
	ws.ws, ws.duration, ws.wsUp, ws.wsDown = true, 65*time.Second, 2048, 1<<20
	l.wsClosed(ws)
	l.info("config reloaded: added /new → mock; changed /api: http://localhost:5000 → http://localhost:5001; removed /old")
	l.configError("config error, kept previous config", config.Errors{
		{File: "devproxy.yaml", Line: 7, Col: 11, Field: "routes./api", Msg: `"localhost:5000" has no scheme`, Hint: `write "http://localhost:5000"`},
		{File: "devproxy.yaml", Line: 9, Col: 3, Field: "routes./web.timout", Msg: "unknown field", Hint: `did you mean "timeout"? a route takes target, strip_prefix, timeout, headers, cors, respond and websocket; see the README's config section for each one`},
	})
	l.warn("devproxy.yaml was deleted; the last good config keeps serving until it is back")
	l.flushRepeats()
}

// TestLogGolden pins the layout of every kind of line: in a file or pipe,
// on terminals 80, 120 and 200 columns wide (lines fitted, hints wrapped
// under their text), and as JSON.
func TestLogGolden(t *testing.T) {
	for _, tt := range []struct {
		name  string
		json  bool
		width int
	}{{"plain", false, 0}, {"width80", false, 80}, {"width120", false, 120}, {"width200", false, 200}, {"json", true, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := newLogger(&buf, nil, tt.json, false, tt.width, fakeClock())
			logScript(t, l)
			got := buf.String()
			golden := filepath.Join("testdata", "log", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("log differs from %s (run with -update to accept):\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
			if tt.width > 0 {
				for i, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
					// The banner's route table is not fitted.
					if n := utf8.RuneCountInString(line); n > tt.width && !strings.HasPrefix(line, "  /") {
						t.Errorf("line %d is %d wide on a %d-column terminal:\n%s", i+1, n, tt.width, line)
					}
				}
			}
			if tt.json {
				for i, line := range strings.Split(strings.TrimSpace(got), "\n") {
					var m map[string]any
					if err := json.Unmarshal([]byte(line), &m); err != nil {
						t.Errorf("JSON log line %d is not JSON: %v\n%s", i+1, err, line)
					}
					for _, k := range []string{"time", "level", "msg"} {
						if _, ok := m[k]; !ok {
							t.Errorf("JSON log line %d lacks %q: %s", i+1, k, line)
						}
					}
				}
			}
		})
	}
}

func TestLogColorsFromStyles(t *testing.T) {
	var buf bytes.Buffer
	r := lipgloss.NewRenderer(&buf)
	r.SetColorProfile(termenv.ANSI)
	st := DefaultStyles(r)
	l := newLogger(&buf, compileStyles(st), false, false, 0, fakeClock())
	e := &logEntry{start: time.Date(2026, 11, 28, 14, 2, 11, 0, time.UTC), method: "GET", uri: "/api/users", route: "/api", dest: "localhost:5000", duration: 400 * time.Microsecond, outcome: outcome{status: 502, bytes: 171, err: &proxyError{Err: "connection refused", Hint: "is the API running?"}}}
	l.request(e)
	routeStyle := st.Routes[0]
	for i, rs := range st.Routes {
		if compile(rs) == l.p.route("/api") {
			routeStyle = st.Routes[i]
		}
	}
	want := st.Time.Render("14:02:11") + " " + st.Method.Render("GET") + "     " +
		st.Path.Render("/api/users") + strings.Repeat(" ", plainPathWidth-len("/api/users")) + " → " +
		routeStyle.Render("/api") + " " + st.Target.Render("localhost:5000") + strings.Repeat(" ", whereWidth-len("/api localhost:5000")) + " " +
		st.Status5xx.Render("502") + "    " + st.Duration.Render("400µs") + "     " + st.Size.Render("171B") + "\n" +
		"         ↳ " + st.Error.Render("connection refused") + " — " + st.Hint.Render("is the API running?") + "\n"
	if got := buf.String(); got != want {
		t.Errorf("colored line:\ngot  %q\nwant %q", got, want)
	}
	if !strings.Contains(buf.String(), "\x1b[") {
		t.Error("forced color wrote no escape sequence")
	}
}

func TestLogShortensLongPathsToTheWidth(t *testing.T) {
	var buf bytes.Buffer
	l := newLogger(&buf, nil, false, false, 120, fakeClock())
	path := "/api/" + strings.Repeat("segment/", 20) + "end.json?query=kept"
	l.request(&logEntry{start: time.Now(), method: "GET", uri: path, route: "/api", dest: "localhost:5000", duration: time.Millisecond, outcome: outcome{status: 200, bytes: 10}})
	line := strings.TrimSuffix(buf.String(), "\n")
	if n := utf8.RuneCountInString(line); n > 120 {
		t.Errorf("line is %d wide on a 120-column terminal:\n%s", n, line)
	}
	if !strings.Contains(line, "/api/segment/") || !strings.Contains(line, "end.json?query=kept") || !strings.Contains(line, "…") {
		t.Errorf("shortened path lost its start or end:\n%s", line)
	}
	if strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("a long path wrapped onto more lines:\n%s", buf.String())
	}
}

// TestLogProtocolMarkerFitsTheWidth pins that the h2 marker of a request
// over HTTP/2 takes its room from the path: a line fitted to the terminal
// stays within it, and on a terminal too narrow for the shortest layout
// and the marker, the marker is left out rather than push the line wider.
func TestLogProtocolMarkerFitsTheWidth(t *testing.T) {
	long := "/src/" + strings.Repeat("components/", 10) + "Button.tsx?t=1732802531"
	tests := []struct {
		width    int
		uri      string
		wantMark bool
	}{
		{200, long, true},
		{120, long, true},
		{80, long, true},
		{80, "/", true},
		{70, long, true},
		{69, long, true},
		{68, long, false},
		{60, long, false},
		{40, "/", false},
	}
	for _, tt := range tests {
		name := strconv.Itoa(tt.width) + " columns, long path"
		if tt.uri == "/" {
			name = strconv.Itoa(tt.width) + " columns, short path"
		}
		t.Run(name, func(t *testing.T) {
			line := func(proto string) string {
				var buf bytes.Buffer
				l := newLogger(&buf, nil, false, false, tt.width, fakeClock())
				l.request(&logEntry{start: time.Now(), method: "GET", uri: tt.uri, kind: kindFrontend, route: "frontend", dest: "localhost:5173",
					duration: 1500 * time.Microsecond, navigation: true, proto: proto, outcome: outcome{status: 200, bytes: 2048}})
				if n := strings.Count(buf.String(), "\n"); n != 1 {
					t.Fatalf("width %d: %d lines, want 1:\n%s", tt.width, n, buf.String())
				}
				return strings.TrimSuffix(buf.String(), "\n")
			}
			h1, h2 := line(""), line("h2")
			n1, n2 := utf8.RuneCountInString(h1), utf8.RuneCountInString(h2)
			if n2 > max(tt.width, n1) {
				t.Errorf("width %d: the h2 line is %d wide (over HTTP/1.1 %d):\n%s", tt.width, n2, n1, h2)
			}
			if got := strings.HasSuffix(h2, " h2"); got != tt.wantMark {
				t.Errorf("width %d: line ends with the h2 marker = %t, want %t:\n%s", tt.width, got, tt.wantMark, h2)
			}
		})
	}
}

func TestLogEscapesHostileText(t *testing.T) {
	var buf bytes.Buffer
	l := newLogger(&buf, nil, false, false, 0, fakeClock())
	hostile := "/x\x1b[2J\x1b]0;owned\x07\r\n14:00:00 GET     /admin → fake 200\u202e"
	l.request(&logEntry{start: time.Now(), method: "GET\x1b[31m", uri: hostile, kind: kindFrontend, route: "frontend", dest: "localhost:5173", outcome: outcome{status: 404}})
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\x07\r\u202e") {
		t.Errorf("log carries raw control characters: %q", out)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("a request forged a second log line: %q", out)
	}
	if !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("escape sequence not shown escaped: %q", out)
	}
}

func TestServerLogModes(t *testing.T) {
	be := namedBackend(t, "api")
	config := "routes:\n  /api: " + be.URL + "\n"
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"devproxy.yaml": config})
	file := filepath.Join(dir, "devproxy.yaml")

	p := startProxyOpts(t, file, func(o *Options) {
		o.LookupEnv = func(k string) (string, bool) { return "1", k == "NO_COLOR" }
		o.Color = ColorAuto
	})
	p.get(t, "/api/x")
	if out := p.log.waitFor(t, "/api/x"); strings.Contains(out, "\x1b") {
		t.Errorf("NO_COLOR log has escape sequences:\n%q", out)
	}

	p = startProxyOpts(t, file, func(o *Options) { o.LogJSON = true })
	p.get(t, "/api/x")
	out := p.log.waitFor(t, `"path":"/api/x"`)
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("-log json line %d is not JSON: %s", i+1, line)
		}
	}
	if !strings.Contains(out, `"msg":"devproxy listening"`) {
		t.Errorf("-log json banner missing:\n%s", out)
	}
}

func TestLogLinesSurviveShutdown(t *testing.T) {
	lb := newLogBuffer()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"devproxy.yaml": "routes:\n  /m:\n    respond: {body: x}\n"})
	file := filepath.Join(dir, "devproxy.yaml")
	srv, err := New(Options{ConfigFile: file, Log: lb})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx, ln) }()
	client := &http.Client{}
	const n = 300
	for i := range n {
		res, err := client.Get("http://" + ln.Addr().String() + "/m?i=" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	cancel()
	<-done
	if got := strings.Count(lb.String(), " /m?i="); got != n {
		t.Errorf("log has %d of %d request lines after shutdown", got, n)
	}
}

// openStyles returns the line of s (counting from 1) where an SGR style
// opened on it is still open at its newline, or 0 when every line resets
// its styles before its newline.
func openStyles(s string) (line int, text string) {
	open := false
	for i, ln := range strings.SplitAfter(s, "\n") {
		for rest := ln; ; {
			j := strings.Index(rest, "\x1b[")
			if j < 0 {
				break
			}
			rest = rest[j+2:]
			k := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' && r != ';' })
			if k < 0 {
				break
			}
			if rest[k] == 'm' {
				params := rest[:k]
				open = params != "" && params != "0"
			}
			rest = rest[k:]
		}
		if open && strings.HasSuffix(ln, "\n") {
			return i + 1, ln
		}
	}
	return 0, ""
}

func TestOpenStyles(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"plain\n", 0},
		{"\x1b[1mbold\x1b[0m\n", 0},
		{"\x1b[2;31mx\x1b[m\n", 0},
		{"\x1b[1mbold\nstill\x1b[0m\n", 1},
		{"ok\n\x1b[32mgreen\n", 2},
	}
	for _, tt := range tests {
		if got, _ := openStyles(tt.in); got != tt.want {
			t.Errorf("openStyles(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestColorNeverBleedsPastALine pins that every line of colored output
// resets its styles before its newline, so that tools reading the log line
// by line (CI logs, less -R, tail, tmux) show no color on the next line.
func TestColorNeverBleedsPastALine(t *testing.T) {
	var buf bytes.Buffer
	r := lipgloss.NewRenderer(&buf)
	r.SetColorProfile(termenv.ANSI)
	l := newLogger(&buf, compileStyles(DefaultStyles(r)), false, false, 0, fakeClock())
	logScript(t, l)
	// Messages and hints with line breaks of their own, and a narrow
	// terminal's shortened paths.
	l.warn("first line\nsecond line")
	l.info("config reloaded: a\nb")
	l.fail("config error, kept previous config:", "devproxy.yaml:1: x\n  hint: y")
	l.request(&logEntry{start: time.Now(), method: "GET", uri: "/api/x", route: "/api", dest: "localhost:5000", outcome: outcome{status: 502, bytes: 10, err: &proxyError{Err: "the target said\nsomething", Hint: "try\nthis"}}})
	narrow := newLogger(&buf, compileStyles(DefaultStyles(r)), false, false, 60, fakeClock())
	narrow.request(&logEntry{start: time.Now(), method: "GET", uri: "/" + strings.Repeat("long/", 30), route: "/api", dest: "localhost:5000", outcome: outcome{status: 200, bytes: 10 << 20}})
	out := buf.String()
	if !strings.Contains(out, "\x1b[") {
		t.Fatal("forced color wrote no escape sequence")
	}
	if n, line := openStyles(out); n != 0 {
		t.Errorf("line %d leaves a style open at its newline: %q\nall output:\n%q", n, line, out)
	}
}

// TestColorNeverBleedsFromAServer checks the same on what a real server
// writes with forced color: its banner, request lines of every kind, hints,
// warnings and reload lines.
func TestColorNeverBleedsFromAServer(t *testing.T) {
	be := namedBackend(t, "api")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"dist/index.html": "<!doctype html>"})
	config := "frontend: ./dist\nroutes:\n  /api:\n    target: " + be.URL + "\n    strip_prefix: true\n    cors: {origins: [http://localhost:3000]}\n" +
		"  /down: http://127.0.0.1:" + closedPort(t) + "\n  /mock:\n    respond: {json: {ok: true}}\n"
	writeFiles(t, dir, map[string]string{"devproxy.yaml": config})
	file := filepath.Join(dir, "devproxy.yaml")
	p := startProxyOpts(t, file, func(o *Options) {
		o.Color, o.Width = ColorAlways, 70
		o.LookupEnv = func(string) (string, bool) { return "", false }
	})
	p.log.waitFor(t, "down: ")
	for _, path := range []string{"/api/x", "/down/x", "/mock", "/", "/missing.js", "/" + strings.Repeat("long/", 30), "/__devproxy/nope"} {
		p.get(t, path)
	}
	p.do(t, http.MethodGet, "/api/x", nil, http.Header{"Origin": {"http://evil.example"}})
	saveByRename(t, file, config+"  /new:\n    respond: {body: hi}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	saveByRename(t, file, config+"  /bad: localhost:5000\n")
	if err := p.waitReload(t); err == nil {
		t.Fatal("a broken save was applied")
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	out := p.log.waitFor(t, "was deleted", "kept previous config", "config reloaded", "/down/x", "/__devproxy/nope")
	if !strings.Contains(out, "\x1b[") {
		t.Fatal("forced color wrote no escape sequence")
	}
	if n, line := openStyles(out); n != 0 {
		t.Errorf("line %d leaves a style open at its newline: %q\nall output:\n%q", n, line, out)
	}
}

// spaBackend is a dev server that answers every path with its SPA page,
// as Vite does for a path it does not know.
func spaBackend(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><div id=app></div>")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestLogFetchThatGotThePage pins that a fetch falling through to the
// frontend and getting its HTML page is logged, with the route it most
// likely meant, although successful frontend requests are quiet.
func TestLogFetchThatGotThePage(t *testing.T) {
	api := namedBackend(t, "api")
	config := "frontend: " + spaBackend(t) + "\nroutes:\n  /api: " + api.URL + "\n  /auth/v1: " + api.URL + "\n"
	p := startProxy(t, config, nil)
	fetchHeaders := http.Header{"Sec-Fetch-Dest": {"empty"}, "Sec-Fetch-Mode": {"cors"}, "Accept": {"*/*"}}
	tests := []struct {
		name   string
		path   string
		header http.Header
		// want is what the log says under the request; "" when the
		// request is logged without a word (a page load) or not at all.
		want string
	}{
		{"fetch with a typo", "/apii/users", fetchHeaders, "no route matches /apii — did you mean /api?"},
		{"typo in a deeper prefix", "/auth/v2/login", fetchHeaders, "no route matches /auth/v2 — did you mean /auth/v1?"},
		{"XHR without Sec-Fetch headers", "/appi/orders", http.Header{"Accept": {"application/json"}}, "no route matches /appi — did you mean /api?"},
		{"nothing near", "/graphql", fetchHeaders, "no route matches /graphql — the frontend answered this fetch with its HTML page"},
		{"page navigation", "/settings", http.Header{"Accept": {"text/html,*/*;q=0.8"}, "Sec-Fetch-Dest": {"document"}, "Sec-Fetch-Mode": {"navigate"}}, ""},
		{"script", "/src/main.ts", http.Header{"Accept": {"*/*"}, "Sec-Fetch-Dest": {"script"}}, ""},
		{"fetch of an HTML file", "/partials/menu.html", fetchHeaders, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := p.do(t, http.MethodGet, tt.path, nil, tt.header)
			if res.StatusCode != 200 {
				t.Fatalf("GET %s: status = %d, want 200", tt.path, res.StatusCode)
			}
			// A request that follows shows that the log has caught up.
			mark := "/api/after-" + strings.ReplaceAll(tt.name, " ", "-")
			p.get(t, mark)
			out := p.log.waitFor(t, mark)
			line := logLineOf(out, " "+tt.path+" ")
			switch {
			case tt.want == "" && strings.Contains(line, "no route"):
				t.Errorf("GET %s was taken for a mistyped route:\n%s", tt.path, line)
			case tt.want == "" && line != "" && tt.header.Get("Sec-Fetch-Dest") != "document":
				t.Errorf("GET %s was logged:\n%s", tt.path, line)
			case tt.want != "" && !strings.Contains(line, tt.want):
				t.Errorf("GET %s: log says\n%s\nwant it to say %q", tt.path, line, tt.want)
			}
		})
	}
}

// logLineOf returns the request line of out that contains sub, with the
// lines indented under it; "" when there is none.
func logLineOf(out, sub string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.Contains(l, sub) {
			continue
		}
		s := l
		for _, more := range lines[i+1:] {
			if !strings.HasPrefix(more, "         ") {
				break
			}
			s += "\n" + more
		}
		return s
	}
	return ""
}

// TestLogRepeatsSaidOnTime pins that the count of a repeated failure is
// logged soon after the last repeat, without another request to carry
// it, and that the route's recovery is said.
func TestLogRepeatsSaidOnTime(t *testing.T) {
	port := closedPort(t)
	p := startProxy(t, "routes:\n  /api: http://127.0.0.1:"+port+"\n", nil)
	for range 4 {
		p.get(t, "/api/x")
	}
	p.log.waitFor(t, "↳ 3 more times on /api: connection refused")

	ln, err := listenOn("127.0.0.1:" + port)
	if err != nil {
		t.Skipf("cannot take port %s back: %v", port, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	if res, _ := p.get(t, "/api/x"); res.StatusCode != 200 {
		t.Fatalf("GET /api/x after the target started: status = %d, want 200", res.StatusCode)
	}
	out := p.log.waitFor(t, "/api is back: 200 after 4 failures in ")
	if strings.Count(out, "more times on /api") != 1 {
		t.Errorf("the count was logged again at recovery:\n%s", out)
	}
}

// TestLogRepeatQuietTimer checks the timer of collapse with the logger
// alone: the count comes after repeatQuiet, once.
func TestLogRepeatQuietTimer(t *testing.T) {
	lb := newLogBuffer()
	l := newLogger(lb, nil, false, false, 0, fakeClock())
	l.repeatQuiet = 10 * time.Millisecond
	pe := &proxyError{Status: 502, Err: "connection refused"}
	for range 3 {
		l.request(&logEntry{start: time.Now(), method: "GET", uri: "/api/x", route: "/api", dest: "localhost:5000", outcome: outcome{status: 502, err: pe}})
	}
	l.request(&logEntry{start: time.Now(), method: "GET", uri: "/other", route: "/other", dest: "localhost:5001", outcome: outcome{status: 502, err: pe}})
	out := lb.waitFor(t, "↳ 2 more times on /api: connection refused")
	if strings.Count(out, "GET     /api/x") != 1 {
		t.Errorf("repeats were logged as lines:\n%s", out)
	}
	l.flushRepeats()
	if got := strings.Count(lb.String(), "more times"); got != 1 {
		t.Errorf("count logged %d times, want once:\n%s", got, lb.String())
	}
}

// TestLogJSONNeverCollapses pins that -log json has one record per
// request, failures repeated or not, and a record when the route is back.
func TestLogJSONNeverCollapses(t *testing.T) {
	port := closedPort(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"devproxy.yaml": "routes:\n  /api: http://127.0.0.1:" + port + "\n  /m:\n    respond: {body: ok}\n"})
	p := startProxyOpts(t, filepath.Join(dir, "devproxy.yaml"), func(o *Options) { o.LogJSON = true })
	const n = 5
	for range n {
		p.get(t, "/api/x")
	}
	p.get(t, "/m")
	out := p.log.waitFor(t, `"path":"/m"`)
	if got := strings.Count(out, `"path":"/api/x"`); got != n {
		t.Errorf("-log json has %d records of %d failed requests:\n%s", got, n, out)
	}
	if strings.Contains(out, "repeated failure") {
		t.Errorf("-log json collapsed repeats:\n%s", out)
	}
}

// TestLogConfigErrorsAsJSONRecords pins that a refused reload writes one
// JSON record per problem, with its position, field, message and hint.
func TestLogConfigErrorsAsJSONRecords(t *testing.T) {
	dir := t.TempDir()
	good := "routes:\n  /m:\n    respond: {body: ok}\n"
	writeFiles(t, dir, map[string]string{"devproxy.yaml": good})
	file := filepath.Join(dir, "devproxy.yaml")
	p := startProxyOpts(t, file, func(o *Options) { o.LogJSON = true })
	saveByRename(t, file, good+"  /api: localhost:5000\n  /web:\n    target: http://localhost:5173\n    timout: 5s\n")
	if err := p.waitReload(t); err == nil {
		t.Fatal("a broken save was applied")
	}
	out := p.log.waitFor(t, `"msg":"config error, kept previous config"`, `"field":"routes./web.timout"`)
	type record struct {
		Level, Msg, File, Field, Message, Hint string
		Line, Column                           int
	}
	var got []record
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, line)
		}
		if strings.HasPrefix(r.Msg, "config error") {
			got = append(got, r)
		}
	}
	want := []record{
		{Level: "error", Msg: "config error, kept previous config", File: file, Line: 4, Column: 9, Field: "routes./api", Message: `"localhost:5000" has no scheme`, Hint: `write "http://localhost:5000"`},
		{Level: "error", Msg: "config error, kept previous config", File: file, Line: 7, Column: 5, Field: "routes./web.timout", Message: "unknown field", Hint: `did you mean "timeout"?`},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d config error records, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d:\ngot  %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// TestLogRefusedHostNamesDevproxy pins that a request a guard refused is
// logged as answered by devproxy: nothing reached the route's target.
func TestLogRefusedHostNamesDevproxy(t *testing.T) {
	api := namedBackend(t, "api")
	p := startProxy(t, "routes:\n  /api: "+api.URL+"\n", nil)
	resp := rawRequest(t, p.host, "GET /api/users HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(resp, "HTTP/1.1 403") {
		t.Fatalf("GET /api/users with Host evil.example: %s, want 403", firstLine(resp))
	}
	out := p.log.waitFor(t, "/api/users")
	line := logLineOf(out, "/api/users")
	if !strings.Contains(line, "→ devproxy refused") || strings.Contains(line, strings.TrimPrefix(api.URL, "http://")) {
		t.Errorf("refused request logged as forwarded:\n%s", line)
	}
}

func TestShortenSecrets(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/api/users?page=2&sort=name", "/api/users?page=2&sort=name"},
		{"/src/App.tsx?t=1732802531", "/src/App.tsx?t=1732802531"},
		{"/?token=Zx81kQp0aLmN3vTy", "/?token=Zx81…"},
		{"/cb?code=4/0AbCdEf&state=xyz", "/cb?code=4/0A…&state=xyz"},
		{"/f?X-Amz-Signature=abcdef0123456789&X-Amz-Expires=60", "/f?X-Amz-Signature=abcd…&X-Amz-Expires=60"},
		{"/f?api_key=short", "/f?api_key=short"},
		{"/f?id=9f8e7d6c5b4a39281706abcdef", "/f?id=9f8e…"},
		{"/f?q=averylongsearchwordwithnodigits", "/f?q=averylongsearchwordwithnodigits"},
		{"/no-query", "/no-query"},
	}
	for _, tt := range tests {
		if got := shortenSecrets(tt.in); got != tt.want {
			t.Errorf("shortenSecrets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLogFollowsTheTerminalWidth pins that a resize reaches the layout:
// after the width source says 80, lines fit 80 columns.
func TestLogFollowsTheTerminalWidth(t *testing.T) {
	lb := newLogBuffer()
	l := newLogger(lb, nil, false, false, 200, fakeClock())
	width := make(chan int, 1)
	changes := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	read := func() int { return <-width }
	go l.watchWidth(ctx, read, changes)
	width <- 80
	changes <- struct{}{}
	// The next resize is read only after the first one was applied.
	width <- 80
	changes <- struct{}{}
	l.request(&logEntry{start: time.Now(), method: "GET", uri: "/api/" + strings.Repeat("x", 100), route: "/api", dest: "localhost:5000", outcome: outcome{status: 502, err: &proxyError{Err: "connection refused: nothing listens on 127.0.0.1:5000 or [::1]:5000", Hint: "is the API running? start it, or fix routes./api.target in the config"}}})
	for i, line := range strings.Split(strings.TrimSuffix(lb.String(), "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("line %d is %d wide after a resize to 80:\n%s", i+1, n, line)
		}
		if i > 0 && !strings.HasPrefix(line, "         ") {
			t.Errorf("hint line %d wrapped back to column 0:\n%s", i+1, line)
		}
	}
}
