package devproxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/web"
)

// upstream forwards requests to one target: a route's or the frontend dev
// server's. It extends httputil.ReverseProxy through Rewrite,
// ModifyResponse and ErrorHandler.
type upstream struct {
	// name is the route prefix, or "frontend".
	name string
	// site is the name of the site whose route or frontend this is; ""
	// for the top-level ones.
	site string
	// prefix is the route prefix when it is stripped, else "".
	prefix string
	target *url.URL
	// base is the target's escaped base path without trailing slash.
	base string
	// hostport is the target's host:port, as logged and used to recognise
	// absolute URLs that point back at it.
	hostport     string
	preserveHost bool
	headers      []config.Header
	frontend     bool
	// key is the config key a failure's hint names; "" for the route's
	// target or frontend.
	key string
	// timeout is how long the transport waits for response headers, as
	// a failure names it.
	timeout time.Duration
	// hop, when not empty, is added as X-Devproxy-Hop to every request,
	// and a 508 that carries it back is a loop to devproxy itself.
	hop string
	// streams tracks event streams, which a shutdown ends; nil tracks
	// none.
	streams *streams
	// cmd is the command that serves the target; nil when devproxy runs
	// none. Its state words the failures of a target that does not answer.
	cmd *supervised
	// calls are ReverseProxies bound to one request's outcome (proxyCall).
	calls sync.Pool
	// down answers in the target's place while it refuses connections
	// (a fallback, replay: auto); nil: the refusal is the answer. compile
	// sets it before the router is used.
	down downHandler
}

// upstreamOptions say what an upstream forwards to and how.
type upstreamOptions struct {
	// name is the route prefix, or "frontend" for the frontend dev server.
	name string
	// site is the name of the site the route or frontend belongs to; ""
	// for the top-level ones.
	site string
	// route is the route's config; nil for the frontend, which has no
	// route options (strip_prefix, host, headers).
	route *config.Route
	// frontend marks the frontend dev server: failures name frontend: in
	// the config, and the hot-reload socket's Origin is rewritten.
	frontend bool
	// key is the config key that names the target, for the hints of
	// failures; "" means routes.NAME.target, or frontend.
	key    string
	target *url.URL
	// transport sends the requests: the target's pool.
	transport http.RoundTripper
	// timeout is the transport's response header timeout, for the words
	// of a failure.
	timeout time.Duration
	// buffers are the body copy buffers; nil means ReverseProxy's own.
	buffers httputil.BufferPool
	// streams tracks event streams for shutdown; nil tracks none.
	streams *streams
	// hop is this server's X-Devproxy-Hop value; "" sends none.
	hop string
	// cmd is the command devproxy runs to serve the target; nil when it
	// runs none.
	cmd *supervised
}

func newUpstream(o upstreamOptions) *upstream {
	u := &upstream{
		streams:  o.streams,
		name:     o.name,
		site:     o.site,
		target:   o.target,
		base:     strings.TrimSuffix(o.target.EscapedPath(), "/"),
		hostport: hostPort(o.target),
		frontend: o.frontend,
		key:      o.key,
		cmd:      o.cmd,
		timeout:  o.timeout,
		hop:      o.hop,
	}
	if r := o.route; r != nil {
		if r.StripPrefix {
			u.prefix = r.Path
		}
		u.preserveHost = r.PreserveHost
		u.headers = r.Headers
	}
	proto := httputil.ReverseProxy{
		Rewrite:    u.rewrite,
		Transport:  o.transport,
		BufferPool: o.buffers,
		// Responses without a length (streams, SSE) are flushed as they
		// arrive by ReverseProxy itself; others need no timed flushes.
		FlushInterval: 0,
		ErrorLog:      discardLogger(),
	}
	u.calls.New = func() any {
		c := &proxyCall{u: u, proxy: proto}
		c.proxy.ErrorHandler = c.errorHandler
		c.proxy.ModifyResponse = c.modifyResponse
		return c
	}
	return u
}

// proxyCall is a ReverseProxy whose ErrorHandler records in the outcome
// of the request it serves. ReverseProxy gives ErrorHandler only the writer
// and the outgoing request, so the outcome has to travel with the proxy:
// one ReverseProxy per request would cost an allocation, and so would a
// context value (a copy of the request). Calls are pooled instead; a call
// lost to a panic is only garbage.
type proxyCall struct {
	u       *upstream
	proxy   httputil.ReverseProxy
	scratch headerScratch // the short path's outgoing header
	o       *outcome
	// fallback, when not nil, gets the request in instead when the
	// target does not serve it (notServed); see serveOr.
	fallback *upstream
	in       *http.Request
	// held and prior are set only when the upstream has a down handler
	// (targetdown.go): the request's body kept for the handler, and the
	// failure of the target this one stands in for.
	held  *heldBody
	prior *proxyError
}

