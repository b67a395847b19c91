package devproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
)

// countingBackend counts the requests that reach it.
func countingBackend(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			wsEchoHandler(t, "", nil)(w, r)
			return
		}
		fmt.Fprintf(w, "upgrade=%s\nx-dev-user=%s\n", r.Header.Get("Upgrade"), r.Header.Get("X-Dev-User"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestHostCheckStopsDNSRebinding(t *testing.T) {
	be, hits := countingBackend(t)
	p := startProxy(t, "allowed_hosts: [myapp.test]\nfrontend: "+be.URL+"\nroutes:\n  /api: "+be.URL+"\n", nil)
	_, port, _ := net.SplitHostPort(p.host)
	tests := []struct {
		host string
		want int
	}{
		{"localhost:" + port, 200},
		{"LOCALHOST:" + port, 200},
		{"app.localhost:" + port, 200},
		{"127.0.0.1:" + port, 200},
		{"[::1]:" + port, 200},
		{"192.168.1.20:" + port, 200},
		{"myapp.test:" + port, 200},
		{"myapp.test", 200},
		{"evil.example:" + port, 403},
		{"localhost.evil.example", 403},
		{"myapp.test.evil.example", 403},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/x", "/", "/__devproxy/status"} {
			before := hits.Load()
			got := rawRequest(t, p.host, "GET "+path+" HTTP/1.1\r\nHost: "+tt.host+"\r\nConnection: close\r\n\r\n")
			if !strings.HasPrefix(got, fmt.Sprintf("HTTP/1.1 %d", tt.want)) {
				t.Errorf("GET %s with Host %s: %q, want %d", path, tt.host, firstLine(got), tt.want)
			}
			if tt.want == 403 {
				if hits.Load() != before {
					t.Errorf("GET %s with Host %s reached the upstream", path, tt.host)
				}
				if !strings.Contains(got, "allowed_hosts") {
					t.Errorf("GET %s with Host %s: body does not say how to allow it: %q", path, tt.host, got)
				}
			}
		}
	}
	p.log.waitFor(t, "403", "DNS rebinding protection", "add it to allowed_hosts")
}

func TestNotAnOpenProxy(t *testing.T) {
	be, hits := countingBackend(t)
	p := startProxy(t, "frontend: "+be.URL+"\nroutes:\n  /api: "+be.URL+"\n", nil)
	tests := []struct {
		name, req string
		want      int
	}{
		{"absolute-form to another host", "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n", 403},
		{"absolute-form, Host mismatch", "GET http://127.0.0.1:22/ HTTP/1.1\r\nHost: " + p.host + "\r\n", 403},
		{"absolute-form to devproxy itself", "GET http://" + p.host + "/api/x HTTP/1.1\r\nHost: " + p.host + "\r\n", 200},
		{"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n", 405},
		{"CONNECT to a loopback port", "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n", 405},
	}
	for _, tt := range tests {
		before := hits.Load()
		got := rawRequest(t, p.host, tt.req+"Connection: close\r\n\r\n")
		if !strings.HasPrefix(got, fmt.Sprintf("HTTP/1.1 %d", tt.want)) {
			t.Errorf("%s: %q, want %d", tt.name, firstLine(got), tt.want)
		}
		if tt.want != 200 && hits.Load() != before {
			t.Errorf("%s reached the upstream", tt.name)
		}
	}
}

func TestWebSocketOriginCheck(t *testing.T) {
	be, hits := countingBackend(t)
	p := startProxy(t, "allowed_origins: [http://localhost:3000]\nfrontend: "+be.URL+"\nroutes:\n  /api: "+be.URL+"\n", nil)
	_, port, _ := net.SplitHostPort(p.host)
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true}, // a tool, not a browser
		{"http://" + p.host, true},
		{"http://localhost:" + port, true},
		{"http://localhost:3000", true},
		{"http://evil.example", false},
		{"http://localhost:3001", false},
		{"null", false},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/ws", "/"} {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			before := hits.Load()
			c, res, err := wsDial(t, p.host, path, h)
			if err != nil {
				t.Fatalf("upgrade %s from %q: %v", path, tt.origin, err)
			}
			if tt.ok != (c != nil) {
				t.Errorf("upgrade %s from Origin %q: got %v, want allowed %t", path, tt.origin, res.Status, tt.ok)
			}
			if c != nil {
				c.close()
				continue
			}
			if res.StatusCode != 403 || hits.Load() != before {
				t.Errorf("refused upgrade %s from %q: status %d, upstream hits %d, want 403 and no upstream dial", path, tt.origin, res.StatusCode, hits.Load()-before)
			}
		}
	}
	p.log.waitFor(t, "cross-site WebSocket hijacking protection", "allowed_origins: [http://evil.example]")
}

