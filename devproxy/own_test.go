package devproxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/status"
)

func TestStatusEndpoint(t *testing.T) {
	p := startProxy(t, `
frontend: http://localhost:5173
routes:
  /api: http://localhost:5000
  /api/hello:
    respond: {json: {message: hello}}
`, nil)
	res, body := p.get(t, "/__devproxy/status")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /__devproxy/status: got %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var st struct {
		Version, Config, Listen, Frontend string
		Routes                            []struct {
			Path, Target string
			Respond      bool
		}
		Reload struct {
			OK    bool
			Error string
			At    string
		}
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("status is not JSON: %v\n%s", err, body)
	}
	if st.Version != "devel" || st.Config != p.file || st.Listen != p.host || st.Frontend != "http://localhost:5173" {
		t.Errorf("status = %+v, want version %s, config %s, listen %s, frontend http://localhost:5173", st, "devel", p.file, p.host)
	}
	if len(st.Routes) != 2 {
		t.Fatalf("status routes = %+v, want 2", st.Routes)
	}
	for _, r := range st.Routes {
		switch r.Path {
		case "/api":
			if r.Target != "http://localhost:5000" || r.Respond {
				t.Errorf("status route /api = %+v, want target http://localhost:5000", r)
			}
		case "/api/hello":
			if r.Target != "" || !r.Respond {
				t.Errorf("status route /api/hello = %+v, want respond: true", r)
			}
		default:
			t.Errorf("status has unexpected route %+v", r)
		}
	}
	if _, err := time.Parse(time.RFC3339, st.Reload.At); !st.Reload.OK || st.Reload.Error != "" || err != nil {
		t.Errorf("status reload = %+v, want ok with an RFC 3339 time", st.Reload)
	}

	// The inspector has /__devproxy/ itself (inspector_test.go).
	for _, path := range []string{"/__devproxy/nope", "/__devproxy/apix", "/__devproxy/app.jsx"} {
		if res, _ := p.get(t, path); res.StatusCode != 404 || res.Header.Get("X-Devproxy-Error") != "1" {
			t.Errorf("GET %s: status %d, want devproxy's 404", path, res.StatusCode)
		}
	}
	if res, _ := p.do(t, "POST", "/__devproxy/status", nil, nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /__devproxy/status: status %d, want 405", res.StatusCode)
	}
}

func TestNoFrontendListsRoutes(t *testing.T) {
	p := startProxy(t, "routes:\n  /api: http://localhost:5000\n", nil)
	html := http.Header{"Accept": {"text/html"}}
	res, body := p.do(t, "GET", "/", nil, html)
	if res.StatusCode != 200 || !strings.Contains(body, "/api") || !strings.Contains(body, "http://localhost:5000") || !strings.Contains(body, "frontend:") {
		t.Errorf("GET / without a frontend: got %d %q, want 200 listing the routes", res.StatusCode, body)
	}
	res, body = p.do(t, "GET", "/app/page", nil, html)
	if res.StatusCode != 404 || !strings.Contains(body, "/api") {
		t.Errorf("GET /app/page without a frontend: got %d, want 404 listing the routes", res.StatusCode)
	}
	res, body = p.get(t, "/app.js")
	if res.StatusCode != 404 || !strings.Contains(body, `"routes":[{"path":"/api","target":"http://localhost:5000"}]`) || !strings.Contains(body, `"hint"`) {
		t.Errorf("GET /app.js without a frontend: got %d %q, want 404 JSON listing the routes", res.StatusCode, body)
	}
}

// TestFrontendEndpoint pins what the waiting page polls: always 200, with
// whether the dev server answers and why not.
func TestFrontendEndpoint(t *testing.T) {
	up := namedBackend(t, "fe")
	closed := "127.0.0.1:" + closedPort(t)
	for _, tt := range []struct {
		config string
		want   status.Frontend
	}{
		{"frontend: " + up.URL + "\n", status.Frontend{Up: true, Target: up.URL}},
		{"frontend: http://" + closed + "\n", status.Frontend{Target: "http://" + closed, Error: "connection refused: nothing listens on " + closed}},
		{"routes: {}\n", status.Frontend{Up: true}},
	} {
		p := startProxy(t, tt.config, nil)
		res, body := p.get(t, status.FrontendPath)
		var got status.Frontend
		if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != http.StatusOK || got != tt.want {
			t.Errorf("GET %s with %q: status %d, %+v (%v); want 200 and %+v", status.FrontendPath, tt.config, res.StatusCode, got, err, tt.want)
		}
	}
}
