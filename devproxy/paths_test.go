package devproxy

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawResponse sends GET target on a new connection, as written, and returns
// the status and body devproxy answered; for devproxy's own errors, the
// JSON's error and hint.
func rawResponse(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	raw := rawRequest(t, addr, "GET "+target+" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("GET %s: reading the response %q: %v", target, raw, err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.Header.Get("X-Devproxy-Error") != "" {
		var pe proxyError
		if err := json.Unmarshal(b, &pe); err != nil {
			t.Fatalf("GET %s: the error body %q is not JSON: %v", target, b, err)
		}
		return res.StatusCode, pe.Err + "\n" + pe.Hint
	}
	return res.StatusCode, string(b)
}

// TestDotSegments pins the path rule: dot segments, plain or
// percent-encoded, are resolved before routing, the request goes to the
// route of the resolved path with the resolved path; a ".." above the root
// and a segment that hides a dot segment behind an encoded slash or a
// backslash are refused. Before the rule, /api/../admin/x reached the /api
// target, where it resolves to /admin/x.
func TestDotSegments(t *testing.T) {
	be, seen := wireBackend(t)
	p := startProxy(t, "frontend: "+be.url+"/front\nroutes:\n  /api: "+be.url+"\n  /auth:\n    target: "+be.url+"/base\n    strip_prefix: true\n", nil)
	for _, tt := range []struct {
		path string
		want string // the upstream request line, or the refusal's words
		code int
	}{
		{"/api/users", "GET /api/users HTTP/1.1", 200},
		{"/api/../admin/x", "GET /front/admin/x HTTP/1.1", 200},
		{"/api/%2e%2e/admin/x", "GET /front/admin/x HTTP/1.1", 200},
		{"/api/%2E%2E/admin/x", "GET /front/admin/x HTTP/1.1", 200},
		{"/api/.%2e/admin/x", "GET /front/admin/x HTTP/1.1", 200},
		{"/api/%2E./admin/x", "GET /front/admin/x HTTP/1.1", 200},
		{"/api/%2e%2E/admin/x", "GET /front/admin/x HTTP/1.1", 200},
		{"/api/x/../../admin", "GET /front/admin HTTP/1.1", 200},
		{"/api/x/%2e%2e/%2e%2e/admin", "GET /front/admin HTTP/1.1", 200},
		{"/api/./x", "GET /api/x HTTP/1.1", 200},
		{"/api/%2e/x", "GET /api/x HTTP/1.1", 200},
		{"/api/x/%2E/y?q=1", "GET /api/x/y?q=1 HTTP/1.1", 200},
		{"/api/x/..", "GET /api/ HTTP/1.1", 200},
		{"/api/x/.", "GET /api/x/ HTTP/1.1", 200},
		{"/api/a%2Fb/../c%2Fd", "GET /api/c%2Fd HTTP/1.1", 200},
		{"/api/x%2Fy", "GET /api/x%2Fy HTTP/1.1", 200},
		{"/api/cars;color=red/x", "GET /api/cars;color=red/x HTTP/1.1", 200},
		{`/api/a\b`, `GET /api/a\b HTTP/1.1`, 200},
		{"/api/...", "GET /api/... HTTP/1.1", 200},
		{"/api/..x/.x", "GET /api/..x/.x HTTP/1.1", 200},
		{"/api//..", "GET /api/ HTTP/1.1", 200},
		{"/x/../api/y", "GET /api/y HTTP/1.1", 200},
		{"/api/..", "GET /front/ HTTP/1.1", 200},
		{"/auth/x/..", "GET /base/ HTTP/1.1", 200},
		{"/auth/../x", "GET /front/x HTTP/1.1", 200},
		{"/auth/a/./b", "GET /base/a/b HTTP/1.1", 200},
		{"/../etc/passwd", `".." climbs above the root`, 400},
		{"/%2e%2e/etc/passwd", `".." climbs above the root`, 400},
		{"/api/../../etc", `".." climbs above the root`, 400},
		{"/api/x/../%2E%2e/..", `".." climbs above the root`, 400},
		{"/api/..%2F..%2Fadmin", `segment "..%2F..%2Fadmin" hides a dot segment`, 400},
		{"/api/..%2fadmin", `segment "..%2fadmin" hides a dot segment`, 400},
		{"/api/%2e%2e%2fadmin", `segment "%2e%2e%2fadmin" hides a dot segment`, 400},
		{"/api/x%2F..%2F..%2Fadmin", `segment "x%2F..%2F..%2Fadmin" hides a dot segment`, 400},
		{"/api/..%5Cadmin", `segment "..%5Cadmin" hides a dot segment`, 400},
		{`/api/..\admin`, `segment "..\admin" hides a dot segment`, 400},
		{`/api/x\..\..\admin`, `segment "x\..\..\admin" hides a dot segment`, 400},
		{"/api/%5C..", `segment "%5C.." hides a dot segment`, 400},
		{"/api/.%2F", `segment ".%2F" hides a dot segment`, 400},
		{"/api/..;/admin", `segment "..;" hides a dot segment`, 400},
		{"/api/x/.;jsessionid=1/y", `segment ".;jsessionid=1" hides a dot segment`, 400},
		{"/auth/%2e%2e%2fother", `segment "%2e%2e%2fother" hides a dot segment`, 400},
	} {
		code, body := rawResponse(t, p.host, tt.path)
		if code != tt.code {
			t.Errorf("GET %s: status = %d, want %d; body %q", tt.path, code, tt.code, body)
			continue
		}
		if tt.code == 200 && !strings.HasPrefix(body, tt.want+"\n") {
			t.Errorf("GET %s: the upstream saw %q, want %q", tt.path, strings.SplitN(body, "\n", 2)[0], tt.want)
		}
		if tt.code != 200 && !strings.Contains(body, tt.want) {
			t.Errorf("GET %s: body = %q, want it to say %q", tt.path, body, tt.want)
		}
	}
	drain(seen)
}

