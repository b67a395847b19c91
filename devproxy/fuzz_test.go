package devproxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
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
// Server.ServeHTTP itself (guards, the path rule, the router, the proxy
// with its rewrite) to a fake target that answers with a response header
// naming loc, which the proxy maps back for the browser. Nothing may panic,
// the request must reach the route's own target, its wire form must be one
// origin-form request and nothing more, and a mapped URL must stay on
// devproxy's origin.
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
	var log bytes.Buffer
	srv, err := New(Options{ConfigFile: file, Log: &log, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		f.Fatal(err)
	}
	rt := srv.router.Load()
	target := newFakeTarget()
	for pool := range rt.pools {
		target.serve(pool)
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	parse := func(raw string) *http.Request {
		in, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return nil
		}
		in.RemoteAddr = "127.0.0.1:40000"
		return in.WithContext(context.WithValue(context.Background(), http.LocalAddrContextKey, net.Addr(local)))
	}

	f.Fuzz(func(t *testing.T, method, reqTarget, name, value, loc string) {
		raw := method + " " + reqTarget + " HTTP/1.1\r\nHost: localhost:8080\r\n" + name + ": " + value + "\r\n\r\n"
		in := parse(raw)
		if in == nil {
			return // net/http refuses it before devproxy sees it
		}
		if strings.ContainsFunc(loc, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			loc = "" // not a header value a target could send
		}
		loc = strings.Trim(loc, " \t") // as a header value arrives
		log.Reset()
		target.answer(loc)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, in)
		if strings.Contains(log.String(), "panic serving") {
			t.Fatalf("%q: %s", raw, log.String())
		}
		seen := target.take()
		if seen == nil {
			return // refused, devproxy's own, or a mock
		}

		// Where the router sent it, asked of the router itself.
		d := rt.dispatch(parse(raw))
		want := routeView{name: d.route}
		if m := rt.match(d.r.URL.Path); m != nil && d.route == m.Path {
			want.route(m.Route)
		} else {
			want.url, want.frontend = rt.cfg.Frontend.URL, true
		}
		if seen.addr != hostPort(want.url) {
			t.Fatalf("%q went to %s, want the route's target %s", raw, seen.addr, want.url)
		}
		back := seen.req
		if back.Header.Get("X-Forwarded-For") != "127.0.0.1" || back.Header.Get("X-Real-Ip") != "" {
			t.Fatalf("%q: forwarding headers X-Forwarded-For %q, X-Real-IP %q", raw, back.Header.Get("X-Forwarded-For"), back.Header.Get("X-Real-Ip"))
		}
		for k := range back.Header {
			switch k {
			case "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Forwarded-Prefix":
			default:
				if isForwardingHeader(k) {
					t.Fatalf("%q: the client's forwarding header %s reached the target", raw, k)
				}
			}
		}
		if got := back.Header.Get("X-Forwarded-Prefix"); got != want.prefix {
			t.Fatalf("%q: X-Forwarded-Prefix %q, want %q", raw, got, want.prefix)
		}
		for _, hd := range want.headers {
			if got := back.Header.Get(hd.Name); got != hd.Value {
				t.Fatalf("%q: route header %s = %q, want %q", raw, hd.Name, got, hd.Value)
			}
		}

		// The request as it came off the wire: one request in origin-form
		// (or OPTIONS * as it came), for the target's host (or the
		// browser's, with host: preserve), and no byte more.
		if !strings.HasPrefix(back.RequestURI, "/") && !(back.RequestURI == "*" && in.RequestURI == "*") {
			t.Fatalf("%q was written upstream with the target %q, want origin-form", raw, back.RequestURI)
		}
		wantHost := want.url.Host
		if want.preserveHost {
			wantHost = in.Host
		}
		if back.Host != wantHost {
			t.Fatalf("%q was written upstream with Host %q, want %q", raw, back.Host, wantHost)
		}
		if len(seen.rest) != 0 {
			t.Fatalf("%q was written upstream with %q following the request", raw, seen.rest)
		}
		// The path rule: however the target decodes and resolves the
		// path, it stays under the route's prefix and the target's base
		// path.
		under := strings.TrimSuffix(want.url.EscapedPath(), "/")
		if !want.frontend && want.prefix == "" {
			under += want.name
		}
		if got := targetView(back.RequestURI); !hasPathPrefix(got, under) && got+"/" != under+"/" {
			t.Fatalf("%q went upstream as %q, which a target resolves to %q, outside %q", raw, back.RequestURI, got, under)
		}

		// The target's response named loc; the browser gets it mapped.
		own := "http://" + in.Host
		for _, k := range []string{"Location", "Content-Location"} {
			got := w.Header().Get(k)
			if got == loc {
				continue
			}
			// A mapped URL stays on devproxy's origin: an absolute URL
			// naming it, or a path that is not a network-path reference.
			if !(got == own || strings.HasPrefix(got, own+"/") || strings.HasPrefix(got, own+"?") || strings.HasPrefix(got, own+"#") ||
				strings.HasPrefix(got, "/") && !strings.HasPrefix(got, "//") && !strings.HasPrefix(got, "/\\")) {
				t.Fatalf("%s %q from %s was mapped to %q, off devproxy's origin %s", k, loc, want.url, got, own)
			}
		}
	})
}