func (c *proxyCall) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if err == errNotServed {
		// Nothing was written: the target's answer was dropped unread.
		c.o.fallback = c.fallback.hostport
		c.fallback.serve(w, c.in, c.o)
		return
	}
	c.u.errorHandler(w, r, c, err)
}

// modifyResponse is the upstream's, unless the request is to go to the
// fallback instead; it tells the inspector of a 101, which ReverseProxy
// writes to the hijacked connection, past the recorder.
func (c *proxyCall) modifyResponse(res *http.Response) error {
	if c.fallback != nil && notServed(c.in, res) {
		// A short body is read to its end so that the connection to the
		// dev server is kept for the next request.
		_, _ = io.CopyN(io.Discard, res.Body, 4<<10)
		return errNotServed
	}
	if err := c.u.modifyResponse(res); err != nil {
		return err
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		c.o.ex.ResponseHeader(res.StatusCode, res.Header)
	}
	return nil
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request, o *outcome) {
	u.serveOr(w, r, o, nil)
}

// serveOr forwards r to the target, and to fallback instead when the
// target answers that it does not serve r (notServed). r must have no
// body, since it may be sent twice; a nil fallback forwards as serve does.
func (u *upstream) serveOr(w http.ResponseWriter, r *http.Request, o *outcome, fallback *upstream) {
	u.forward(w, r, o, fallback, nil)
}

// forward is serveOr; prior, when not nil, is the failure of the target
// this upstream stands in for (targetdown.go).
func (u *upstream) forward(w http.ResponseWriter, r *http.Request, o *outcome, fallback *upstream, prior *proxyError) {
	c := u.calls.Get().(*proxyCall)
	c.o, c.fallback, c.in, c.prior = o, fallback, r, prior
	out := r
	if u.down != nil {
		out = c.hold(r)
	}
	if t, ok := c.proxy.Transport.(*upstreamTransport); ok && u.down == nil && t.shortIn(out) {
		c.forwardShort(w, out, t)
	} else {
		c.proxy.ServeHTTP(w, out)
	}
	c.o, c.fallback, c.in, c.held, c.prior = nil, nil, nil, nil, nil
	u.calls.Put(c)
	if o.status == http.StatusRequestHeaderFieldsTooLarge && o.err == nil {
		// The target's own 431 goes to the browser as it is; the log
		// says which sizes it refused and what to change.
		o.fail(targetRefusedHeaders(r))
	}
}

// hostPort returns the target's host:port with the scheme's default port
// filled in.
func hostPort(t *url.URL) string { return web.HostPort(t) }

func (u *upstream) rewrite(pr *httputil.ProxyRequest) { u.rewriteOut(pr, nil) }

