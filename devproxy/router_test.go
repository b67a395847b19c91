package devproxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
)

func TestRouteMatchingSegmentsAndLongestPrefix(t *testing.T) {
	backend := func(name string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	// Routes are listed shortest first: the longest must win anyway.
	p := startProxy(t, fmt.Sprintf(`
frontend: %s
routes:
  /api: %s
  /api/v2/: %s
`, backend("frontend"), backend("api"), backend("v2")), nil)
	tests := []struct{ path, want string }{
		{"/api", "api"},
		{"/api/", "api"},
		{"/api/x", "api"},
		{"/api?q=1", "api"},
		{"/apix", "frontend"},
		{"/api-docs", "frontend"},
		{"/api/v2", "v2"},
		{"/api/v2/users", "v2"},
		{"/api/v2x", "api"},
		{"/", "frontend"},
		{"/index.html", "frontend"},
	}
	for _, tt := range tests {
		res, body := p.get(t, tt.path)
		if res.StatusCode != 200 || body != tt.want {
			t.Errorf("GET %s: got %d %q, want 200 %q", tt.path, res.StatusCode, body, tt.want)
		}
	}
}

// TestDispatch pins what the router decides for a request before any
// handler runs: the kind and names the log uses, the path it forwards, and
// the refusals of the path rule and the guards.
func TestDispatch(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"dist/index.html": "spa"})
	cfg := "routes:\n  /api: http://127.0.0.1:5000\n  /api/v2: http://127.0.0.1:5002\n  /mock:\n    respond: {body: hi}\n"
	for _, tt := range []struct {
		name, frontend, target string
		kind                   kind
		route, dest, path      string
		own                    bool
		refused                int // the refusal's status; 0 when served
	}{
		{"route", "", "/api/users", kindProxy, "/api", "127.0.0.1:5000", "/api/users", false, 0},
		{"longest prefix", "", "/api/v2/users", kindProxy, "/api/v2", "127.0.0.1:5002", "/api/v2/users", false, 0},
		{"mock", "", "/mock", kindMock, "/mock", "mock", "/mock", false, 0},
		{"own endpoint", "", "/__devproxy/status", kindDevproxy, "devproxy", "", "/__devproxy/status", true, 0},
		{"no frontend", "", "/index.html", kindDevproxy, "devproxy", "", "/index.html", false, 0},
		{"dev server", "http://localhost:5173", "/src/main.ts", kindFrontend, "frontend", "localhost:5173", "/src/main.ts", false, 0},
		{"folder", "./dist", "/app.js", kindStatic, "static", filepath.Join(dir, "dist"), "/app.js", false, 0},
		{"dots resolved before routing", "http://localhost:5173", "/api/../src/x.ts", kindFrontend, "frontend", "localhost:5173", "/src/x.ts", false, 0},
		{"dots into a route", "", "/x/../api/users", kindProxy, "/api", "127.0.0.1:5000", "/api/users", false, 0},
		{"hidden dot segment", "", "/api/..%2Fadmin", kindDevproxy, "devproxy", "", "", false, http.StatusBadRequest},
		{"above the root", "", "/..", kindDevproxy, "devproxy", "", "", false, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			config := cfg
			if tt.frontend != "" {
				config = "frontend: " + tt.frontend + "\n" + cfg
			}
			writeFiles(t, dir, map[string]string{"devproxy.yaml": config})
			srv, err := New(Options{ConfigFile: filepath.Join(dir, "devproxy.yaml")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.transports.retireAll)
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			r.Host = "localhost:8080"
			d := srv.router.Load().dispatch(r)
			switch {
			case tt.refused != 0:
				if d.refused == nil || d.refused.Status != tt.refused {
					t.Fatalf("GET %s: refused = %+v, want status %d", tt.target, d.refused, tt.refused)
				}
				return
			case d.refused != nil:
				t.Fatalf("GET %s: refused: %s", tt.target, d.refused.Err)
			}
			if d.kind != tt.kind || d.route != tt.route || d.dest != tt.dest || d.own != tt.own {
				t.Errorf("GET %s: kind %q route %q dest %q own %t, want %q %q %q %t", tt.target, d.kind, d.route, d.dest, d.own, tt.kind, tt.route, tt.dest, tt.own)
			}
			if got := d.r.URL.Path; got != tt.path {
				t.Errorf("GET %s: forwards path %q, want %q", tt.target, got, tt.path)
			}
			if (d.h == nil) != (tt.own || tt.kind == kindDevproxy) {
				t.Errorf("GET %s: handler %v, want one only for routes and the frontend", tt.target, d.h)
			}
		})
	}
}

// TestDispatchGuards checks that the router refuses, before any handler
// runs, a Host that is not devproxy's (DNS rebinding).
func TestDispatchGuards(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"devproxy.yaml": "frontend: http://localhost:5173\n"})
	srv, err := New(Options{ConfigFile: filepath.Join(dir, "devproxy.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.transports.retireAll)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = "evil.example"
	if d := srv.router.Load().dispatch(r); d.refused == nil || d.refused.Status != http.StatusForbidden || d.route != "frontend" {
		t.Errorf("GET / with Host evil.example: refused %+v on route %q, want 403 on frontend", d.refused, d.route)
	}
}

// TestSortRoutes checks that routes match longest prefix first whatever
// their order in the file.
func TestSortRoutes(t *testing.T) {
	var routes []*compiledRoute
	for _, p := range []string{"/a", "/a/b/c", "/b", "/a/b"} {
		routes = append(routes, &compiledRoute{Route: &config.Route{Path: p}})
	}
	sortRoutes(routes)
	var got []string
	for _, r := range routes {
		got = append(got, r.Path)
	}
	if want := "/a/b/c /a/b /a /b"; strings.Join(got, " ") != want {
		t.Errorf("sortRoutes: got %q, want %q", strings.Join(got, " "), want)
	}
}
