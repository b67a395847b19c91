package e2e

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// hmrTimeout bounds how long an edit may take to reach the page: the dev
// server's rebuild, on a loaded machine (see evalTimeout).
const hmrTimeout = 60 * time.Second

// deepLinkTimeout bounds a deep link's first load, which may be the dev
// server's first build of that route.
const deepLinkTimeout = 90 * time.Second

// testHostName is the name from allowed_hosts that each app is also opened
// under; Chromium resolves it to 127.0.0.1 (see startChromium).
const testHostName = "app.test"

// TestDevServersBehindDevproxy proves the README's dev-server table: each
// dev server, run by its own CLI with the setting the table gives, behind
// devproxy in one shared Chromium, opened as localhost, as 127.0.0.1 and as
// a name from allowed_hosts. Two dev servers run at a time (go test's
// -parallel, which is GOMAXPROCS).
func TestDevServersBehindDevproxy(t *testing.T) {
	path := requireChromium(t)
	requireNode(t)
	c := startChromium(t, path)
	for _, ds := range devServers() {
		t.Run(ds.name, func(t *testing.T) {
			t.Parallel()
			testDevServer(t, c, ds)
		})
	}
}

// scene is one dev server, the API and devproxy in front of both, with the
// app open in a browser tab that the checks of one origin share.
type scene struct {
	ds      devServer
	root    string // the served folder, which the checks edit
	devPort int
	api     *backend
	proxy   *proxy
	page    *browser
	origin  string // the origin the tab opened devproxy at
	version int    // the label's version now, 1 as committed
	// hmr is the dev server's hot-reload socket, found when the page
	// loaded.
	hmr string
}

func testDevServer(t *testing.T, c *chromium, ds devServer) {
	requireModules(t, ds.dir, ds.deps...)
	start := time.Now()
	api := startBackend(t)
	root, port, dev := startDevServer(t, ds)
	s := &scene{ds: ds, root: root, devPort: port, api: api, version: 1}
	proxyDir := t.TempDir()
	if ds.script != "" {
		// The config sits in the app, whose folder the command runs in.
		proxyDir = root
	}
	s.proxy = startDevproxy(t, proxyDir, s.config(""))
	if ds.script != "" {
		// devproxy answers at once, with a waiting page that reloads
		// itself; the checks start from the app's own page.
		deadline := time.Now().Add(deepLinkTimeout)
		for !strings.Contains(s.proxy.log.String(), "vite │ ready at ") {
			if time.Now().After(deadline) {
				t.Fatalf("devproxy never said npm run dev is ready; log:\n%s", s.proxy.log)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("%s and devproxy up in %s", ds.name, time.Since(start).Round(time.Millisecond))
	_, proxyPort, _ := net.SplitHostPort(strings.TrimPrefix(s.proxy.origin, "http://"))

	// Opened as localhost, every check runs; under the other names a
	// developer opens devproxy at, the dev server must still accept the
	// page, its assets and its socket, and redirects and cookies must
	// follow the name. The checks that change the backend or the config
	// run once.
	type check struct {
		name string
		run  func(*testing.T)
		once bool // only on localhost
	}
	var post func(*testing.T) // for the frameworks that check a POST's Origin
	if ds.post != nil {
		post = s.devPost
	}
	checks := []check{
		{"page loads without console errors", s.pageLoads, false},
		{"fetch reaches the API with X-Forwarded headers", s.fetchAPI, false},
		{"hot module replacement over devproxy", s.hotUpdate, false},
		{"deep link is served by the app's router", s.deepLink, false},
		{"same-origin POST passes the framework's Origin check", post, false},
		{"API WebSocket echoes both ways", s.apiWebSocket, false},
		{"server-sent events arrive one by one", s.serverSentEvents, false},
		{"cookie with the backend's Domain works on devproxy's origin", s.cookie, false},
		{"redirect to the backend stays on devproxy's origin", s.redirect, false},
		{"5 MiB upload arrives intact", s.upload, true},
		{"stopped backend gives the 502 JSON, restart recovers", s.backendDown, true},
		{"saved devproxy.yaml adds a route to the open page", s.reloadConfig, true},
		{"no unexpected console errors", s.consoleClean, false},
	}
	for _, host := range []string{"localhost", "127.0.0.1", testHostName} {
		t.Run(host, func(t *testing.T) {
			s.open(t, c, "http://"+net.JoinHostPort(host, proxyPort))
			for _, ck := range checks {
				if ck.run != nil && (!ck.once || host == "localhost") {
					t.Run(ck.name, ck.run)
				}
			}
			s.page.screenshot(t, ds.name+"-"+host)
		})
	}

	if t.Failed() {
		t.Logf("devproxy log:\n%s", s.proxy.log)
		if dev != nil {
			t.Logf("%s output:\n%s", ds.name, dev.out)
		}
	}
	t.Logf("%s took %s", ds.name, time.Since(start).Round(time.Millisecond))
}

// open opens origin in a new tab, which the checks that follow share, and
// waits for the app to start.
func (s *scene) open(t *testing.T, c *chromium, origin string) {
	t.Helper()
	s.origin, s.hmr = origin, ""
	s.page = c.newTab(t)
	s.page.navigate(t, origin+"/")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("console of %s:\n%s", origin, strings.Join(s.page.rec.errors(nil), "\n"))
		}
	})
}