// TestDotSegmentsMockAndStatic: a mock and a static folder see the resolved
// path too, and a refusal never reaches them.
func TestDotSegmentsMockAndStatic(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"site/index.html": "root index", "site/app.js": "app", "secret.txt": "secret"})
	p := startProxyIn(t, dir, "frontend: {dir: ./site, spa: false}\nroutes:\n  /api/hello:\n    respond: {body: hi}\n", nil)
	for _, tt := range []struct {
		path string
		code int
		want string
	}{
		{"/api/hello/../../app.js", 200, "app"},
		{"/api/hello/x/..", 200, "hi"},
		{"/x/%2e%2e/api/hello", 200, "hi"},
		{"/api/hello/%2e%2e%2f%2e%2e%2fapp.js", 400, "hides a dot segment"},
		{"/../secret.txt", 400, "climbs above the root"},
		{"/%2e%2e%2fsecret.txt", 400, "hides a dot segment"},
	} {
		code, body := rawResponse(t, p.host, tt.path)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s: got %d %q, want %d with %q", tt.path, code, body, tt.code, tt.want)
		}
	}
}

// TestDotSegmentRefusalLogged: a refused path gets a log line that says why.
func TestDotSegmentRefusalLogged(t *testing.T) {
	be, _ := wireBackend(t)
	p := startProxy(t, "routes:\n  /api: "+be.url+"\n", nil)
	if code, _ := rawResponse(t, p.host, "/api/..%2Fadmin"); code != 400 {
		t.Fatalf("GET /api/..%%2Fadmin: status = %d, want 400", code)
	}
	p.log.waitFor(t, "/api/..%2Fadmin", "400", `segment "..%2Fadmin" hides a dot segment`)
}

// TestForwardedHeadersSet pins which forwarding headers a target gets: every
// X-Forwarded-* name, Forwarded and X-Real-IP the client sent is dropped
// (spelled with underscores too, which CGI-style servers read as the same
// name), and devproxy sets X-Forwarded-For, -Host, -Proto, -Port and, when
// strip_prefix removed one, -Prefix. Before, X-Forwarded-Port, -Prefix,
// -Server and other X-Forwarded- names reached the target as sent, and an
// HTTP/1.0 request without Host sent an empty X-Forwarded-Host.
func TestForwardedHeadersSet(t *testing.T) {
	be, seen := wireBackend(t)
	p := startProxy(t, "routes:\n  /api: "+be.url+"\n  /auth:\n    target: "+be.url+"/base\n    strip_prefix: true\n", nil)
	_, port, _ := strings.Cut(p.host, ":")
	spoof := "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n" +
		"X-Forwarded-Port: 1\r\nX-Forwarded-Prefix: /evil\r\nX-Forwarded-Server: evil\r\nX-Forwarded-Ssl: on\r\n" +
		"x-forwarded-anything: x\r\nX_Forwarded_Host: evil.example\r\nX_Real_IP: 6.6.6.6\r\n" +
		"Forwarded: for=6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\n"
	for _, tt := range []struct {
		name, req          string
		host, port, prefix string // the X-Forwarded- values devproxy sets
	}{
		{"route", "GET /api/x HTTP/1.1\r\nHost: localhost:" + port + "\r\n" + spoof + "Connection: close\r\n\r\n", "localhost:" + port, port, ""},
		{"stripped", "GET /auth/x HTTP/1.1\r\nHost: localhost:" + port + "\r\n" + spoof + "Connection: close\r\n\r\n", "localhost:" + port, port, "/auth"},
		{"host without port", "GET /api/x HTTP/1.1\r\nHost: app.localhost\r\n" + spoof + "Connection: close\r\n\r\n", "app.localhost", "80", ""},
		{"HTTP/1.0 without Host", "GET /api/x HTTP/1.0\r\n" + spoof + "\r\n", p.host, port, ""},
	} {
		want := map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": tt.host, "X-Forwarded-Proto": "http",
			"X-Forwarded-Port": tt.port, "X-Forwarded-Prefix": tt.prefix}
		t.Run(tt.name, func(t *testing.T) {
			drain(seen)
			res := rawRequest(t, p.host, tt.req)
			if !strings.Contains(res, " 200 ") {
				t.Fatalf("got %q, want 200", res)
			}
			var wr *wireRequest
			select {
			case wr = <-seen:
			default:
				t.Fatal("the target saw no request")
			}
			for k, v := range wr.header {
				name := strings.ReplaceAll(strings.ToLower(k), "_", "-")
				if strings.HasPrefix(name, "x-forwarded-") || name == "forwarded" || name == "x-real-ip" {
					if w := want[k]; w == "" || len(v) != 1 || v[0] != w {
						t.Errorf("the target got %s: %q, want %q", k, v, w)
					}
				}
			}
			for k, w := range want {
				if got := wr.header.Get(k); got != w {
					t.Errorf("the target got %s: %q, want %q", k, got, w)
				}
			}
		})
	}
}