// rewriteOut is rewrite. scratch, when not nil, is the short path's: the
// outgoing header was filled by scratch.forward, so it holds no
// forwarding header, and the values rewriteOut sets take their room in
// scratch's array.
func (u *upstream) rewriteOut(pr *httputil.ProxyRequest, scratch *headerScratch) {
	in, out := pr.In, pr.Out
	path := rawPath(in)
	if u.prefix != "" {
		path = stripRawPrefix(path, len(u.prefix))
		if path != "" && path[0] != '/' {
			// The prefix was matched on the decoded path, so it ended at
			// an encoded slash (/api%2Fx): that slash is the boundary, and
			// is sent as the slash it means, keeping the path origin-form.
			if len(path) >= 3 && strings.EqualFold(path[:3], "%2F") {
				path = path[3:]
			}
			path = "/" + path
		}
	}
	path = u.base + path
	if path == "" {
		path = "/"
	}
	out.URL.Scheme = u.target.Scheme
	out.URL.Host = u.target.Host
	out.URL.RawQuery = in.URL.RawQuery
	out.URL.Fragment, out.URL.RawFragment = "", ""
	if strings.HasPrefix(path, "//") {
		// An opaque "//x" would be read as a network path; fall back to
		// Path/RawPath, which only matters for such odd requests.
		p, err := url.PathUnescape(path)
		if err != nil {
			p = path
		}
		out.URL.Opaque, out.URL.Path, out.URL.RawPath = "", p, path
	} else {
		// Opaque makes the request line carry path bytes exactly as the
		// client sent them (%2F stays %2F, nothing is re-escaped).
		out.URL.Opaque, out.URL.Path, out.URL.RawPath = path, "", ""
	}
	if u.preserveHost {
		out.Host = in.Host
	} else {
		out.Host = ""
	}
	if out.Body != nil && out.Body != http.NoBody {
		out.Body = &clientBody{ReadCloser: out.Body}
	}
	f := u.setForwarded(pr, scratch)
	if u.hop != "" {
		if _, chain := out.Header[hopHeader]; chain {
			out.Header.Add(hopHeader, u.hop)
		} else {
			f.set(hopHeader, u.hop)
		}
	}
	if scratch != nil {
		scratch.vals = f.vals
	}
	if u.frontend && !u.preserveHost {
		// Dev servers check Origin against the Host they get or their own
		// name: webpack-dev-server refuses a hot-reload socket from
		// another host, next dev refuses its overlay's POSTs from a host
		// other than localhost. The browser's own origin is devproxy's,
		// so it becomes the target's, as the Host did; a foreign Origin
		// is kept for the dev server to judge.
		if o := headerGet(in.Header, "Origin"); o != "" && strings.EqualFold(strings.TrimPrefix(strings.TrimPrefix(o, "http://"), "https://"), in.Host) {
			out.Header.Set("Origin", u.target.Scheme+"://"+u.target.Host)
		}
	}
	for _, h := range u.headers {
		if h.Value == "" {
			out.Header.Del(h.Name)
		} else {
			out.Header.Set(h.Name, h.Value)
		}
	}
}

// setForwarded drops every forwarding header the client sent and sets
// devproxy's own. ReverseProxy drops only Forwarded and X-Forwarded-For,
// -Host and -Proto; any other X-Forwarded- name, X-Real-IP, and each of
// them spelled with underscores (which CGI-style servers read as the same
// header) would let a client pass for another address, host or prefix.
//
// scratch, when not nil, holds the outgoing header's values, and the
// header has no forwarding header left (headerScratch.forward). The
// fieldSetter returned sets further fields from the same array.
func (u *upstream) setForwarded(pr *httputil.ProxyRequest, scratch *headerScratch) fieldSetter {
	in, out := pr.In, pr.Out
	var vals []string
	if scratch != nil {
		vals = scratch.vals
	} else {
		for k := range out.Header {
			if isForwardingHeader(k) {
				delete(out.Header, k)
			}
		}
		// What ProxyRequest.SetXForwarded sets, with the port, the
		// prefix and the hop, the values in one backing array: one
		// allocation, not one per field.
		vals = make([]string, 0, 6)
	}
	f := fieldSetter{h: out.Header, vals: vals}
	if ip, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		f.set("X-Forwarded-For", ip)
	}
	host := in.Host
	if host == "" {
		// An HTTP/1.0 request without Host: the address it came in on is
		// where the client reached devproxy.
		if a, ok := in.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	if host != "" {
		f.set("X-Forwarded-Host", host)
	}
	proto := "http"
	if in.TLS != nil {
		proto = "https"
	}
	f.set("X-Forwarded-Proto", proto)
	port := web.DefaultPort(proto)
	if _, p, err := net.SplitHostPort(host); err == nil && p != "" {
		port = p
	}
	f.set("X-Forwarded-Port", port)
	if u.prefix != "" {
		f.set("X-Forwarded-Prefix", u.prefix)
	}
	return f
}

// fieldSetter sets header fields of one value each, the values taken from
// one backing array.
type fieldSetter struct {
	h    http.Header
	vals []string
}

func (f *fieldSetter) set(k, v string) {
	f.vals = append(f.vals, v)
	n := len(f.vals)
	f.h[k] = f.vals[n-1 : n : n]
}

// isForwardingHeader reports whether the header name k, compared without
// case and with '_' read as '-', is Forwarded, X-Real-IP or X-Forwarded-*.
func isForwardingHeader(k string) bool {
	const xf = "x-forwarded-"
	return len(k) > len(xf) && sameHeaderName(k[:len(xf)], xf) || sameHeaderName(k, "forwarded") || sameHeaderName(k, "x-real-ip")
}