// routeView is what the fuzz target expects of a request forwarded by one
// route, or by the frontend dev server, read from the config.
type routeView struct {
	name         string
	url          *url.URL
	frontend     bool
	prefix       string // sent as X-Forwarded-Prefix: the stripped prefix
	preserveHost bool
	headers      []config.Header
}

func (v *routeView) route(r *config.Route) {
	v.url, v.preserveHost, v.headers = r.Target, r.PreserveHost, r.Headers
	if r.StripPrefix {
		v.prefix = r.Path
	}
}

// fakeTarget stands for every target of a config: the pools dial it over
// an in-memory pipe (TLS for an https target), and it reads one request off
// the wire, keeps it, and answers with a redirect naming loc.
type fakeTarget struct {
	tls *tls.Config

	mu   sync.Mutex
	loc  string
	seen *seenRequest
}

// seenRequest is one request as the target read it.
type seenRequest struct {
	addr string // the address the pool dialled
	req  *http.Request
	rest []byte // bytes that came with the request and were not part of it
}

func newFakeTarget() *fakeTarget {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	cfg := ts.TLS.Clone()
	cfg.NextProtos = nil
	ts.Close()
	return &fakeTarget{tls: cfg}
}

// serve makes pool dial the fake instead of its target. The fake's
// certificate is its own, so the pool is told not to check it.
func (ft *fakeTarget) serve(pool *upstreamTransport) {
	secure := pool.scheme == "https"
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		client, server := net.Pipe()
		go ft.reply(addr, server, secure)
		return client, nil
	}
	pool.dial, pool.std.DialContext = dial, dial
	pool.std.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
}

func (ft *fakeTarget) reply(addr string, c net.Conn, secure bool) {
	defer c.Close()
	if secure {
		c = tls.Server(c, ft.tls)
	}
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	rest := make([]byte, br.Buffered())
	_, _ = io.ReadFull(br, rest)
	ft.mu.Lock()
	ft.seen = &seenRequest{addr: addr, req: req, rest: rest}
	loc := ft.loc
	ft.mu.Unlock()
	res := "HTTP/1.1 302 Found\r\nContent-Length: 0\r\nConnection: close\r\n"
	if loc != "" {
		res += "Location: " + loc + "\r\nContent-Location: " + loc + "\r\nSet-Cookie: " + loc + "\r\n"
	}
	_, _ = io.WriteString(c, res+"\r\n")
}

// answer sets what the next response names, and forgets the last request.
func (ft *fakeTarget) answer(loc string) {
	ft.mu.Lock()
	ft.loc, ft.seen = loc, nil
	ft.mu.Unlock()
}

// take returns the request the target read since answer, or nil.
func (ft *fakeTarget) take() *seenRequest {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.seen
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
