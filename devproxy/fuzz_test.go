package devproxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzConfig has a route of every shape: plain, stripped with a base path
// and preserved Host, an IPv6 target with a base path and a trailing slash,
// a nested stripped prefix, and a dev server frontend.
const fuzzConfig = `frontend: http://localhost:5173
routes:
  /api: http://127.0.0.1:5000
  /auth:
    target: https://localhost:7001/base
    strip_prefix: true
    host: preserve
    headers: {X-Dev-User: alice, Cookie: ""}
  /b:
    target: http://[::1]:7002/base/
  /a/b/c:
    target: http://app.test:8080
    strip_prefix: true
  /a/b/c/mock:
    respond: {body: hi}
`

// FuzzRequestPath drives a request's method, target and a header through
// the guards, the router and the rewrite as ReverseProxy calls it, and a
// response header through the response mapping. Nothing may panic, the
// outgoing request must go to the route's own target, and its wire form
// must be one origin-form request and nothing more.
func FuzzRequestPath(f *testing.F) {
	for _, s := range [][5]string{
		{"GET", "/api/users?id=1", "X-Forwarded-Host", "evil.example", "http://127.0.0.1:5000/x"},
		{"POST", "/auth/login", "Connection", "X-Dev-User", "https://localhost:7001/base/next?a=1#f"},
		{"GET", "/auth//evil.example/x", "Host", "other", "/base/after"},
		{"GET", "/b/%2F%2Fevil.example", "X-Real-IP", "1.2.3.4", "/base//evil.example/x"},
		{"GET", "//evil.example/", "Forwarded", "for=1.2.3.4", "//evil.example/"},
		{"GET", "http://localhost:8080/api/x", "Upgrade", "h2c", "http://[::1]:7002/base/y"},
		{"GET", "http://evil.example/api/x", "X-A", "b", "sid=1; Domain=localhost; Path=/base/"},
		{"OPTIONS", "*", "Origin", "http://evil.example", "sid=1; Path=/"},
		{"CONNECT", "127.0.0.1:22", "X-A", "b", ""},
		{"GET", "/a/b/c%2Fd/../x", "Sec-Fetch-Site", "cross-site", "http://app.test:8080/z"},
		{"GET", "/a/b/c", "X-A", "b", "http://app.test:8080"},
		{"GET", "/src/main.ts?t=1", "Accept", "text/html", "/@vite/client"},
		{"DELETE", "/api?%zz", "Origin", "http://localhost:8080", "\\\\evil.example"},
		{"GET", "/api/../auth/x", "X-A", "b", ""},
		{"GET", "/auth/x", "X-Forwarded-Prefix", "/evil", ""},
		{"GET", "/api/x", "X_Forwarded_Host", "evil.example", ""},
		{"GET", "/api/x", "X-Forwarded-Server", "evil", ""},
		{"GET", "/api/%2e%2E/a/b/c/x", "X-A", "b", ""},
		{"GET", "/auth/x/.%2e/%2e/y/..", "X-A", "b", ""},
		{"GET", "/b/..%2F..%2Fadmin", "X-A", "b", ""},
		{"GET", "/a/b/c/%2e%2e%5cx", "X-A", "b", ""},
		{"GET", "/a/b/c/..;/x", "X-A", "b", ""},
		{"GET", "http://localhost:8080/api/x/../../y", "X-A", "b", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	file := filepath.Join(f.TempDir(), "devproxy.yaml")
	if err := os.WriteFile(file, []byte(fuzzConfig), 0o644); err != nil {
		f.Fatal(err)
	}
	srv, err := New(Options{ConfigFile: file, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		f.Fatal(err)
	}
	rt := srv.router.Load()
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}

	f.Fuzz(func(t *testing.T, method, target, name, value, loc string) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: localhost:8080\r\n" + name + ": " + value + "\r\n\r\n"
		in, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // net/http refuses it before devproxy sees it
		}
		in.RemoteAddr = "127.0.0.1:40000"
		in = in.WithContext(context.WithValue(context.Background(), http.LocalAddrContextKey, net.Addr(local)))

		// The real dispatch: path rule, routing, guards.
		d := rt.dispatch(in)
		if d.refused != nil || d.h == nil {
			return // refused, or devproxy's own
		}
		in = d.r
		dropOtherUpgrades(in)
		u, ok := d.h.(*upstream)
		if !ok {
			return // a mock
		}

		// As ReverseProxy does before it calls Rewrite.
		out := in.Clone(in.Context())
		if in.ContentLength == 0 {
			out.Body = nil
		}
		out.Close = false
		for _, k := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
			out.Header.Del(k)
		}
		u.rewrite(&httputil.ProxyRequest{In: in, Out: out})

		if out.URL.Scheme != u.target.Scheme || out.URL.Host != u.target.Host {
			t.Fatalf("%q goes to %s://%s, want the route's target %s", raw, out.URL.Scheme, out.URL.Host, u.target)
		}
		if out.Header.Get("X-Forwarded-For") != "127.0.0.1" || out.Header.Get("X-Real-Ip") != "" {
			t.Fatalf("%q: forwarding headers X-Forwarded-For %q, X-Real-IP %q", raw, out.Header.Get("X-Forwarded-For"), out.Header.Get("X-Real-Ip"))
		}
		for k := range out.Header {
			switch k {
			case "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Forwarded-Prefix":
			default:
				if isForwardingHeader(k) {
					t.Fatalf("%q: the client's forwarding header %s reached the target", raw, k)
				}
			}
		}
		if got := out.Header.Get("X-Forwarded-Prefix"); got != u.prefix {
			t.Fatalf("%q: X-Forwarded-Prefix %q, want %q", raw, got, u.prefix)
		}
		for _, hd := range u.headers {
			if got := out.Header.Get(hd.Name); got != hd.Value {
				t.Fatalf("%q: route header %s = %q, want %q", raw, hd.Name, got, hd.Value)
			}
		}

		// The request as the transport writes it: one request in
		// origin-form (or OPTIONS * as it came), for the target's host (or the browser's, with
		// host: preserve), and no byte more.
		out.Body, out.ContentLength, out.TransferEncoding = nil, 0, nil
		var wire bytes.Buffer
		if err := out.Write(&wire); err == nil {
			br := bufio.NewReader(bytes.NewReader(wire.Bytes()))
			back, err := http.ReadRequest(br)
			if err != nil {
				t.Fatalf("%q was written upstream as %q, which does not parse: %v", raw, wire.String(), err)
			}
			if !strings.HasPrefix(back.RequestURI, "/") && !(back.RequestURI == "*" && in.RequestURI == "*") {
				t.Fatalf("%q was written upstream with the target %q, want origin-form", raw, back.RequestURI)
			}
			wantHost := u.target.Host
			if u.preserveHost {
				wantHost = in.Host
			}
			if back.Host != wantHost {
				t.Fatalf("%q was written upstream with Host %q, want %q", raw, back.Host, wantHost)
			}
			if rest, _ := io.ReadAll(br); len(rest) != 0 {
				t.Fatalf("%q was written upstream as %q: %q follows the request", raw, wire.String(), rest)
			}
			// The path rule: however the target decodes and resolves the
			// path, it stays under the route's prefix and the target's
			// base path.
			want := u.base
			if !u.frontend && u.prefix == "" {
				want += u.name
			}
			if got := targetView(back.RequestURI); !hasPathPrefix(got, want) && got+"/" != want+"/" {
				t.Fatalf("%q went upstream as %q, which a target resolves to %q, outside %q", raw, back.RequestURI, got, want)
			}
		}

		// A response naming loc, mapped back for the browser.
		res := &http.Response{StatusCode: http.StatusFound, Request: out, Header: http.Header{
			"Location": {loc}, "Content-Location": {loc}, "Set-Cookie": {loc},
		}}
		if err := u.modifyResponse(res); err != nil {
			t.Fatalf("modifyResponse: %v", err)
		}
		own := "http://" + in.Host
		for _, k := range []string{"Location", "Content-Location"} {
			got := res.Header.Get(k)
			if got == loc {
				continue
			}
			// A mapped URL stays on devproxy's origin: an absolute URL
			// naming it, or a path that is not a network-path reference.
			if !(got == own || strings.HasPrefix(got, own+"/") || strings.HasPrefix(got, own+"?") || strings.HasPrefix(got, own+"#") ||
				strings.HasPrefix(got, "/") && !strings.HasPrefix(got, "//") && !strings.HasPrefix(got, "/\\")) {
				t.Fatalf("%s %q from %s was mapped to %q, off devproxy's origin %s", k, loc, u.target, got, own)
			}
		}
	})
}

