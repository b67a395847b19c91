package devproxy

import (
	"github.com/devproxy/devproxy/internal/status"

	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
)

func TestUpstreamRefused(t *testing.T) {
	port := closedPort(t)
	p := startProxy(t, "routes:\n  /api: http://127.0.0.1:"+port+"\n  /local: http://localhost:"+port+"\n", nil)

	res, body := p.get(t, "/api/users?id=1")
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("GET /api/users: status = %d, want 502", res.StatusCode)
	}
	if got := res.Header.Get("X-Devproxy-Error"); got != "1" {
		t.Errorf("GET /api/users: X-Devproxy-Error = %q, want 1", got)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET /api/users: Content-Type = %q, want application/json", ct)
	}
	var pe map[string]string
	if err := json.Unmarshal([]byte(body), &pe); err != nil {
		t.Fatalf("GET /api/users: body %q is not JSON: %v", body, err)
	}
	want := map[string]string{
		"error":  "connection refused: nothing listens on 127.0.0.1:" + port,
		"route":  "/api",
		"target": "http://127.0.0.1:" + port,
		"hint":   "is the API running? start it, or fix routes./api.target in the config",
	}
	for k, v := range want {
		if pe[k] != v {
			t.Errorf("GET /api/users: JSON %s = %q, want %q", k, pe[k], v)
		}
	}
	p.log.waitFor(t, "/api/users?id=1", "502", "connection refused: nothing listens on 127.0.0.1:"+port+" — is the API running?")

	_, body = p.get(t, "/local")
	if !strings.Contains(body, "nothing listens on 127.0.0.1:"+port+" or [::1]:"+port) {
		t.Errorf("GET /local: body %q, want both loopback addresses named", body)
	}

	// A browser navigation gets a page, with the same words.
	res, body = p.do(t, "GET", "/api/page", nil, http.Header{"Accept": {"text/html,application/xhtml+xml"}})
	if res.StatusCode != 502 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("navigation to /api/page: got %d %q, want 502 text/html", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, s := range []string{"connection refused", "/api", "is the API running?", "made by devproxy"} {
		if !strings.Contains(body, s) {
			t.Errorf("navigation to /api/page: page lacks %q", s)
		}
	}
}

func TestBackendOwn502IsNotMarked(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "backend says no", http.StatusBadGateway)
	}))
	defer be.Close()
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	res, body := p.get(t, "/api")
	if res.StatusCode != 502 || res.Header.Get("X-Devproxy-Error") != "" || !strings.Contains(body, "backend says no") {
		t.Errorf("GET /api: got %d X-Devproxy-Error=%q %q, want the backend's own 502 unmarked", res.StatusCode, res.Header.Get("X-Devproxy-Error"), body)
	}
}

func TestUpstreamTimeoutIs504(t *testing.T) {
	release := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer be.Close()
	defer close(release)
	p := startProxy(t, "routes:\n  /slow:\n    target: "+be.URL+"\n    timeout: 100ms\n", nil)
	res, body := p.get(t, "/slow")
	if res.StatusCode != http.StatusGatewayTimeout || res.Header.Get("X-Devproxy-Error") != "1" {
		t.Fatalf("GET /slow: got %d, want 504 from devproxy", res.StatusCode)
	}
	if !strings.Contains(body, `"error":"no response headers within 100ms"`) {
		t.Errorf("GET /slow: body %q, want the timeout named", body)
	}
	p.log.waitFor(t, "/slow", "504", "no response headers within 100ms")
}

func TestClientGoneIsLogged499(t *testing.T) {
	arrived := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // devproxy must cancel the upstream request
	}))
	defer be.Close()
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", p.url+"/api/wait", nil)
	errc := make(chan error, 1)
	go func() {
		_, err := http.DefaultClient.Do(req)
		errc <- err
	}()
	<-arrived
	cancel()
	<-errc
	log := p.log.waitFor(t, "/api/wait", " 499 ")
	if strings.Contains(log, "↳") {
		t.Errorf("a client that went away is logged as an error:\n%s", log)
	}
}

