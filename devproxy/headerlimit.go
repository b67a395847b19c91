package devproxy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// defaultHeaderLimit is the most bytes of request line and headers
// devproxy forwards: net/http's own default, so that nothing a target
// written in Go accepts is refused.
const defaultHeaderLimit = 1 << 20

// serverHeaderFactor sets how far past devproxy's own header limit the
// http.Server reads. Between the two, devproxy's handler answers with a
// page that says what is wrong; past it, net/http refuses the request
// itself and the connection watch (watchedConn) logs it.
const serverHeaderFactor = 4

// headerSize returns the bytes of r's request line and headers as they
// came on the wire (give or take the spacing around colons), and the
// bytes of its Cookie values.
func headerSize(r *http.Request) (total, cookie int) {
	total = len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		total += len("Host: ") + len(r.Host) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			total += len(k) + 2 + len(v) + 2
		}
	}
	for _, v := range r.Header["Cookie"] {
		cookie += len(v)
	}
	return total + 2, cookie
}

// cookieHost is the host whose cookies a browser sent: cookies belong to a
// host name whatever the port, so every project served on localhost adds
// to the same pile.
func cookieHost(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostport = h
	}
	if hostport == "" {
		return "localhost"
	}
	return strings.Trim(hostport, "[]")
}

// clearCookies is the advice for a request whose Cookie header is most of
// its size.
func clearCookies(host string) string {
	return "clear the cookies of " + sanitize(host) + " in the browser's site settings (or in DevTools › Application › Cookies); every project served on " + sanitize(host) + " adds to them, whatever the port"
}

// checkHeaders refuses a request whose headers are over devproxy's limit,
// with the sizes that make it so.
func (s *Server) checkHeaders(r *http.Request, route string) *proxyError {
	total, cookie := headerSize(r)
	if total <= s.headerLimit {
		return nil
	}
	host := cookieHost(r.Host)
	pe := &proxyError{
		Status: http.StatusRequestHeaderFieldsTooLarge,
		Route:  route,
		Err:    fmt.Sprintf("the request carries %d bytes of headers, more than devproxy's limit of %d: %d bytes of Cookie for %s", total, s.headerLimit, cookie, sanitize(host)),
		Hint:   "the client sends oversized headers; check the code that sets them",
	}
	if cookie*2 > total {
		pe.Hint = clearCookies(host)
	}
	return pe
}

// targetRefusedHeaders explains a 431 that the target itself sent for r.
func targetRefusedHeaders(r *http.Request) *proxyError {
	total, cookie := headerSize(r)
	host := cookieHost(r.Host)
	pe := &proxyError{
		Status: http.StatusRequestHeaderFieldsTooLarge,
		Err:    fmt.Sprintf("the target refused the request's headers as too large (431): %d bytes of headers, %d bytes of Cookie for %s", total, cookie, sanitize(host)),
		Hint:   "raise the target's header limit (Node's default is 16 KB: start it with node --max-http-header-size=65536, or set NODE_OPTIONS=--max-http-header-size=65536)",
	}
	if cookie*2 > total {
		pe.Hint += ", or " + clearCookies(host)
	}
	return pe
}

// refusedListener hands out connections that notice the answers net/http
// writes itself, before any handler runs (a request line it cannot parse,
// headers beyond its limit), so that those requests get a log line too.
type refusedListener struct {
	net.Listener
	s *Server
}

func (l *refusedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: c, s: l.s}, nil
}

// refusalHeaders is what net/http writes after the status line of a
// request it refuses before any handler runs. No handler's response looks
// like it: those carry Date, and their headers are sorted.
const refusalHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// watchedConn is a client connection that remembers the start of the
// request being read and how many bytes it took, for the log line of a
// refusal.
type watchedConn struct {
	net.Conn
	s *Server

	// mu guards the fields below: net/http reads in the background while
	// a handler writes.
	mu    sync.Mutex
	n     int64 // bytes read since the last write
	head  [512]byte
	headN int
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.n += int64(n)
		if c.headN < len(c.head) {
			c.headN += copy(c.head[c.headN:], p[:n])
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *watchedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	var e *logEntry
	if bytes.HasPrefix(p, []byte("HTTP/1.1 ")) {
		if i := bytes.Index(p, []byte(refusalHeaders)); i > 0 && bytes.IndexByte(p[:i], '\n') < 0 {
			e = c.refusal(string(p[len("HTTP/1.1 "):i]))
		}
	}
	c.n, c.headN = 0, 0
	c.mu.Unlock()
	if e != nil {
		c.s.log.request(e)
	}
	return c.Conn.Write(p)
}

// ReadFrom keeps sendfile for static files: net/http uses it when the
// connection has it.
func (c *watchedConn) ReadFrom(r io.Reader) (int64, error) {
	c.mu.Lock()
	c.n, c.headN = 0, 0
	c.mu.Unlock()
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// CloseWrite lets net/http half-close the connection after a refusal, as
// it does on a bare TCP connection.
func (c *watchedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// refusal builds the log entry of a request net/http answered with
// status (e.g. "400 Bad Request: missing required Host header"); c.mu is
// held.
func (c *watchedConn) refusal(status string) *logEntry {
	head := c.head[:c.headN]
	line := head
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = bytes.TrimSuffix(line[:i], []byte("\r"))
	}
	e := &logEntry{start: c.s.opts.Now(), kind: kindDevproxy, route: kindDevproxy.String()}
	if f := strings.Fields(string(line)); len(f) > 0 {
		e.method = excerpt(f[0], 16)
		if len(f) > 1 {
			e.uri = excerpt(f[1], 200)
		}
	}
	code, text, _ := strings.Cut(status, " ")
	e.status, _ = strconv.Atoi(code)
	if text == "Bad Request" {
		// net/http gives no reason for a request line or header it
		// cannot parse.
		text = "Bad Request: malformed HTTP request"
	}
	pe := &proxyError{Status: e.status}
	switch e.status {
	case http.StatusRequestHeaderFieldsTooLarge:
		limit := c.s.headerLimit * serverHeaderFactor
		pe.Err = fmt.Sprintf("the request's headers are over %d bytes (%d read before devproxy stopped), more than it reads at all", limit, c.n)
		pe.Hint = clearCookies(cookieHost(hostOf(head))) + "; else check the code that sets these headers"
	case http.StatusHTTPVersionNotSupported:
		pe.Err = fmt.Sprintf("refused before routing: %s (request line %q, %d bytes read)", text, excerpt(string(line), maxExcerpt), c.n)
		pe.Hint = "devproxy speaks HTTP/1.0 and HTTP/1.1 on this address; check the client that sends this"
	default:
		pe.Err = fmt.Sprintf("refused before routing: %s (request line %q, %d bytes read)", text, excerpt(string(line), maxExcerpt), c.n)
		pe.Hint = "the client sent a request that is not valid HTTP/1.1; check the code or tool that builds it"
	}
	e.err = pe
	return e
}

// hostOf finds the Host header in the start of a request, or "".
func hostOf(head []byte) string {
	for _, line := range bytes.Split(head, []byte("\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Host")) {
			return string(bytes.TrimSpace(value))
		}
	}
	return ""
}
