package devproxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// craDevServer stands in for Create React App's dev server: the bundle and
// public/ files by GET, its hot-reload socket on /ws, index.html for what
// else accepts a page (connect-history-api-fallback takes */* too), and
// 404 for the rest.
func craDevServer(t *testing.T) *httptest.Server {
	t.Helper()
	ws := wsEchoHandler(t, "hmr:", nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/ws":
			ws(w, r)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			http.Error(w, "Cannot "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		case r.URL.Path == "/static/js/bundle.js":
			w.Header().Set("Content-Type", "application/javascript")
			io.WriteString(w, "bundle")
		case r.URL.Path == "/favicon.ico":
			w.Header().Set("Content-Type", "image/x-icon")
			io.WriteString(w, "icon")
		case strings.Contains(r.Header.Get("Accept"), "text/html") || strings.Contains(r.Header.Get("Accept"), "*/*"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html><div id=root></div>")
		default:
			http.Error(w, "Cannot GET "+r.URL.Path, http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// apiServer answers every request with "api METHOD PATH body" and takes
// WebSockets on /socket; seen counts the requests it got.
func apiServer(t *testing.T) (*httptest.Server, func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	ws := wsEchoHandler(t, "api:", nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		if r.URL.Path == "/socket" {
			ws(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "api %s %s %s", r.Method, r.URL.RequestURI(), body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// TestFallbackAPI: with frontend.fallback_api, page loads and what the dev
// server serves stay with it, and the rest goes to the API, as Create
// React App's "proxy" field sends it; each log line names where the
// request went.
func TestFallbackAPI(t *testing.T) {
	dev := craDevServer(t)
	api, apiCount := apiServer(t)
	p := startProxy(t, fmt.Sprintf("frontend:\n  url: %s\n  fallback_api: %s\nroutes:\n  /auth: %s\nlog:\n  frontend: all\n", dev.URL, api.URL, api.URL), nil)
	devHost, apiHost := strings.TrimPrefix(dev.URL, "http://"), strings.TrimPrefix(api.URL, "http://")
	page := http.Header{"Accept": {"text/html,application/xhtml+xml,*/*;q=0.8"}, "Sec-Fetch-Mode": {"navigate"}, "Sec-Fetch-Dest": {"document"}}
	fetchJSON := http.Header{"Accept": {"application/json"}, "Sec-Fetch-Mode": {"cors"}, "Sec-Fetch-Dest": {"empty"}}
	fetchAny := http.Header{"Accept": {"*/*"}, "Sec-Fetch-Mode": {"cors"}, "Sec-Fetch-Dest": {"empty"}}
	script := http.Header{"Accept": {"*/*"}, "Sec-Fetch-Mode": {"no-cors"}, "Sec-Fetch-Dest": {"script"}, "Sec-Fetch-Site": {"same-origin"}}
	image := http.Header{"Accept": {"image/avif,image/webp,*/*"}, "Sec-Fetch-Dest": {"image"}}
	for _, tt := range []struct {
		name         string
		method, path string
		body         string
		header       http.Header
		wantStatus   int
		wantBody     string
		wantLog      string
	}{
		{"navigation", "GET", "/todos", "", page, 200, "<!doctype html><div id=root></div>", "→ frontend " + devHost},
		{"fetch of JSON the dev server answers 404", "GET", "/todos?done=1", "", fetchJSON, 200, "api GET /todos?done=1 ", "→ fallback_api " + apiHost},
		{"fetch of */* the dev server answers with its page", "GET", "/todos/7", "", fetchAny, 200, "api GET /todos/7 ", "→ fallback_api " + apiHost},
		{"POST goes to the API at once", "POST", "/todos", `{"title":"milk"}`, fetchJSON, 200, `api POST /todos {"title":"milk"}`, "→ fallback_api " + apiHost},
		{"DELETE", "DELETE", "/todos/7", "", fetchJSON, 200, "api DELETE /todos/7 ", "→ fallback_api " + apiHost},
		{"a module", "GET", "/static/js/bundle.js", "", script, 200, "bundle", "→ frontend " + devHost},
		{"a public/ file", "GET", "/favicon.ico", "", image, 200, "icon", "→ frontend " + devHost},
		{"a route still wins", "GET", "/auth/me", "", fetchJSON, 200, "api GET /auth/me ", "→ /auth " + apiHost},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			h := tt.header.Clone()
			h.Set("Origin", p.url)
			if tt.method == "GET" {
				h.Del("Origin")
			}
			res, got := p.do(t, tt.method, tt.path, body, h)
			if res.StatusCode != tt.wantStatus || got != tt.wantBody {
				t.Errorf("%s %s: got %d %q, want %d %q", tt.method, tt.path, res.StatusCode, got, tt.wantStatus, tt.wantBody)
			}
			p.log.waitFor(t, fmt.Sprintf("%-7s %s", tt.method, tt.path))
			line := logLine(p.log.String(), fmt.Sprintf("%-7s %s ", tt.method, tt.path))
			if !strings.Contains(line, tt.wantLog) {
				t.Errorf("%s %s: log line %q, want %q in it", tt.method, tt.path, line, tt.wantLog)
			}
		})
	}

	t.Run("the hot-reload socket stays with the dev server", func(t *testing.T) {
		before := apiCount()
		c, res, err := wsDial(t, p.host, "/ws", nil)
		if err != nil || c == nil {
			t.Fatalf("WebSocket /ws: %v, response %v", err, res)
		}
		defer c.close()
		must(t, c.send([]byte("ping")))
		if msg, err := c.recv(); err != nil || string(msg) != "hmr:ping" {
			t.Errorf("WebSocket /ws: got %q, %v, want hmr:ping from the dev server", msg, err)
		}
		if n := apiCount(); n != before {
			t.Errorf("WebSocket /ws: the API got %d requests, want none", n-before)
		}
		p.log.waitFor(t, "WS      /ws ")
		if line := logLine(p.log.String(), "WS      /ws "); !strings.Contains(line, "→ frontend "+devHost) {
			t.Errorf("WebSocket /ws: log line %q, want → frontend %s", line, devHost)
		}
	})

	t.Run("a socket the dev server does not take goes to the API", func(t *testing.T) {
		c, res, err := wsDial(t, p.host, "/socket", nil)
		if err != nil || c == nil {
			t.Fatalf("WebSocket /socket: %v, response %v", err, res)
		}
		defer c.close()
		must(t, c.send([]byte("hello")))
		if msg, err := c.recv(); err != nil || string(msg) != "api:hello" {
			t.Errorf("WebSocket /socket: got %q, %v, want api:hello from the API", msg, err)
		}
		p.log.waitFor(t, "WS      /socket ")
		if line := logLine(p.log.String(), "WS      /socket "); !strings.Contains(line, "→ fallback_api "+apiHost) {
			t.Errorf("WebSocket /socket: log line %q, want → fallback_api %s", line, apiHost)
		}
	})
}

// TestFallbackAPIDown: an API that is down gets the usual 502, whose hint
// names the config key to fix.
func TestFallbackAPIDown(t *testing.T) {
	dev := craDevServer(t)
	p := startProxy(t, fmt.Sprintf("frontend:\n  url: %s\n  fallback_api: http://%s\n", dev.URL, closedPort(t)), nil)
	res, body := p.do(t, "GET", "/todos", nil, http.Header{"Accept": {"application/json"}})
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("GET /todos: status = %d, want 502", res.StatusCode)
	}
	if !strings.Contains(body, "frontend.fallback_api") {
		t.Errorf("GET /todos: body %q does not name frontend.fallback_api", body)
	}
	p.log.waitFor(t, "→ fallback_api", "502", "frontend.fallback_api")
}

// logLine returns the first line of log that contains sub.
func logLine(log, sub string) string {
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

// TestFallbackAPIReload: a saved fallback_api applies to the next request,
// and the reload line says what changed.
func TestFallbackAPIReload(t *testing.T) {
	dev := craDevServer(t)
	a := namedBackend(t, "a")
	b := namedBackend(t, "b")
	p := startProxy(t, fmt.Sprintf("frontend:\n  url: %s\n  fallback_api: %s\n", dev.URL, a.URL), nil)
	fetchJSON := http.Header{"Accept": {"application/json"}}
	if _, body := p.do(t, "GET", "/todos", nil, fetchJSON); body != "a" {
		t.Fatalf("GET /todos: body %q, want a", body)
	}
	saveByRename(t, p.file, fmt.Sprintf("frontend:\n  url: %s\n  fallback_api: %s\n", dev.URL, b.URL))
	if err := p.waitReload(t); err != nil {
		t.Fatalf("reload: %v", err)
	}
	p.log.waitFor(t, "config reloaded: frontend.fallback_api "+a.URL+" → "+b.URL+"; "+b.URL+" up")
	if _, body := p.do(t, "GET", "/todos", nil, fetchJSON); body != "b" {
		t.Errorf("GET /todos after the reload: body %q, want b", body)
	}
}
