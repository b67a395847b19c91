package devproxy

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
)

// corsBackend is a target that gets CORS wrong on purpose: a wildcard and a
// second Allow-Origin, as an app and an nginx in front of it both adding
// one. It counts the OPTIONS requests that reach it.
func corsBackend(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var options atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			options.Add(1)
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Add("Access-Control-Allow-Origin", "*")
		w.Header().Add("Access-Control-Allow-Origin", "http://wrong.test")
		w.Header().Set("Access-Control-Allow-Methods", "GET")
		w.Header().Set("X-Total-Count", "42")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"origin":%q}`, r.URL.Path, r.Header.Get("Origin"))
	}))
	t.Cleanup(backend.Close)
	return backend, &options
}

func TestCORSMode(t *testing.T) {
	backend, options := corsBackend(t)
	p := startProxy(t, `routes:
  /api:
    target: `+backend.URL+`
    cors:
      origins: ["http://localhost:3000"]
      credentials: true
      max_age: 10m
  /strict:
    target: `+backend.URL+`
    cors:
      origins: [http://localhost:3000]
      headers: [Content-Type]
      methods: [PUT]
      expose: [X-Total-Count]
  /mock:
    respond: {json: {ok: true}, headers: {Access-Control-Allow-Origin: "*"}}
    cors: {origins: [http://localhost:3000]}
`, nil)

	t.Run("preflight", func(t *testing.T) {
		res, _ := p.do(t, http.MethodOptions, "/api/users", nil, http.Header{
			"Origin":                         {"http://localhost:3000"},
			"Access-Control-Request-Method":  {"PUT"},
			"Access-Control-Request-Headers": {"authorization,content-type"},
		})
		want := map[string]string{
			"Access-Control-Allow-Origin":      "http://localhost:3000",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "PUT",
			"Access-Control-Allow-Headers":     "authorization, content-type",
			"Access-Control-Max-Age":           "600",
		}
		if res.StatusCode != http.StatusNoContent {
			t.Errorf("OPTIONS /api/users: status = %d, want 204", res.StatusCode)
		}
		for name, v := range want {
			if got := res.Header.Values(name); len(got) != 1 || got[0] != v {
				t.Errorf("OPTIONS /api/users: %s = %q, want %q", name, got, v)
			}
		}
		if !strings.Contains(res.Header.Get("Vary"), "Origin") {
			t.Errorf("OPTIONS /api/users: Vary = %q, want Origin in it", res.Header.Get("Vary"))
		}
		if n := options.Load(); n != 0 {
			t.Errorf("the target got %d OPTIONS requests, want 0: devproxy answers preflights", n)
		}
	})

	t.Run("response headers replaced", func(t *testing.T) {
		res, body := p.do(t, http.MethodGet, "/api/users", nil, http.Header{"Origin": {"http://localhost:3000"}})
		if got := res.Header.Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{"http://localhost:3000"}) {
			t.Errorf("GET /api/users: Access-Control-Allow-Origin = %q, want only the request's origin", got)
		}
		if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("GET /api/users: Access-Control-Allow-Credentials = %q, want true", got)
		}
		if got := res.Header.Get("Access-Control-Allow-Methods"); got != "" {
			t.Errorf("GET /api/users: Access-Control-Allow-Methods = %q, want the target's removed", got)
		}
		if got := res.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Total-Count") {
			t.Errorf("GET /api/users: Access-Control-Expose-Headers = %q, want X-Total-Count in it", got)
		}
		if got := res.Header.Get("Vary"); got != "Origin" {
			t.Errorf("GET /api/users: Vary = %q, want Origin", got)
		}
		if !strings.Contains(body, `"origin":"http://localhost:3000"`) {
			t.Errorf("GET /api/users: body = %s, want the target to see the Origin", body)
		}
	})

	t.Run("no origin", func(t *testing.T) {
		res, _ := p.do(t, http.MethodGet, "/api/users", nil, nil)
		if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 2 {
			t.Errorf("GET /api/users without Origin: Access-Control-Allow-Origin = %q, want the target's untouched", got)
		}
		if got := res.Header.Get("Vary"); got != "Origin" {
			t.Errorf("GET /api/users without Origin: Vary = %q, want Origin", got)
		}
	})

	t.Run("same origin", func(t *testing.T) {
		res, _ := p.do(t, http.MethodPost, "/api/users", nil, http.Header{"Origin": {p.url}})
		if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 2 {
			t.Errorf("POST /api/users from devproxy's own origin: Access-Control-Allow-Origin = %q, want the target's untouched", got)
		}
	})

	t.Run("origin refused", func(t *testing.T) {
		for range 2 {
			res, _ := p.do(t, http.MethodGet, "/api/users", nil, http.Header{"Origin": {"http://localhost:3001"}})
			for name := range res.Header {
				if strings.HasPrefix(name, "Access-Control-") {
					t.Errorf("GET /api/users from a refused origin: got %s: %q, want no CORS header", name, res.Header.Values(name))
				}
			}
		}
		res, _ := p.do(t, http.MethodOptions, "/api/users", nil, http.Header{
			"Origin":                        {"http://localhost:3001"},
			"Access-Control-Request-Method": {"DELETE"},
		})
		if res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("OPTIONS /api/users from a refused origin: status %d, Allow-Origin %q; want 403 and none",
				res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
		line := "/api: refused the cross-origin call from http://localhost:3001: it is not in routes./api.cors.origins (" + p.file + " line 5) — add it there to allow it"
		log := p.log.waitFor(t, line)
		if n := strings.Count(log, line); n != 1 {
			t.Errorf("the log names the refused origin %d times, want once:\n%s", n, log)
		}
	})

	t.Run("header not listed", func(t *testing.T) {
		res, _ := p.do(t, http.MethodOptions, "/strict", nil, http.Header{
			"Origin":                         {"http://localhost:3000"},
			"Access-Control-Request-Method":  {"DELETE"},
			"Access-Control-Request-Headers": {"content-type,x-trace"},
		})
		if got := res.Header.Get("Access-Control-Allow-Headers"); got != "Content-Type" {
			t.Errorf("OPTIONS /strict: Access-Control-Allow-Headers = %q, want Content-Type", got)
		}
		if got := res.Header.Get("Access-Control-Allow-Methods"); got != "PUT" {
			t.Errorf("OPTIONS /strict: Access-Control-Allow-Methods = %q, want PUT", got)
		}
		if got := res.Header.Get("Access-Control-Max-Age"); got != "60" {
			t.Errorf("OPTIONS /strict: Access-Control-Max-Age = %q, want the default 60", got)
		}
		p.log.waitFor(t,
			"/strict: refused the preflight from http://localhost:3000: header x-trace is not in routes./strict.cors.headers",
			"/strict: refused the DELETE preflight from http://localhost:3000: DELETE is not in routes./strict.cors.methods")
		res, _ = p.do(t, http.MethodGet, "/strict", nil, http.Header{"Origin": {"http://localhost:3000"}})
		if got := res.Header.Get("Access-Control-Expose-Headers"); got != "X-Total-Count" {
			t.Errorf("GET /strict: Access-Control-Expose-Headers = %q, want X-Total-Count", got)
		}
		if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("GET /strict: Access-Control-Allow-Credentials = %q, want none without credentials", got)
		}
	})

	t.Run("mock", func(t *testing.T) {
		res, body := p.do(t, http.MethodGet, "/mock", nil, http.Header{"Origin": {"http://localhost:3000"}})
		if got := res.Header.Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{"http://localhost:3000"}) || body != `{"ok":true}` {
			t.Errorf("GET /mock: Access-Control-Allow-Origin = %q, body %s; want the origin and the mock's body", got, body)
		}
	})
}

// TestCORSModeProxyError checks that a failure behind a cors route is still
// explained in the log and reaches the page with CORS headers, so that the
// page can read devproxy's explanation.
func TestCORSModeProxyError(t *testing.T) {
	port := closedPort(t)
	p := startProxy(t, `routes:
  /api:
    target: http://127.0.0.1:`+port+`
    cors: {origins: [http://localhost:3000]}
`, nil)
	res, body := p.do(t, http.MethodGet, "/api/x", nil, http.Header{"Origin": {"http://localhost:3000"}})
	if res.StatusCode != http.StatusBadGateway || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Errorf("GET /api/x: status %d, Allow-Origin %q; want 502 with the origin allowed", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	if !strings.Contains(body, "connection refused") {
		t.Errorf("GET /api/x: body = %s, want the explanation", body)
	}
	p.log.waitFor(t, "connection refused: nothing listens on 127.0.0.1:"+port)
}

func TestTrustedOrigins(t *testing.T) {
	cfg, err := config.Parse("devproxy.yaml", []byte(`allowed_origins: [http://localhost:3000]
routes:
  /a: {target: http://localhost:5000, cors: {origins: ["http://localhost:5173,http://localhost:3000"]}}
  /b: http://localhost:5001
  /c: {respond: {status: 204}, cors: {origins: [https://app.test]}}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://localhost:3000", "http://localhost:5173", "https://app.test"}
	if got := cfg.TrustedOrigins(); !slices.Equal(got, want) {
		t.Errorf("TrustedOrigins() = %q, want %q", got, want)
	}
}