// config is the devproxy.yaml of the scene, with extra appended to its
// routes. The frontend is named localhost, as the browser names devproxy:
// webpack-dev-server closes a hot-reload socket whose Origin host differs
// from its Host, which devproxy sets to the target's (127.0.0.1 here
// breaks hot reload, unless the dev server's allowedHosts lists localhost).
func (s *scene) config(extra string) string {
	if s.ds.script != "" {
		return fmt.Sprintf("frontend:\n  command: npm run dev\nallowed_hosts: [%s]\nroutes:\n  /api: %s\n%s", testHostName, s.api.origin(), extra)
	}
	return fmt.Sprintf("frontend: http://localhost:%d\nallowed_hosts: [%s]\nroutes:\n  /api: %s\n%s", s.devPort, testHostName, s.api.origin(), extra)
}

// onDevproxy reports whether a socket URL is on devproxy's origin.
func (s *scene) onDevproxy(socketURL string) bool {
	u, err := url.Parse(socketURL)
	if err != nil {
		return false
	}
	o, err := url.Parse(s.origin)
	if err != nil {
		return false
	}
	ws := map[string]string{"http": "ws", "https": "wss"}[o.Scheme]
	return u.Scheme == ws && u.Host == o.Host
}

// hmrSocket returns the recorded state of the hot-reload socket.
func (s *scene) hmrSocket() (socket, bool) {
	for _, ws := range s.page.rec.socketsSnapshot() {
		if ws.url == s.hmr {
			return ws, true
		}
	}
	return socket{}, false
}