func TestCrossSiteRequests(t *testing.T) {
	be, hits := countingBackend(t)
	p := startProxy(t, "allowed_origins: [http://localhost:3000]\nfrontend: "+be.URL+"\nroutes:\n  /api: "+be.URL+"\n", nil)
	tests := []struct {
		name, method, path string
		header             http.Header
		want               int
	}{
		{"same-origin POST", "POST", "/api/x", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {"http://" + p.host}}, 200},
		{"tool POST without browser headers", "POST", "/api/x", nil, 200},
		{"cross-site POST", "POST", "/api/x", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"http://evil.example"}}, 403},
		{"cross-site DELETE, old browser", "DELETE", "/api/x", http.Header{"Origin": {"http://evil.example"}}, 403},
		{"same-site PUT from another port", "PUT", "/api/x", http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {"http://localhost:3001"}}, 403},
		{"trusted origin PATCH", "PATCH", "/api/x", http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {"http://localhost:3000"}}, 200},
		{"cross-site GET is a link", "GET", "/api/x", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 200},
		{"cross-site no-cors script of the frontend", "GET", "/src/main.js", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-Mode": {"no-cors"}, "Sec-Fetch-Dest": {"script"}}, 403},
		{"same-origin script of the frontend", "GET", "/src/main.js", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Sec-Fetch-Mode": {"no-cors"}, "Sec-Fetch-Dest": {"script"}}, 200},
		{"cross-site image of the frontend", "GET", "/logo.png", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-Mode": {"no-cors"}, "Sec-Fetch-Dest": {"image"}}, 200},
	}
	for _, tt := range tests {
		before := hits.Load()
		res, body := p.do(t, tt.method, tt.path, strings.NewReader("x"), tt.header)
		if res.StatusCode != tt.want {
			t.Errorf("%s: %s %s: status %d %q, want %d", tt.name, tt.method, tt.path, res.StatusCode, body, tt.want)
		}
		if tt.want == 403 && (hits.Load() != before || !strings.Contains(body, "allowed_origins")) {
			t.Errorf("%s: reached the upstream, or the body %q does not say how to allow it", tt.name, body)
		}
		for k := range res.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: devproxy added CORS header %s", tt.name, k)
			}
		}
	}
	p.log.waitFor(t, "cross-site request protection", "source theft protection")
}

