package devproxy

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestCanonicalOrigin(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://localhost:8080", "http://localhost:8080", true},
		{"HTTP://LocalHost:8080", "http://localhost:8080", true},
		{"http://localhost:80", "http://localhost", true},
		{"https://localhost:443", "https://localhost", true},
		{"https://localhost:80", "https://localhost:80", true},
		{"http://localhost:", "http://localhost", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"http://[::1]:80", "http://[::1]", true},
		{"http://localhost:8080/", "http://localhost:8080", true},
		{"null", "", false},
		{"", "", false},
		{"ws://localhost:8080", "", false},
		{"http://localhost:8080/app", "", false},
		{"http://user@localhost:8080", "", false},
		{"http://localhost:8080?x", "", false},
	}
	for _, tt := range tests {
		got, ok := canonicalOrigin(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("canonicalOrigin(%q) = %q, %t; want %q, %t", tt.in, got, ok, tt.want, tt.ok)
		}
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
