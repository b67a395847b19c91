package devproxy

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// chromiumCookies returns a Cookie header of about n bytes made the way a
// browser piles them up for localhost: many projects' cookies of up to
// 4 KB each.
func chromiumCookies(n int) string {
	var parts []string
	size := 0
	for i := 0; size < n; i++ {
		c := fmt.Sprintf("project%d_session=%s", i, strings.Repeat("v", min(3900, n-size)))
		parts = append(parts, c)
		size += len(c) + 2
	}
	return strings.Join(parts, "; ")
}

// TestOversizedRequestHeadersAreExplained: a request whose headers are over
// devproxy's limit (a browser with 30 KB of localhost cookies) gets
// devproxy's own 431, as JSON or as a page, saying how many bytes of Cookie
// for which host and how to clear them, and a log line; the target never
// sees it. Before, such requests were refused by net/http before any
// handler ran, with no log line and a bare text answer.
func TestOversizedRequestHeadersAreExplained(t *testing.T) {
	b, seen := wireBackend(t)
	p := startTunedProxy(t, "routes:\n  /api: "+b.url+"\n", func(s *Server) { s.headerLimit = 16 << 10 })
	b.waitClosed(t, "the start-up probe never came")
	drain(seen)
	cookie := chromiumCookies(30 << 10)
	for _, accept := range []string{"application/json", "text/html"} {
		res, body := p.do(t, http.MethodGet, "/api/x", nil, http.Header{"Cookie": {cookie}, "Accept": {accept}})
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || res.Header.Get("X-Devproxy-Error") != "1" {
			t.Fatalf("GET /api/x (Accept %s) with %d bytes of Cookie: got %d %.200q, want devproxy's 431", accept, len(cookie), res.StatusCode, body)
		}
		for _, want := range []string{fmt.Sprintf("%d bytes of Cookie", len(cookie)), "127.0.0.1", "clear the cookies of 127.0.0.1 in the browser&#39;s site settings"} {
			if accept == "application/json" {
				want = strings.ReplaceAll(want, "&#39;", "'")
			}
			if !strings.Contains(body, want) {
				t.Errorf("GET /api/x (Accept %s): body %q, want it to contain %q", accept, body, want)
			}
		}
	}
	log := p.log.waitFor(t, "GET", "/api/x", "431", fmt.Sprintf("%d bytes of Cookie", len(cookie)), "clear the cookies of 127.0.0.1")
	if got := drain(seen); len(got) != 0 {
		t.Errorf("the target got %d oversized requests, want none; log:\n%s", len(got), log)
	}
	// Headers of an ordinary size still go through.
	if res, body := p.do(t, http.MethodGet, "/api/y", nil, http.Header{"Cookie": {chromiumCookies(4 << 10)}}); res.StatusCode != 200 || !strings.HasPrefix(body, "GET /api/y ") {
		t.Errorf("GET /api/y with 4 KB of Cookie: got %d %q, want 200", res.StatusCode, body)
	}
}

// TestDefaultHeaderLimitPassesBrowserCookies: with the default limit, the
// 20-40 KB of cookies a browser may send reach the target.
func TestDefaultHeaderLimitPassesBrowserCookies(t *testing.T) {
	b, _ := wireBackend(t)
	p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
	for _, n := range []int{20 << 10, 40 << 10} {
		res, body := p.do(t, http.MethodGet, "/api/x", nil, http.Header{"Cookie": {chromiumCookies(n)}})
		if res.StatusCode != 200 || !strings.HasPrefix(body, "GET /api/x ") {
			t.Errorf("GET /api/x with %d bytes of Cookie: got %d %.100q, want 200", n, res.StatusCode, body)
		}
	}
}

// TestRequestsRefusedBeforeRoutingAreLogged: what net/http refuses before
// devproxy's handler runs (headers beyond what the server reads at all, a
// malformed request line, a missing Host, an unknown HTTP version) still
// gets a log line that says what was wrong and how much was read.
func TestRequestsRefusedBeforeRoutingAreLogged(t *testing.T) {
	p := startTunedProxy(t, "routes:\n  /api: http://127.0.0.1:"+closedPort(t)+"\n", func(s *Server) { s.headerLimit = 16 << 10 })
	cases := []struct {
		name    string
		request string
		status  string // what net/http answers
		log     []string
	}{
		{"headers beyond the server's limit", "GET /api/huge HTTP/1.1\r\nHost: localhost\r\nCookie: " + chromiumCookies(100<<10) + "\r\n\r\n",
			"431", []string{"GET", "/api/huge", "431", "clear the cookies of localhost"}},
		{"malformed request line", "GET /api/bad HTTP/1.1 extra\r\nHost: localhost\r\n\r\n",
			"400", []string{"/api/bad", "400", "malformed HTTP", "GET /api/bad HTTP/1.1 extra"}},
		{"missing Host", "GET /api/nohost HTTP/1.1\r\n\r\n",
			"400", []string{"/api/nohost", "400", "missing required Host header"}},
		{"unknown HTTP version", "GET /api/v9 HTTP/9.9\r\nHost: localhost\r\n\r\n",
			"505", []string{"/api/v9", "505", "unsupported protocol version"}},
		{"header name with a space", "GET /api/name HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n",
			"400", []string{"/api/name", "400", "invalid header"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rawRequest(t, p.host, tc.request)
			if !strings.HasPrefix(got, "HTTP/1.1 "+tc.status+" ") {
				t.Fatalf("got %.100q, want a %s", got, tc.status)
			}
			p.log.waitFor(t, tc.log...)
		})
	}
}

// TestTargetRefusingHeadersIsExplained: a target that answers 431 itself
// (Node's limit is 16 KB; here a Go server with the same limit) passes its
// answer on, and the log says so with the request's header and Cookie
// sizes and the fix on the target's side.
func TestTargetRefusingHeadersIsExplained(t *testing.T) {
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	be.Config.MaxHeaderBytes = 16 << 10
	be.Start()
	t.Cleanup(be.Close)
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	cookie := chromiumCookies(30 << 10)
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		res, _ := p.do(t, method, "/api/x", nil, http.Header{"Cookie": {cookie}})
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("%s /api/x: status = %d, want the target's 431", method, res.StatusCode)
		}
		if res.Header.Get("X-Devproxy-Error") != "" {
			t.Errorf("%s /api/x: the target's 431 came as devproxy's own", method)
		}
		p.log.waitFor(t, method, "/api/x", "431", "the target refused", fmt.Sprintf("%d bytes of Cookie", len(cookie)), "--max-http-header-size")
	}
}

// TestOversizedHeadersRefusedOnKeptConnection: after a refusal, a client
// connection is not left in a state that misreads the next request.
func TestOversizedHeadersRefusedOnKeptConnection(t *testing.T) {
	b, _ := wireBackend(t)
	p := startTunedProxy(t, "routes:\n  /api: "+b.url+"\n", func(s *Server) { s.headerLimit = 16 << 10 })
	client := &http.Client{}
	for i, n := range []int{30 << 10, 1 << 10, 30 << 10, 1 << 10} {
		res, body := fetch(t, client, http.MethodGet, p.url+"/api/k", nil, http.Header{"Cookie": {chromiumCookies(n)}})
		want := http.StatusOK
		if n > 16<<10 {
			want = http.StatusRequestHeaderFieldsTooLarge
		}
		if res.StatusCode != want {
			t.Errorf("request %d with %d bytes of Cookie: got %d %.100q, want %d", i, n, res.StatusCode, body, want)
		}
	}
}