func TestOnlyWebSocketUpgrades(t *testing.T) {
	be, _ := countingBackend(t)
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	// The connection stays open after the answer: read the one response.
	res, body := rawExchange(t, p.host, "GET /api/x HTTP/1.1\r\nHost: "+p.host+"\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
	if res.StatusCode != 200 || !strings.Contains(body, "upgrade=\n") {
		t.Errorf("h2c upgrade: %d %q, want a plain 200 with no Upgrade upstream", res.StatusCode, body)
	}
}

func TestRouteHeadersSurviveConnectionHeader(t *testing.T) {
	be, _ := countingBackend(t)
	p := startProxy(t, "routes:\n  /api:\n    target: "+be.URL+"\n    headers: {X-Dev-User: alice}\n", nil)
	_, body := p.do(t, "GET", "/api/x", nil, http.Header{"Connection": {"X-Dev-User"}, "X-Dev-User": {"mallory"}})
	if !strings.Contains(body, "x-dev-user=alice") {
		t.Errorf("client Connection: X-Dev-User: upstream got %q, want the route's X-Dev-User: alice", body)
	}
}

func TestHopByHopResponseHeaders(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/hints":
			w.Header().Set("Link", "</app.js>; rel=preload")
			w.Header().Set("Connection", "X-Secret")
			w.Header().Set("X-Secret", "leak")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Connection")
			w.Header().Del("X-Secret")
			io.WriteString(w, "done")
		case "/api/ws":
			c, brw, _ := http.NewResponseController(w).Hijack()
			defer c.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Secret\r\nX-Secret: leak\r\nKeep-Alive: timeout=5\r\n" +
				"Sec-WebSocket-Accept: " + wsAccept(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
			brw.Flush()
			io.Copy(io.Discard, c)
		default:
			w.Header().Set("Connection", "X-Secret")
			w.Header().Set("X-Secret", "leak")
			w.Header().Set("Keep-Alive", "timeout=5")
			io.WriteString(w, "plain")
		}
	}))
	defer be.Close()
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)

	res, _ := p.get(t, "/api/plain")
	if res.Header.Get("X-Secret") != "" || res.Header.Get("Keep-Alive") != "" {
		t.Errorf("GET /api/plain: hop-by-hop headers reached the client: %v", res.Header)
	}

	var early textproto.MIMEHeader
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code == http.StatusEarlyHints {
			early = h
		}
		return nil
	}}
	req, _ := http.NewRequest("GET", p.url+"/api/hints", nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if early == nil || early.Get("Link") == "" {
		t.Errorf("103 Early Hints did not pass: %v", early)
	} else if early.Get("X-Secret") != "" {
		t.Errorf("103 carried a hop-by-hop header: %v", early)
	}

	c, err := net.Dial("tcp", p.host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /api/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGVzdA==\r\nSec-WebSocket-Version: 13\r\n\r\n", p.host)
	res, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 || res.Header.Get("X-Secret") != "" || res.Header.Get("Keep-Alive") != "" || res.Header.Get("Upgrade") != "websocket" {
		t.Errorf("101 response: %d %v, want the upgrade without hop-by-hop headers", res.StatusCode, res.Header)
	}
}

// TestOriginsComparedBySchemeHostPort pins that every origin check (the
// WebSocket check, cross-site protection, the no-cors script check and cors
// mode) compares scheme, host and port: https://localhost:PORT is another
// origin than devproxy's http://localhost:PORT, and a default port written
// out is the same origin as one left out.
func TestOriginsComparedBySchemeHostPort(t *testing.T) {
	be, hits := countingBackend(t)
	p := startProxy(t, "allowed_origins: [\"http://trusted.localhost:80\"]\nfrontend: "+be.URL+
		"\nroutes:\n  /api: "+be.URL+
		"\n  /cors:\n    target: "+be.URL+"\n    cors: {origins: [\"https://app.localhost:443\"]}\n", nil)
	_, port, _ := net.SplitHostPort(p.host)
	own := "http://localhost:" + port

	t.Run("websocket", func(t *testing.T) {
		tests := []struct {
			origin string
			ok     bool
		}{
			{own, true},
			{"http://127.0.0.1:" + port, true},
			{"HTTP://LOCALHOST:" + port, true},
			{"https://localhost:" + port, false},
			{"https://127.0.0.1:" + port, false},
			{"ws://localhost:" + port, false},
			{"http://localhost:" + port + "0", false},
			{"http://trusted.localhost", true},
			{"http://trusted.localhost:80", true},
			{"https://trusted.localhost", false},
			{"http://trusted.localhost:8080", false},
		}
		for _, tt := range tests {
			for _, path := range []string{"/api/ws", "/"} {
				before := hits.Load()
				c, res, err := wsDial(t, "localhost:"+port, path, http.Header{"Origin": {tt.origin}})
				if err != nil {
					t.Fatalf("upgrade %s from %q: %v", path, tt.origin, err)
				}
				if c != nil {
					c.close()
				}
				if tt.ok != (c != nil) {
					t.Errorf("upgrade %s from Origin %q: %s, want allowed %t", path, tt.origin, res.Status, tt.ok)
				}
				if !tt.ok && hits.Load() != before {
					t.Errorf("refused upgrade %s from %q reached the target", path, tt.origin)
				}
			}
		}
	})

	t.Run("cross-site protection", func(t *testing.T) {
		tests := []struct {
			name   string
			header http.Header
			want   int
		}{
			{"own origin, old browser", http.Header{"Origin": {own}}, 200},
			{"https page, old browser", http.Header{"Origin": {"https://localhost:" + port}}, 403},
			{"https page, modern browser", http.Header{"Origin": {"https://localhost:" + port}, "Sec-Fetch-Site": {"cross-site"}}, 403},
			{"trusted origin written with :80", http.Header{"Origin": {"http://trusted.localhost"}, "Sec-Fetch-Site": {"cross-site"}}, 200},
			{"trusted host over https", http.Header{"Origin": {"https://trusted.localhost"}, "Sec-Fetch-Site": {"cross-site"}}, 403},
		}
		for _, tt := range tests {
			before := hits.Load()
			req, _ := http.NewRequest("POST", "http://localhost:"+port+"/api/x", strings.NewReader("x"))
			for k, v := range tt.header {
				req.Header[k] = v
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Errorf("%s: POST /api/x: status %d, want %d", tt.name, res.StatusCode, tt.want)
			}
			if tt.want == 403 && hits.Load() != before {
				t.Errorf("%s: a refused POST reached the target", tt.name)
			}
		}
	})

	t.Run("no-cors script", func(t *testing.T) {
		script := http.Header{"Sec-Fetch-Mode": {"no-cors"}, "Sec-Fetch-Dest": {"script"}}
		with := func(site, referer string) http.Header {
			h := script.Clone()
			h.Set("Sec-Fetch-Site", site)
			if referer != "" {
				h.Set("Referer", referer)
			}
			return h
		}
		tests := []struct {
			name   string
			header http.Header
			want   int
		}{
			{"same-origin", with("same-origin", own+"/"), 200},
			{"same-site page on another port", with("same-site", "http://localhost:3001/"), 403},
			{"same-site page without a referrer", with("same-site", ""), 403},
			{"cross-site https page of the same host", with("cross-site", "https://localhost:"+port+"/"), 403},
			{"trusted page", with("same-site", "http://trusted.localhost/app"), 200},
		}
		for _, tt := range tests {
			res, body := p.do(t, "GET", "/src/main.js", nil, tt.header)
			if res.StatusCode != tt.want {
				t.Errorf("%s: GET /src/main.js: status %d %q, want %d", tt.name, res.StatusCode, body, tt.want)
			}
		}
	})

	t.Run("cors mode", func(t *testing.T) {
		tests := []struct {
			origin    string
			allowOrig string // Access-Control-Allow-Origin, "" for none
		}{
			{"https://app.localhost", "https://app.localhost"},
			{"https://app.localhost:443", "https://app.localhost:443"},
			{"http://app.localhost", ""},
			{"https://app.localhost:8443", ""},
		}
		for _, tt := range tests {
			res, _ := p.do(t, "GET", "/cors/x", nil, http.Header{"Origin": {tt.origin}})
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tt.allowOrig {
				t.Errorf("GET /cors/x from %q: Access-Control-Allow-Origin = %q, want %q", tt.origin, got, tt.allowOrig)
			}
		}
		// devproxy's own page calling the route is no cross-origin call,
		// but an https page of the same host and port is one, and refused.
		p.do(t, "GET", "/cors/x", nil, http.Header{"Origin": {"http://" + p.host}})
		res, _ := p.do(t, "GET", "/cors/x", nil, http.Header{"Origin": {"https://localhost:" + port}})
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET /cors/x from https://localhost:%s: got Access-Control-Allow-Origin %q, want none", port, res.Header.Get("Access-Control-Allow-Origin"))
		}
		p.log.waitFor(t, "refused the cross-origin call from https://localhost:"+port)
		if strings.Contains(p.log.String(), "refused the cross-origin call from http://"+p.host) {
			t.Errorf("a call from devproxy's own origin was reported as refused")
		}
	})
}