// targetView is how a lenient target could read the path of requestURI:
// every escape decoded (%2e as a dot, %2F as a slash), a backslash taken
// as a slash, path parameters dropped, dot segments resolved and a ".."
// above the root ignored.
func targetView(requestURI string) string {
	p, _, _ := strings.Cut(requestURI, "?")
	if d, err := url.PathUnescape(p); err == nil {
		p = d
	}
	p = strings.ReplaceAll(p, "\\", "/")
	var out []string
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, seg := range segs {
		seg, _, _ = strings.Cut(seg, ";")
		switch seg {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
			continue
		}
		if i == len(segs)-1 {
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/")
}

// TestStrippedPrefixAtEncodedSlash pins a bug FuzzRequestPath found: with
// strip_prefix, /app%2Fx went upstream as the invalid request line
// "GET %2Fx HTTP/1.1".
func TestStrippedPrefixAtEncodedSlash(t *testing.T) {
	be, seen := wireBackend(t)
	p := startProxy(t, "routes:\n  /app:\n    target: "+be.url+"\n    strip_prefix: true\n", nil)
	for _, tt := range []struct{ path, want string }{
		{"/app%2Fx", "GET /x HTTP/1.1"},
		{"/app%2fx%2Fy", "GET /x%2Fy HTTP/1.1"},
		{"/app/x%2Fy", "GET /x%2Fy HTTP/1.1"},
	} {
		res, body := p.get(t, tt.path)
		if res.StatusCode != 200 || !strings.HasPrefix(body, tt.want+"\n") {
			t.Errorf("GET %s: got %d %q, want the upstream to see %q", tt.path, res.StatusCode, body, tt.want)
		}
	}
	drain(seen)
}

// TestLocationStaysOnOrigin pins a bug FuzzRequestPath found: a target with
// a base path sending Location: /base//other.example/x had it mapped to
// //other.example/x, which a browser follows to other.example.
func TestLocationStaysOnOrigin(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", r.URL.Query().Get("to"))
		w.WriteHeader(http.StatusFound)
	}))
	defer be.Close()
	p := startProxy(t, "routes:\n  /app: "+be.URL+"/base\n", nil)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct{ to, want string }{
		{"/base/x", "/x"},
		{"/base//other.example/x", "/base//other.example/x"},
		{`/base/\other.example/x`, "/%5Cother.example/x"}, // escaped, so on the origin
		{be.URL + "/base//other.example/x", p.url + "//other.example/x"},
	} {
		res, err := c.Get(p.url + "/app?to=" + url.QueryEscape(tt.to))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Location"); got != tt.want {
			t.Errorf("Location %q from the target: got %q, want %q", tt.to, got, tt.want)
		}
	}
}
