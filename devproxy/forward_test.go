package devproxy

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
)

// viaReverseProxy hides the pool from forward, which then hands the
// request to httputil.ReverseProxy as it does every request off the
// short path.
type viaReverseProxy struct{ http.RoundTripper }

// TestForwardShortMatchesReverseProxy sends the same requests through an
// upstream that forwards on the short path and one that goes through
// ReverseProxy, to the same target: the target must see the same request
// and the client the same response (status, headers, body, trailers).
func TestForwardShortMatchesReverseProxy(t *testing.T) {
	var mu sync.Mutex
	var seen []string // what the target saw of each request, in order
	target := http.NewServeMux()
	target.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		keys := slices.Sorted(maps.Keys(r.Header))
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s host=%s", r.Method, r.RequestURI, r.Host)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%q", k, r.Header[k])
		}
		mu.Lock()
		seen = append(seen, b.String())
		mu.Unlock()
		switch r.URL.Path {
		case "/hints":
			w.Header().Set("Link", "</a.js>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "after")
		case "/trailers":
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "body")
			w.Header().Set("X-Sum", "7")
		case "/sse":
			w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
			io.WriteString(w, "data: 1\n\n")
			w.(http.Flusher).Flush()
			io.WriteString(w, "data: 2\n\n")
		case "/304":
			w.Header().Set("Etag", `"e"`)
			w.WriteHeader(http.StatusNotModified)
		case "/hop":
			w.Header().Set("Connection", "X-Private")
			w.Header().Set("X-Private", "drop me")
			w.Header().Set("Keep-Alive", "timeout=5")
			w.Header().Set("Set-Cookie", "a=1; Path=/")
			w.Header().Add("Set-Cookie", "b=2")
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusFound)
		case "/big":
			io.WriteString(w, strings.Repeat("x", 100<<10))
		case "/switch":
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", "nope")
			w.WriteHeader(http.StatusSwitchingProtocols)
		default:
			w.Header().Set("Content-Type", "text/javascript")
			io.WriteString(w, "export default 1")
		}
	})
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tsrv := &http.Server{Handler: target}
	go tsrv.Serve(tln)
	t.Cleanup(func() { tsrv.Close() })
	targetURL := &url.URL{Scheme: "http", Host: tln.Addr().String()}

	route := &config.Route{Path: "/api", Target: targetURL, StripPrefix: true}
	pool := newUpstreamTransport(targetURL, false, 10*time.Second)
	t.Cleanup(pool.CloseIdleConnections)
	short := newUpstream(upstreamOptions{name: "/api", route: route, target: targetURL, transport: pool, buffers: newBufferPool()})
	std := newUpstream(upstreamOptions{name: "/api", route: route, target: targetURL, transport: viaReverseProxy{pool}, buffers: newBufferPool()})
	serveWith := func(u *upstream, loop bool) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Has("pre") {
				// A header set before the proxy's: the writer cannot
				// take the target's map as its own.
				w.Header().Set("X-Pre", "1")
				w.Header().Set("Etag", `"pre"`)
			}
			u.serve(w, r, &outcome{})
		})}
		if loop {
			// devproxy's own connection loop, whose writer takes the
			// target's header map instead of a copy.
			h1 := newH1Listener(ln, srv)
			go srv.Serve(h1)
			t.Cleanup(func() { go h1.shutdown(context.Background()); srv.Close() })
		} else {
			go srv.Serve(ln)
			t.Cleanup(func() { srv.Close() })
		}
		return ln.Addr().String()
	}
	vias := []string{"short", "short on devproxy's loop", "ReverseProxy"}
	addrs := map[string]string{vias[0]: serveWith(short, false), vias[1]: serveWith(short, true), vias[2]: serveWith(std, false)}

	requests := []string{
		"GET /api/mod.js?t=1 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n",
		"GET /api/mod.js HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"HEAD /api/mod.js HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"OPTIONS /api/mod.js HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost\r\n\r\n",
		"GET /api/q?a=1;b=2&c=%zz HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /api/h HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 300\r\nTe: trailers, deflate\r\nProxy-Authorization: x\r\nX-Forwarded-For: 1.2.3.4\r\nForwarded: for=1.2.3.4\r\nX-Real-Ip: 1.2.3.4\r\n\r\n",
		"GET /api/hints HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /api/trailers HTTP/1.1\r\nHost: localhost\r\nTe: trailers\r\n\r\n",
		"GET /api/sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n",
		"GET /api/304 HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: \"e\"\r\n\r\n",
		"GET /api/hop HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /api/big HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /api/switch HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /api/mod.js HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /api/mod.js?pre HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /api/hop?pre HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /api/hints?pre HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /api/trailers?pre HTTP/1.1\r\nHost: localhost\r\nTe: trailers\r\n\r\n",
	}
	for _, raw := range requests {
		method, _, _ := strings.Cut(raw, " ")
		got := map[string]string{}
		for _, via := range vias {
			mu.Lock()
			seen = nil
			mu.Unlock()
			answer := forwardExchange(t, addrs[via], raw, method)
			mu.Lock()
			got[via] = fmt.Sprintf("target saw %q\nclient got %s", seen, answer)
			mu.Unlock()
		}
		for _, via := range vias[:2] {
			if got[via] != got["ReverseProxy"] {
				t.Errorf("%q\n%s:\n%s\nReverseProxy:\n%s", raw, via, got[via], got["ReverseProxy"])
			}
		}
	}
}

// forwardExchange sends raw to addr and describes every response it
// reads until the final one, headers sorted, Date left out.
func forwardExchange(t *testing.T, addr, raw, method string) string {
	t.Helper()
	c, br := sendRaw(t, addr, raw)
	defer c.Close()
	var b strings.Builder
	for {
		res, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			fmt.Fprintf(&b, "error %v", err)
			return b.String()
		}
		body, err := io.ReadAll(res.Body)
		delete(res.Header, "Date")
		keys := slices.Sorted(maps.Keys(res.Header))
		fmt.Fprintf(&b, "%s", res.Status)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%q", k, res.Header[k])
		}
		fmt.Fprintf(&b, " body=%d:%.40q err=%v trailer=%v te=%v\n", len(body), body, err, res.Trailer, res.TransferEncoding)
		if res.StatusCode >= 200 {
			return b.String()
		}
	}
}

// TestConnectionNamesAsCanonicalKeys pins connectionNames to what it
// replaces: a Connection token names the header k of a parsed request
// when its canonical form is k. Tokens and names are drawn from letters of
// both cases, '-', '_', a space, a non-ASCII letter that folds to 'k' in
// Unicode (U+212A) and a byte of a UTF-8 sequence.
func TestConnectionNamesAsCanonicalKeys(t *testing.T) {
	parts := []string{"k", "K", "e", "E", "-", "_", " ", "\u212a", "\xe2", "a", "A", "ep", "Ep"}
	rng := rand.New(rand.NewPCG(22, 5))
	word := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(5) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		return b.String()
	}
	checked := 0
	for range 200_000 {
		n, k := word(), http.CanonicalHeaderKey(word())
		if rng.IntN(2) == 0 {
			k = http.CanonicalHeaderKey(n) // often the same name
		}
		want := http.CanonicalHeaderKey(n) == k
		if got := connectionNames([]string{n}, k); got != want {
			t.Fatalf("connectionNames([%q], %q) = %v, want %v (canonical %q)", n, k, got, want, http.CanonicalHeaderKey(n))
		}
		if want {
			checked++
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d matching pairs: the test checks too little", checked)
	}
}