// sameHeaderName reports whether k is lower, a lower-case name, compared
// without case and with '_' read as '-'.
func sameHeaderName(k, lower string) bool {
	if len(k) != len(lower) {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_':
			c = '-'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// clientBody is a client's request body on its way upstream. It remembers
// why reading it failed, so that a malformed body is answered as the
// client's mistake rather than the target's.
type clientBody struct {
	io.ReadCloser
	err atomic.Pointer[error]
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.err.Store(&err)
	}
	return n, err
}

// failed returns the error reading the body ended with, or nil.
func (b *clientBody) failed() error {
	if err := b.err.Load(); err != nil {
		return *err
	}
	return nil
}

// rawPath returns the request's path exactly as the client sent it.
func rawPath(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri
}

// stripRawPrefix removes the first n decoded bytes from the escaped path
// raw: the route prefix, which was matched on the decoded path.
func stripRawPrefix(raw string, n int) string {
	i := 0
	for ; n > 0 && i < len(raw); n-- {
		if raw[i] == '%' && i+2 < len(raw) {
			i += 3
		} else {
			i++
		}
	}
	return raw[i:]
}

// modifyResponse keeps the browser on devproxy's origin: redirects and
// cookies that name the target are mapped back to devproxy.
func (u *upstream) modifyResponse(res *http.Response) error {
	if u.loopedBack(res) {
		return errLoop
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		if up := headerGet(res.Request.Header, "Upgrade"); up == "" || !strings.EqualFold(up, headerGet(res.Header, "Upgrade")) {
			// ReverseProxy refuses such a 101 itself, but without closing
			// its body, which is the upstream connection; an error here
			// makes it close it.
			return fmt.Errorf("the target switched protocols to %q, which the request did not ask for", headerGet(res.Header, "Upgrade"))
		}
		// ReverseProxy strips hop-by-hop headers from every final
		// response; those of a 101 go here.
		stripHopByHop(res.Header, true)
	}
	if u.streams != nil && strings.HasPrefix(headerGet(res.Header, "Content-Type"), "text/event-stream") {
		sb := &streamBody{ReadCloser: res.Body, reg: u.streams}
		u.streams.track(sb)
		res.Body = sb
	}
	req := res.Request
	for _, key := range [...]string{"Location", "Content-Location"} {
		if v := headerGet(res.Header, key); v != "" {
			if nv, ok := u.mapURL(v, req); ok {
				res.Header.Set(key, nv)
			}
		}
	}
	if cookies := res.Header["Set-Cookie"]; len(cookies) > 0 {
		for i, c := range cookies {
			cookies[i] = u.mapCookie(c)
		}
	}
	return nil
}

// mapURL maps a URL the target sent (absolute, or an absolute path) back to
// devproxy's origin, using the scheme and host the browser used. It reports
// false when the URL points elsewhere.
func (u *upstream) mapURL(v string, out *http.Request) (string, bool) {
	loc, err := url.Parse(v)
	if err != nil {
		return "", false
	}
	absolute := loc.Scheme != "" || loc.Host != ""
	switch {
	case absolute && !u.isTarget(loc):
		return "", false
	case !absolute && (!strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//")):
		return "", false // relative to the current path: already right
	case !absolute && u.prefix == "" && u.base == "":
		return "", false // an absolute path means the same on both sides
	}
	p, ok := u.mapPath(loc.EscapedPath())
	if !ok {
		return "", false
	}
	var b strings.Builder
	// X-Forwarded-Host and -Proto on the outbound request are the browser's
	// Host and scheme, set by devproxy in rewrite.
	if host := headerGet(out.Header, "X-Forwarded-Host"); absolute && host != "" {
		proto := headerGet(out.Header, "X-Forwarded-Proto")
		if proto == "" {
			proto = "http"
		}
		b.WriteString(proto + "://" + host)
	}
	if b.Len() == 0 && (strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`)) {
		// Taking the base path off /base//other.example left a
		// network-path reference, which a browser follows to
		// other.example; the target meant a path on its own origin.
		return "", false
	}
	b.WriteString(p)
	if loc.RawQuery != "" || loc.ForceQuery {
		b.WriteString("?" + loc.RawQuery)
	}
	if loc.Fragment != "" {
		b.WriteString("#" + loc.EscapedFragment())
	}
	return b.String(), true
}

// mapPath turns a path on the target into the path on devproxy: the target's
// base path comes off and a stripped route prefix goes back on.
func (u *upstream) mapPath(p string) (string, bool) {
	if p == "" {
		p = "/"
	}
	if u.base != "" {
		if !hasPathPrefix(p, u.base) {
			return "", false
		}
		p = p[len(u.base):]
	}
	p = u.prefix + p
	if p == "" {
		p = "/"
	}
	return p, true
}

// isTarget reports whether loc names the target's origin. localhost and the
// loopback addresses are the same server for a local target.
func (u *upstream) isTarget(loc *url.URL) bool {
	if loc.Scheme != "" && loc.Scheme != "http" && loc.Scheme != "https" {
		return false
	}
	if loc.Host == "" {
		return false
	}
	port := loc.Port()
	if port == "" {
		port = "80"
		if loc.Scheme == "https" {
			port = "443"
		}
	}
	if port != u.target.Port() && !(u.target.Port() == "" && port == web.DefaultPort(u.target.Scheme)) {
		return false
	}
	h, th := strings.ToLower(loc.Hostname()), strings.ToLower(u.target.Hostname())
	return h == th || (web.IsLoopback(h) && web.IsLoopback(th))
}

// mapCookie removes a Domain attribute naming the target host, so that the
// browser keeps the cookie on devproxy's origin, and maps the Path back
// when the route strips its prefix or the target has a base path.
func (u *upstream) mapCookie(c string) string {
	parts := strings.Split(c, ";")
	changed := false
	th := strings.ToLower(u.target.Hostname())
	for i := 1; i < len(parts); i++ {
		name, val, _ := strings.Cut(parts[i], "=")
		name = strings.TrimSpace(name)
		val = strings.TrimSpace(val)
		switch {
		case strings.EqualFold(name, "domain"):
			d := strings.ToLower(strings.TrimPrefix(val, "."))
			if d == th || (web.IsLoopback(d) && web.IsLoopback(th)) {
				parts = append(parts[:i], parts[i+1:]...)
				i--
				changed = true
			}
		case strings.EqualFold(name, "path"):
			if u.prefix == "" && u.base == "" {
				continue
			}
			if p, ok := u.mapPath(val); ok {
				if len(p) > 1 {
					p = strings.TrimSuffix(p, "/")
				}
				parts[i] = " Path=" + p
				changed = true
			}
		}
	}
	if !changed {
		return c
	}
	return strings.Join(parts, ";")
}

// bufferPool reuses the buffers ReverseProxy copies bodies with. A
// plain free list: sync.Pool would allocate on every Put of a slice.
type bufferPool struct {
	mu   sync.Mutex
	free [][]byte
}

// copyBufferSize is the size of a body copy's buffer. Measured: 64 KiB
// made small requests 20-30% dearer in CPU with no clear gain for 1 MiB
// bodies in the peer harness, so it stays at ReverseProxy's own 32 KiB.
const copyBufferSize = 32 << 10

// maxFreeBuffers bounds what the pool keeps, 2 MiB: enough for a burst of
// requests from a browser (and 50 load-test connections) without
// allocating and zeroing fresh buffers for each burst.
const maxFreeBuffers = 64

func newBufferPool() *bufferPool {
	return &bufferPool{free: make([][]byte, 0, maxFreeBuffers)}
}

func (bp *bufferPool) Get() []byte {
	bp.mu.Lock()
	if n := len(bp.free); n > 0 {
		b := bp.free[n-1]
		bp.free = bp.free[:n-1]
		bp.mu.Unlock()
		return b
	}
	bp.mu.Unlock()
	return make([]byte, copyBufferSize)
}

func (bp *bufferPool) Put(b []byte) {
	bp.mu.Lock()
	if len(bp.free) < maxFreeBuffers {
		bp.free = append(bp.free, b)
	}
	bp.mu.Unlock()
}

// stripHopByHop removes the hop-by-hop headers ReverseProxy leaves on
// 1xx responses. A 101 keeps Connection: Upgrade and Upgrade, which the
// client needs.
func stripHopByHop(h http.Header, upgrade bool) {
	for _, v := range h["Connection"] {
		for v != "" {
			var name string
			name, v, _ = strings.Cut(v, ",")
			// keep-alive and upgrade, the tokens of a kept-alive response
			// and of an upgrade, cost no canonical copy: both go below
			// anyway, or stay for an upgrade.
			if name = textproto.TrimString(name); name != "" && !asciiFold(name, "keep-alive") && !asciiFold(name, "upgrade") {
				h.Del(name)
			}
		}
	}
	// Canonical names: delete, not h.Del, which canonicalizes each one.
	for _, name := range [...]string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding"} {
		delete(h, name)
	}
	if upgrade {
		h["Connection"] = []string{"Upgrade"}
	} else {
		delete(h, "Upgrade")
	}
}