func TestTLSTargets(t *testing.T) {
	be := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("secret ok"))
	}))
	be.Config.ErrorLog = discardLogger() // the refused handshake is the point
	defer be.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	p := startProxy(t, `
routes:
  /strict: `+be.URL+`
  /lax:
    target: `+be.URL+`
    insecure: true
  /wrong: `+strings.Replace(plain.URL, "http:", "https:", 1)+`
`, nil)
	res, body := p.get(t, "/strict")
	if res.StatusCode != 502 || !strings.Contains(body, "TLS certificate not trusted") || !strings.Contains(body, "insecure: true") {
		t.Errorf("GET /strict: got %d %q, want 502 naming the certificate and insecure: true", res.StatusCode, body)
	}
	if res, body := p.get(t, "/lax"); res.StatusCode != 200 || body != "secret ok" {
		t.Errorf("GET /lax: got %d %q, want 200 \"secret ok\"", res.StatusCode, body)
	}
	if res, body := p.get(t, "/wrong"); res.StatusCode != 502 || !strings.Contains(body, "does not speak TLS") || !strings.Contains(body, "http:// instead of https://") {
		t.Errorf("GET /wrong: got %d %q, want 502 saying the target does not speak TLS", res.StatusCode, body)
	}
}

func TestFrontendNotUpYet(t *testing.T) {
	port := closedPort(t)
	p := startProxy(t, "frontend: http://localhost:"+port+"\n", nil)
	res, body := p.do(t, "GET", "/", nil, http.Header{"Accept": {"text/html"}, "Sec-Fetch-Mode": {"navigate"}})
	if res.StatusCode != 502 || res.Header.Get("X-Devproxy-Error") != "1" {
		t.Fatalf("navigation to /: status %d, want 502 from devproxy", res.StatusCode)
	}
	for _, s := range []string{"Waiting for the frontend dev server", "http://localhost:" + port, "location.reload()", `fetch("` + status.FrontendPath + `"`} {
		if !strings.Contains(body, s) {
			t.Errorf("waiting page lacks %q", s)
		}
	}
	// A module request from a page gets JSON, not the page.
	res, body = p.get(t, "/src/main.js")
	if res.StatusCode != 502 || !strings.Contains(body, `"route":"frontend"`) || !strings.Contains(body, "is the dev server running?") {
		t.Errorf("GET /src/main.js: got %d %q, want the frontend's 502 JSON", res.StatusCode, body)
	}
}

func TestUpstreamBackAfterDown(t *testing.T) {
	port := closedPort(t)
	p := startProxy(t, "routes:\n  /api: http://127.0.0.1:"+port+"\n", nil)
	if res, _ := p.get(t, "/api"); res.StatusCode != 502 {
		t.Fatalf("GET /api with the backend down: status %d, want 502", res.StatusCode)
	}
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("up")) }))
	ln, err := listenOn("127.0.0.1:" + port)
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", port, err)
	}
	be.Listener = ln
	be.Start()
	defer be.Close()
	if res, body := p.get(t, "/api"); res.StatusCode != 200 || body != "up" {
		t.Errorf("GET /api after the backend started: got %d %q, want 200 \"up\"", res.StatusCode, body)
	}
}