// waitSocketFrames waits until the hot-reload socket has received more
// than n text frames.
func (s *scene) waitSocketFrames(n int) (socket, bool) {
	deadline := time.Now().Add(hmrTimeout)
	for {
		ws, ok := s.hmrSocket()
		if ok && len(ws.received) > n {
			return ws, true
		}
		if time.Now().After(deadline) {
			return ws, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *scene) pageLoads(t *testing.T) {
	if errs := s.page.rec.errors(nil); len(errs) > 0 {
		t.Errorf("console errors on load:\n%s", strings.Join(errs, "\n"))
	}
	want := fmt.Sprintf("version %d", s.version)
	label, err := eval[string](s.page, `document.getElementById("label").textContent.trim()`)
	if err != nil || label != want {
		t.Errorf("#label = %q (%v), want %q", label, err, want)
	}
	// The dev server's client opens its socket as the page loads and the
	// server greets it; wait for the greeting.
	deadline := time.Now().Add(hmrTimeout)
	for {
		ss := s.page.rec.socketsSnapshot()
		if i := slices.IndexFunc(ss, func(ws socket) bool { return len(ws.received) > 0 }); i >= 0 {
			s.hmr = ss[i].url
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no hot-reload socket greeted within %s; sockets: %s", hmrTimeout, describeSockets(ss))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !s.onDevproxy(s.hmr) {
		t.Errorf("hot-reload socket %s, want one on devproxy's origin %s", s.hmr, s.origin)
	}
	if u, err := url.Parse(s.hmr); err == nil && !s.proxy.waitLog(func(log string) bool { return logHasSocket(log, u.RequestURI()) }) {
		t.Errorf("devproxy's log has no WS line for %s, the hot-reload socket:\n%s", u.RequestURI(), s.proxy.log)
	}
}

// logHasSocket reports whether the log has a WebSocket request line for
// uri. The terminal log shortens query values that look like secrets (a
// dev server's ?token=…) to their first characters and "…", so a value
// ending in "…" matches any value it begins.
func logHasSocket(log, uri string) bool {
	for l := range strings.Lines(log) {
		if f := strings.Fields(l); len(f) >= 3 && f[1] == "WS" && sameLoggedURI(f[2], uri) {
			return true
		}
	}
	return false
}

// sameLoggedURI reports whether logged is uri as the log shows it.
func sameLoggedURI(logged, uri string) bool {
	lp, lq, _ := strings.Cut(logged, "?")
	up, uq, _ := strings.Cut(uri, "?")
	lv, uv := strings.Split(lq, "&"), strings.Split(uq, "&")
	if lp != up || len(lv) != len(uv) {
		return false
	}
	for i := range lv {
		if short, ok := strings.CutSuffix(lv[i], "…"); ok {
			if !strings.HasPrefix(uv[i], short) {
				return false
			}
		} else if lv[i] != uv[i] {
			return false
		}
	}
	return true
}

func (s *scene) fetchAPI(t *testing.T) {
	got, err := eval[map[string]string](s.page, `fetch("/api/echo?from=page").then(r => r.json())`)
	if err != nil {
		t.Fatalf("fetch /api/echo: %v", err)
	}
	o, err := url.Parse(s.origin)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"path":              "/api/echo?from=page",
		"host":              strings.TrimPrefix(s.api.origin(), "http://"),
		"x_forwarded_for":   "127.0.0.1",
		"x_forwarded_host":  o.Host,
		"x_forwarded_proto": o.Scheme,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("backend saw %s = %q, want %q", k, got[k], v)
		}
	}
}

// edit rewrites the label's version in the app's label file, as a person
// saving in an editor.
func (s *scene) edit(t *testing.T, version int) {
	t.Helper()
	path := filepath.Join(s.root, s.ds.label)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src, ok := setVersion(src, version)
	if !ok {
		t.Fatalf("%s has no \"version N\" to edit", path)
	}
	save(t, path, src)
	s.version = version
}

// save overwrites the file at path with src in one write, without
// truncating it first, as an editor saving in place does: versions only
// grow, so src is never shorter. os.WriteFile truncates, then writes, and
// a dev server's watcher can read the file empty in between (the page-load
// harness saw Vite serve an empty module that way under load).
func save(t *testing.T, path string, src []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(src); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// setVersion replaces the first "version N" in src with the given
// version.
func setVersion(src []byte, version int) ([]byte, bool) {
	const word = "version "
	i := bytes.Index(src, []byte(word))
	if i < 0 {
		return src, false
	}
	j := i + len(word)
	k := j
	for k < len(src) && '0' <= src[k] && src[k] <= '9' {
		k++
	}
	if k == j {
		return src, false
	}
	out := slices.Concat(src[:j], []byte(strconv.Itoa(version)), src[k:])
	return out, true
}

// hotUpdate edits a module and waits for the page to show it. The marker
// on window proves the page was updated in place, not reloaded; the frames
// on the socket prove the update came over devproxy.
func (s *scene) hotUpdate(t *testing.T) {
	s.checkHotUpdate(t)
}

// checkHotUpdate edits the label to its next version and waits for it.
func (s *scene) checkHotUpdate(t *testing.T) {
	t.Helper()
	if s.hmr == "" {
		t.Fatal("no hot-reload socket was found when the page loaded")
	}
	marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
	if _, err := eval[chromedp.Void](s.page, fmt.Sprintf(`window.devproxyMarker = %q`, marker)); err != nil {
		t.Fatal(err)
	}
	before, _ := s.hmrSocket()
	s.edit(t, s.version+1)
	// shown is true on the page once it shows the label's current version.
	shown := func() string {
		return fmt.Sprintf(`document.getElementById("label")?.textContent.trim() === "version %d"`, s.version)
	}
	if err := s.page.waitFor(shown(), hmrTimeout/2); err != nil {
		// A dev server may let a save go by (Next's did, in its first
		// scene, while its other scenes updated: it rebuilt, yet sent the
		// page no update, and a second save of the same text changed
		// nothing for it): edit the label again, to a text it has not
		// seen, as a person would, and say so. A second miss fails.
		frames := describeSockets(s.page.rec.socketsSnapshot())
		t.Logf("the edit did not reach the page within %s (%v; sockets: %s): editing %s again", hmrTimeout/2, err, frames, s.ds.label)
		s.edit(t, s.version+1)
		if err := s.page.waitFor(shown(), hmrTimeout/2); err != nil {
			t.Fatalf("the edit did not reach the page, edited twice: %v; sockets: %s", err, describeSockets(s.page.rec.socketsSnapshot()))
		}
	}
	if got, err := eval[string](s.page, `String(window.devproxyMarker)`); err != nil || got != marker {
		t.Errorf("window.devproxyMarker = %q (%v), want %q: the page was reloaded, not updated", got, err, marker)
	}
	after, ok := s.waitSocketFrames(len(before.received))
	if !ok {
		t.Errorf("hot-reload socket %s received no frame for the update", s.hmr)
	}
	if after.closed {
		t.Errorf("hot-reload socket %s closed", s.hmr)
	}
	// Neither Vite's fallback to the dev server's port nor a socket
	// pointed at it may have carried the update.
	for _, ws := range s.page.rec.socketsSnapshot() {
		if !s.onDevproxy(ws.url) {
			t.Errorf("the page opened WebSocket %s, want only devproxy's origin %s", ws.url, s.origin)
		}
	}
}

// deepLink opens /deep/link in a frame, as a bookmark would open it: the
// dev server must answer it with the app, whose router shows that path.
func (s *scene) deepLink(t *testing.T) {
	const path = "/deep/link"
	got, err := evalWithin[string](s.page, deepLinkTimeout, fmt.Sprintf(`new Promise((resolve, reject) => {
		const f = document.createElement("iframe");
		const timer = setTimeout(() => { clearInterval(poll); f.remove(); reject(new Error("the frame did not start within %s")); }, %d);
		const poll = setInterval(() => {
			const d = f.contentDocument;
			if (!d || !d.body || d.body.dataset.ready !== "true" || !d.getElementById("path")) return;
			clearTimeout(timer);
			clearInterval(poll);
			const path = d.getElementById("path").textContent;
			f.remove();
			resolve(path);
		}, 50);
		f.src = %q;
		document.body.appendChild(f);
	})`, deepLinkTimeout, deepLinkTimeout.Milliseconds(), path))
	if err != nil {
		t.Fatalf("open %s in a frame: %v", path, err)
	}
	if got != path {
		t.Errorf("the app opened at %s shows path %q, want %q", path, got, path)
	}
}

// devPost sends the framework's POST from the page, as its form or dev
// client sends it, with the page's Origin.
func (s *scene) devPost(t *testing.T) {
	p := s.ds.post
	got, err := eval[fetchResult](s.page, fmt.Sprintf(`(async () => {
		const r = await fetch(%q, {method: "POST", headers: {"Content-Type": %q}, body: %q});
		const text = await r.text();
		return {status: r.status, marker: r.headers.get("X-Devproxy-Error") || "", text: text.slice(0, 200)};
	})()`, p.path, p.contentType, p.body))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != p.status {
		t.Errorf("POST %s (%s) from %s: status %d, body %q, want %d", p.path, p.what, s.origin, got.Status, got.Text, p.status)
	}
}

func (s *scene) apiWebSocket(t *testing.T) {
	got, err := eval[[]string](s.page, fmt.Sprintf(`new Promise((resolve, reject) => {
		const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/api/ws");
		const got = [];
		const timer = setTimeout(() => reject(new Error("no echo within %s, got " + JSON.stringify(got))), %d);
		ws.onerror = () => reject(new Error("websocket error, got " + JSON.stringify(got)));
		ws.onmessage = (e) => {
			got.push(e.data);
			if (got.length === 1) ws.send("one");
			else if (got.length === 2) ws.send("two");
			else { clearTimeout(timer); ws.close(); resolve(got); }
		};
	})`, evalTimeout, evalTimeout.Milliseconds()))
	if err != nil {
		t.Fatalf("WebSocket /api/ws: %v", err)
	}
	if want := []string{"welcome", "echo: one", "echo: two"}; !slices.Equal(got, want) {
		t.Errorf("WebSocket /api/ws messages = %q, want %q", got, want)
	}
}

func (s *scene) serverSentEvents(t *testing.T) {
	type event struct {
		Data string  `json:"data"`
		At   float64 `json:"at"` // ms, performance.now()
	}
	got, err := eval[[]event](s.page, `new Promise((resolve, reject) => {
		const es = new EventSource("/api/events");
		const got = [];
		es.onmessage = (e) => got.push({data: e.data, at: performance.now()});
		es.addEventListener("done", () => { es.close(); resolve(got); });
		es.onerror = () => { es.close(); reject(new Error("EventSource error, got " + JSON.stringify(got))); };
	})`)
	if err != nil {
		t.Fatalf("EventSource /api/events: %v", err)
	}
	var data []string
	for _, e := range got {
		data = append(data, e.Data)
	}
	if want := []string{"tick 1", "tick 2", "tick 3"}; !slices.Equal(data, want) {
		t.Fatalf("events = %q, want %q", data, want)
	}
	// The backend waits sseGap between events: a stream held back by a
	// buffer would deliver all three at once.
	if spread := time.Duration((got[2].At - got[0].At) * float64(time.Millisecond)); spread < sseGap {
		t.Errorf("the first event came %s before the last, want at least %s: the stream was buffered", spread, sseGap)
	}
}

func (s *scene) cookie(t *testing.T) {
	got, err := eval[map[string]any](s.page, `(async () => {
		const login = await fetch("/api/login", {method: "POST"});
		const who = await (await fetch("/api/whoami")).json();
		return {status: login.status, session: who.session};
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if got["status"] != float64(200) || got["session"] != "s3cret" {
		t.Errorf("login then whoami = %v, want status 200 and session \"s3cret\": the cookie with Domain=127.0.0.1 was not kept on %s", got, s.origin)
	}
}

func (s *scene) redirect(t *testing.T) {
	got, err := eval[map[string]string](s.page, `(async () => {
		const fetched = await fetch("/api/redirect");
		const framed = await new Promise((resolve) => {
			const f = document.createElement("iframe");
			f.onload = () => {
				let href;
				try { href = f.contentWindow.location.href; } catch (e) { href = "another origin: " + e.message; }
				f.remove();
				resolve(href);
			};
			f.src = "/api/redirect";
			document.body.appendChild(f);
		});
		return {fetch: fetched.url, frame: framed};
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	want := s.origin + "/api/landed"
	if got["fetch"] != want {
		t.Errorf("fetch /api/redirect ended at %q, want %q", got["fetch"], want)
	}
	if got["frame"] != want {
		t.Errorf("navigation to /api/redirect ended at %q, want %q", got["frame"], want)
	}
}

func (s *scene) upload(t *testing.T) {
	const size = 5 << 20
	got, err := eval[map[string]any](s.page, fmt.Sprintf(`(async () => {
		const data = new Uint8Array(%d);
		for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
		const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
		const want = Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("");
		const r = await fetch("/api/upload", {method: "POST", body: data});
		const got = await r.json();
		return {status: r.status, want, got: got.sha256, bytes: got.bytes};
	})()`, size))
	if err != nil {
		t.Fatal(err)
	}
	if got["status"] != float64(200) || got["bytes"] != float64(size) {
		t.Errorf("upload: status %v, backend read %v bytes, want 200 and %d", got["status"], got["bytes"], size)
	}
	if got["got"] != got["want"] {
		t.Errorf("upload: backend's sha256 %v, want the page's %v", got["got"], got["want"])
	}
}

// fetchResult is what the page learns from one fetch.
type fetchResult struct {
	Status int            `json:"status"`
	Marker string         `json:"marker"` // X-Devproxy-Error
	Body   map[string]any `json:"body"`   // any JSON object: a dev server's 404 may hold more than strings
	Text   string         `json:"text"`
}

// field returns the body's string field k, or "".
func (r fetchResult) field(k string) string {
	v, _ := r.Body[k].(string)
	return v
}

// fetch fetches path from the page and decodes a JSON body when there is
// one.
func (s *scene) fetch(path string) (fetchResult, error) {
	return eval[fetchResult](s.page, fmt.Sprintf(`(async () => {
		const r = await fetch(%q);
		const text = await r.text();
		let body = null;
		try { body = JSON.parse(text); } catch (e) {}
		return {status: r.status, marker: r.headers.get("X-Devproxy-Error") || "", body, text: text.slice(0, 200)};
	})()`, path))
}

func (s *scene) backendDown(t *testing.T) {
	s.api.stop()
	down, err := s.fetch("/api/echo?backend=down")
	if err != nil {
		t.Fatal(err)
	}
	if down.Status != 502 || down.Marker != "1" {
		t.Errorf("GET /api/echo with the backend stopped: status %d, X-Devproxy-Error %q, want 502 and \"1\"", down.Status, down.Marker)
	}
	if down.field("route") != "/api" || down.field("target") != s.api.origin() || down.field("error") == "" || down.field("hint") == "" {
		t.Errorf("502 body = %v, want route /api, target %s, an error and a hint", down.Body, s.api.origin())
	}
	// devproxy logs a request once its answer is written, which may be
	// after the page has read it.
	if hint := down.field("hint"); hint != "" && !s.proxy.waitLog(func(log string) bool { return logHasHint(log, "/api/echo?backend=down", hint) }) {
		t.Errorf("devproxy's log has no request line for /api/echo?backend=down followed by the hint %q:\n%s", hint, s.proxy.log)
	}

	s.api.start(t)
	up, err := s.fetch("/api/echo?backend=up")
	if err != nil {
		t.Fatal(err)
	}
	if up.Status != 200 || up.field("path") != "/api/echo?backend=up" {
		t.Errorf("GET /api/echo after the restart: status %d, body %s, want 200 from the backend", up.Status, up.Text)
	}
}

// logHasHint reports whether the log has the request line for uri followed
// by a ↳ line with the hint.
func logHasHint(log, uri, hint string) bool {
	lines := strings.Split(log, "\n")
	for i, l := range lines {
		if strings.Contains(l, uri) && i+1 < len(lines) {
			next := lines[i+1]
			if strings.Contains(next, "↳") && strings.Contains(next, hint) {
				return true
			}
		}
	}
	return false
}

func (s *scene) reloadConfig(t *testing.T) {
	before, err := s.fetch("/reports/summary?config=before")
	if err != nil {
		t.Fatal(err)
	}
	if before.field("report") != "" {
		t.Fatalf("GET /reports/summary before the route exists: got the backend's %s", before.Text)
	}
	s.proxy.save(t, s.config(fmt.Sprintf("  /reports: %s\n", s.api.origin())))
	after, err := s.fetch("/reports/summary?config=after")
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != 200 || after.field("report") != "summary" {
		t.Errorf("GET /reports/summary after the save: status %d, body %s, want 200 and the backend's report", after.Status, after.Text)
	}
	// The page was not reloaded, its hot-reload socket still works.
	s.checkHotUpdate(t)
}

// expectedError reports the console errors the checks cause on purpose:
// the 502 of the stopped backend, and the dev server's 404 for a route
// that does not exist yet.
func expectedError(m chromedp.ConsoleMessage) bool {
	return m.Source == "network" && (strings.Contains(m.URL, "backend=down") || strings.Contains(m.URL, "config=before"))
}

func (s *scene) consoleClean(t *testing.T) {
	if errs := s.page.rec.errors(expectedError); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