func TestPanicCostsOneRequest(t *testing.T) {
	p := startProxy(t, "routes:\n  /api/ok:\n    respond: {body: fine}\n", nil)
	rt := p.srv.router.Load()
	boom := &compiledRoute{Route: &config.Route{Path: "/boom"}, handler: plainHandler{http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") })}, dest: "test"}
	p.srv.router.Store(&router{cfg: rt.cfg, routes: append([]*compiledRoute{boom}, rt.routes...), guards: rt.guards})
	res, body := p.get(t, "/boom")
	if res.StatusCode != 500 || !strings.Contains(body, "kaboom") {
		t.Errorf("GET /boom: got %d %q, want 500 naming the panic", res.StatusCode, body)
	}
	if res, body := p.get(t, "/api/ok"); res.StatusCode != 200 || body != "fine" {
		t.Errorf("GET /api/ok after a panic: got %d %q, want 200", res.StatusCode, body)
	}
	p.log.waitFor(t, "panic serving GET /boom: kaboom", "goroutine")
}

// TestOwnAnswersShareOneWriter pins that every answer devproxy makes for
// itself (refusals, static 404s, method errors, its own endpoints, the
// no-frontend page, cors refusals, proxy failures) has the same form: HTML
// for a page load, plain text for a subresource, JSON for fetch, with
// X-Devproxy-Error, never cached, and headers such as Allow kept.
func TestOwnAnswersShareOneWriter(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "dist"), map[string]string{"index.html": "spa", ".env": "SECRET=1"})
	closed := "http://127.0.0.1:" + closedPort(t)
	withFrontend := startProxyIn(t, dir, "frontend: ./dist\nroutes:\n  /down: "+closed+
		"\n  /cors:\n    target: "+closed+"\n    cors: {origins: [\"http://localhost:3000\"]}\n", nil)
	noFrontend := startProxy(t, "routes:\n  /api: http://localhost:5000\n", nil)

	tests := []struct {
		name         string
		p            *testProxy
		method, path string
		header       http.Header
		status       int
		allow        string
	}{
		{"static 405", withFrontend, "POST", "/users/42", nil, 405, "GET, HEAD"},
		{"status endpoint 405", withFrontend, "POST", "/__devproxy/status", nil, 405, "GET, HEAD"},
		{"unknown devproxy endpoint", withFrontend, "GET", "/__devproxy/nope", nil, 404, ""},
		{"static 404", withFrontend, "GET", "/missing.js", nil, 404, ""},
		{"static dotfile", withFrontend, "GET", "/.env", nil, 404, ""},
		{"target down", withFrontend, "GET", "/down/x", nil, 502, ""},
		{"cors refusal", withFrontend, "OPTIONS", "/cors/x", http.Header{"Origin": {"http://localhost:3001"}, "Access-Control-Request-Method": {"PUT"}}, 403, ""},
		{"host refusal", withFrontend, "GET", "/", http.Header{"X-Host": {"evil.example"}}, 403, ""},
		{"no frontend", noFrontend, "GET", "/app/page", nil, 404, ""},
	}
	forms := []struct {
		name   string
		header http.Header
		ct     string
	}{
		{"page", http.Header{"Accept": {"text/html,*/*;q=0.8"}, "Sec-Fetch-Mode": {"navigate"}, "Sec-Fetch-Dest": {"document"}}, "text/html; charset=utf-8"},
		{"fetch", http.Header{"Accept": {"*/*"}, "Sec-Fetch-Mode": {"cors"}, "Sec-Fetch-Dest": {"empty"}}, "application/json"},
		{"script", http.Header{"Accept": {"*/*"}, "Sec-Fetch-Mode": {"no-cors"}, "Sec-Fetch-Dest": {"script"}, "Sec-Fetch-Site": {"same-origin"}}, "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		for _, f := range forms {
			name := tt.name + " as " + f.name
			h := f.header.Clone()
			for k, v := range tt.header {
				h[k] = v
			}
			req, err := http.NewRequest(tt.method, tt.p.url+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = h
			if host := h.Get("X-Host"); host != "" {
				req.Host = host
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			body := string(b)
			if res.StatusCode != tt.status {
				t.Errorf("%s: %s %s: status %d, want %d", name, tt.method, tt.path, res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Content-Type"); got != f.ct {
				t.Errorf("%s: Content-Type = %q, want %q", name, got, f.ct)
			}
			if res.Header.Get("X-Devproxy-Error") != "1" || res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: X-Devproxy-Error %q, Cache-Control %q; want 1 and no-store", name, res.Header.Get("X-Devproxy-Error"), res.Header.Get("Cache-Control"))
			}
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("%s: Allow = %q, want %q", name, got, tt.allow)
			}
			switch f.name {
			case "page":
				if !strings.Contains(body, "This page was made by devproxy") {
					t.Errorf("%s: body is not devproxy's page: %q", name, body)
				}
			case "fetch":
				var v struct{ Error string }
				if err := json.Unmarshal(b, &v); err != nil || v.Error == "" {
					t.Errorf("%s: body is not devproxy's JSON: %q", name, body)
				}
			case "script":
				if !strings.HasPrefix(body, strconv.Itoa(tt.status)+" ") || !strings.Contains(body, "\nhint: ") {
					t.Errorf("%s: body is not devproxy's text: %q", name, body)
				}
			}
			if strings.Contains(body, "SECRET") {
				t.Errorf("%s: the dotfile leaked", name)
			}
		}
	}
}
