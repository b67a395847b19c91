package devproxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// devproxy serves the requests of a page load itself, on plain HTTP/1.1:
// a GET or HEAD with no body and no upgrade, its whole header block in
// the first read. That is nearly every request a browser makes of a dev
// server. The connection's goroutine reads the request, runs the handler
// (the same Server.ServeHTTP) with a ResponseWriter that writes the status
// line, the headers and a small body in one write, and waits for the
// next; it starts no goroutine per request and reads nothing in the
// background unless the response takes a while. Anything else — a body,
// an upgrade, HTTP/1.0, a header block that came in pieces, a request
// net/http would refuse — hands the connection, with the bytes already
// read, to net/http for the rest of its life. A connection is never
// served by both at once.
//
// Parity with net/http, which every test runs against: the same request
// parser (http.ReadRequest), the Host checks net/http makes, and the
// response rules of its ResponseWriter (Date, Content-Type sniffing,
// Content-Length of a body written whole, chunking, 304 and 204 headers,
// HEAD, Connection: close, trailers, 1xx responses).

const (
	// h1ReadBuffer is a connection's read buffer: a request's header
	// block must fit in it to be served here (browsers send 0.5–2 KB;
	// long cookies go to net/http, which has the limits and the 431).
	h1ReadBuffer = 16 << 10
	// h1WriteBuffer holds the headers and the body of a small response,
	// sent in one write.
	h1WriteBuffer = 16 << 10
	// h1Hold is the body net/http holds before it commits to a framing:
	// a response with no Content-Length that ends within it gets one.
	h1Hold = 2048
	// h1WatchAfter is how long a request may run before its connection
	// is read in the background to notice a client that goes away; a
	// page's assets are answered well within it.
	h1WatchAfter = 20 * time.Millisecond
	// h1IdleSlack is how much later than IdleTimeout an idle connection
	// may close (see idleDeadline).
	h1IdleSlack = time.Second
)

// h1Listener serves the connections of a plain HTTP listener and hands
// net/http (its Accept) the ones it does not serve.
type h1Listener struct {
	in  net.Listener // the connections, as accepted
	srv *http.Server // the handler and the timeouts; the hand-over's server

	handed   chan net.Conn
	closed   chan struct{}
	closeErr sync.Once
	acceptMu sync.Mutex
	err      error // why in.Accept ended, for Accept to return

	mu       sync.Mutex
	conns    map[*h1Conn]struct{}
	shutting atomic.Bool   // set under mu; read without it by the connections
	gone     chan struct{} // closed when conns empties during shutdown
	ended    chan struct{} // closed when the accept loop returned
}

func newH1Listener(in net.Listener, srv *http.Server) *h1Listener {
	l := &h1Listener{
		in: in, srv: srv,
		handed: make(chan net.Conn),
		closed: make(chan struct{}),
		conns:  make(map[*h1Conn]struct{}),
		ended:  make(chan struct{}),
	}
	go l.run()
	return l
}

func (l *h1Listener) run() {
	defer close(l.ended)
	for {
		nc, err := l.in.Accept()
		if err != nil {
			l.acceptMu.Lock()
			l.err = err
			l.acceptMu.Unlock()
			l.Close()
			return
		}
		c := newH1Conn(l, nc)
		if !l.track(c) {
			_ = nc.Close()
			continue
		}
		go c.serve()
	}
}

// Accept returns the next connection handed to net/http.
func (l *h1Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.handed:
		return c, nil
	case <-l.closed:
		l.acceptMu.Lock()
		err := l.err
		l.acceptMu.Unlock()
		if err == nil || errors.Is(err, net.ErrClosed) {
			err = net.ErrClosed
		}
		return nil, err
	}
}

// Close stops accepting; connections being served run on (shutdown ends
// them).
func (l *h1Listener) Close() error {
	l.closeErr.Do(func() {
		close(l.closed)
		_ = l.in.Close()
	})
	return nil
}

func (l *h1Listener) Addr() net.Addr { return l.in.Addr() }

func (l *h1Listener) track(c *h1Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shutting.Load() {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

func (l *h1Listener) untrack(c *h1Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
	if l.shutting.Load() && len(l.conns) == 0 && l.gone != nil {
		close(l.gone)
		l.gone = nil
	}
}

// shutdown stops accepting, closes the idle connections and lets the
// others finish their response, until ctx is done; then it closes what is
// left.
func (l *h1Listener) shutdown(ctx context.Context) {
	l.Close()
	l.mu.Lock()
	l.shutting.Store(true)
	gone := make(chan struct{})
	if len(l.conns) == 0 {
		close(gone)
	} else {
		l.gone = gone
	}
	for c := range l.conns {
		c.closeIfIdle()
	}
	l.mu.Unlock()
	select {
	case <-gone:
	case <-ctx.Done():
		l.mu.Lock()
		for c := range l.conns {
			_ = c.nc.Close()
		}
		l.mu.Unlock()
		<-gone
	}
	<-l.ended
}

func (l *h1Listener) isShutting() bool { return l.shutting.Load() }

// handOff gives c to net/http; nothing of it is consumed here.
func (l *h1Listener) handOff(c net.Conn) {
	select {
	case l.handed <- c:
	case <-l.closed:
		_ = c.Close()
	}
}

// Connection states: idle between requests, active while one is served.
const (
	h1Idle int32 = iota
	h1Active
	h1Closed
)

// Background-read states of a request.
const (
	watchOff     = iota // the handler ended, or not yet armed
	watchArmed          // the timer runs
	watchReading        // a read waits for the client
	watchAborted        // the handler ended during the read
)

// h1Conn is one client connection served here.
type h1Conn struct {
	l      *h1Listener
	nc     net.Conn
	remote string
	// base is the requests' parent context: the server, the local
	// address and the connection. It never ends: a request's own
	// context ends with the request, or before when the client goes.
	base  context.Context
	state atomic.Int32

	rd      io.Reader // nc, or its sockIO (connIO)
	cr      h1ConnReader
	br      *bufio.Reader
	bw      *bufio.Writer
	head    bytes.Reader  // the peeked header block, parsed first
	hr      *bufio.Reader // over head
	fields  []namedValues // a response's header fields, sorted by name
	headBuf []byte        // a response's headers, as WriteHeader found them
	outBuf  []byte        // the status line and headers as sent
	hold    [h1Hold]byte  // a body's first bytes, held until it is framed
	numBuf  [20]byte
	// date is the Date header's value for the second dateSec, formatted
	// once per second rather than for each response.
	date    [len(http.TimeFormat)]byte
	dateSec int64

	// The read deadline idleDeadline set, while no other has replaced it.
	idleUntil time.Time
	idleSet   bool

	// The background read of a request that takes a while.
	mu         sync.Mutex
	watch      int
	watchTimer *time.Timer
	watchDone  chan struct{}
	// The request's context, its end, and what is closed when it ends
	// before the request does (the short path's connection to the
	// target; see closeOnCancel), in place of a context.AfterFunc.
	reqCtx  context.Context
	reqEnd  context.CancelFunc
	upClose io.Closer
}

// idleDeadline sets the deadline of the wait for the next request:
// IdleTimeout from now, give or take h1IdleSlack. A deadline moves a
// runtime timer, and each request of a page load would move it a few
// milliseconds; it is moved once the one set is less than IdleTimeout
// away, to IdleTimeout plus the slack. So an idle connection closes
// between IdleTimeout and IdleTimeout + h1IdleSlack after its last
// request, never before.
func (c *h1Conn) idleDeadline() error {
	d := c.l.srv.IdleTimeout
	if d <= 0 {
		return nil
	}
	now := time.Now()
	if c.idleSet && !c.idleUntil.Before(now.Add(d)) {
		return nil
	}
	until := now.Add(d + h1IdleSlack)
	if err := c.nc.SetReadDeadline(until); err != nil {
		return err
	}
	c.idleUntil, c.idleSet = until, true
	return nil
}

// dateNow returns the Date header's value for now, as net/http writes it.
func (c *h1Conn) dateNow() []byte {
	now := time.Now()
	if sec := now.Unix(); sec != c.dateSec || c.date[0] == 0 {
		now.UTC().AppendFormat(c.date[:0], http.TimeFormat)
		c.dateSec = sec
	}
	return c.date[:]
}

// h1ConnKey is the context key of the *h1Conn serving a request.
type h1ConnKey struct{}

// h1ConnReader is what the connection's bufio.Reader reads: a byte the
// background read took first, then the connection.
type h1ConnReader struct {
	c       *h1Conn
	pending bool
	b       byte
}

func (r *h1ConnReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.pending {
		r.pending = false
		p[0] = r.b
		return 1, nil
	}
	return r.c.rd.Read(p)
}

func newH1Conn(l *h1Listener, nc net.Conn) *h1Conn {
	c := &h1Conn{l: l, nc: nc, remote: nc.RemoteAddr().String()}
	ctx := context.WithValue(context.Background(), http.ServerContextKey, l.srv)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, nc.LocalAddr())
	c.base = context.WithValue(ctx, h1ConnKey{}, c)
	c.cr.c = c
	c.br = bufio.NewReaderSize(&c.cr, h1ReadBuffer)
	c.rd = connIO(nc)
	c.bw = bufio.NewWriterSize(connIO(nc), h1WriteBuffer)
	c.hr = bufio.NewReaderSize(&c.head, 4096)
	return c
}

// closeIfIdle closes c if it waits for a request; an active one closes
// after its response (the listener is shutting down).
func (c *h1Conn) closeIfIdle() {
	if c.state.CompareAndSwap(h1Idle, h1Closed) {
		_ = c.nc.Close()
	}
}

func (c *h1Conn) serve() {
	handed := false
	defer func() {
		if !handed {
			_ = c.nc.Close()
		}
		c.l.untrack(c)
	}()
	for {
		// Idle first, then the flag: a shutdown that set the flag
		// before finds the connection idle and closes it, or this
		// check sees the flag.
		c.state.Store(h1Idle)
		if c.l.isShutting() {
			return
		}
		if err := c.idleDeadline(); err != nil {
			return
		}
		if _, err := c.br.Peek(1); err != nil {
			return // closed, reset, idle too long, or shut down
		}
		if !c.state.CompareAndSwap(h1Idle, h1Active) {
			return // shutdown closed it
		}
		req, n := c.readRequest()
		if req == nil {
			// net/http takes it from here: it gets the bytes read so far
			// and everything after them. The deadline set above is
			// net/http's to set again.
			_ = c.nc.SetReadDeadline(time.Time{})
			handed = true
			c.l.handOff(&handedConn{Conn: c.nc, r: c.br})
			return
		}
		if _, err := c.br.Discard(n); err != nil {
			return
		}
		if !c.serveRequest(req) {
			return
		}
	}
}

var crlf2 = []byte("\r\n\r\n")

// readRequest parses the request at the start of the read buffer without
// consuming it. It returns nil when the request is not one served here;
// else the request and the length of its header block.
func (c *h1Conn) readRequest() (*http.Request, int) {
	buf, _ := c.br.Peek(c.br.Buffered())
	if !bytes.HasPrefix(buf, []byte("GET /")) && !bytes.HasPrefix(buf, []byte("HEAD /")) {
		return nil, 0
	}
	end := bytes.Index(buf, crlf2)
	if end < 0 {
		return nil, 0
	}
	head := buf[:end+len(crlf2)]
	limit := c.l.srv.MaxHeaderBytes
	if limit <= 0 {
		limit = http.DefaultMaxHeaderBytes // as net/http reads 0
	}
	if len(head) > limit {
		return nil, 0
	}
	if req, ok := parseRequestHead(head); ok {
		if !servedHere(req) {
			return nil, 0
		}
		return req, len(head)
	}
	c.head.Reset(head)
	c.hr.Reset(&c.head)
	req, err := http.ReadRequest(c.hr)
	if err != nil || c.hr.Buffered() != 0 || c.head.Len() != 0 || hostFields(head) != 1 || !servedHere(req) {
		return nil, 0
	}
	for k := range req.Header {
		if !validHeaderName(k) {
			// textproto keeps such a name as it came; net/http refuses it
			return nil, 0
		}
	}
	return req, len(head)
}

// hostFields counts the Host fields of a header block: net/http refuses
// a request with none or several, and ReadRequest keeps only the value.
func hostFields(head []byte) int {
	n := 0
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			break
		}
		head = head[i+1:]
		if len(head) >= 5 && bytes.EqualFold(head[:5], []byte("host:")) {
			n++
		}
	}
	return n
}

// servedHere reports whether req is a request served here: HTTP/1.1 GET
// or HEAD of a path, a plain Host, no body, no upgrade, no expectation.
func servedHere(req *http.Request) bool {
	if req.ProtoMajor != 1 || req.ProtoMinor != 1 || req.URL.Host != "" || req.URL.Scheme != "" {
		return false
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	if req.Body != http.NoBody || req.ContentLength != 0 || len(req.TransferEncoding) != 0 {
		return false
	}
	if req.Host == "" || !plainHost(req.Host) {
		return false
	}
	for k := range req.Header {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Expect", "Upgrade", "Http2-Settings", "Trailer":
			return false
		}
	}
	for _, v := range req.Header["Connection"] {
		if strings.Contains(strings.ToLower(v), "upgrade") {
			return false
		}
	}
	return true
}

// serveRequest runs the handler for req and finishes its response. It
// reports whether the connection may serve another request.
func (c *h1Conn) serveRequest(req *http.Request) (keep bool) {
	// A child of a context that never ends: no parent to register with.
	ctx, end := context.WithCancel(c.base)
	defer c.endRequest(ctx, end)
	req = req.WithContext(ctx)
	req.RemoteAddr = c.remote
	w := &h1Response{c: c, req: req, ctx: ctx, end: end, cl: -1, closeAfter: req.Close}
	c.armWatch(ctx, end)
	defer func() {
		c.endWatch()
		if v := recover(); v != nil {
			// As net/http: what is buffered goes out, the connection
			// closes, the client sees a cut-off response.
			_ = c.bw.Flush()
			keep = false
		}
	}()
	c.l.srv.Handler.ServeHTTP(w, req)
	c.endWatch()
	if err := w.finish(); err != nil {
		return false
	}
	return !w.closeAfter
}

// endRequest ends the request's context ctx with end and closes what
// closeOnCancel registered for it, under c.mu: a registration either
// comes before and is closed here, or sees the context ended.
func (c *h1Conn) endRequest(ctx context.Context, end context.CancelFunc) {
	c.mu.Lock()
	end()
	var up io.Closer
	if c.reqCtx == ctx {
		up = c.upClose
		c.reqCtx, c.reqEnd, c.upClose = nil, nil, nil
	}
	c.mu.Unlock()
	if up != nil {
		_ = up.Close()
	}
}

// closeOnCancel closes cl when ctx, the context of the request the loop
// serves now, ends, until unwatchClose(cl). It reports false, having done
// nothing, for any other context (one that has ended among them: ending
// it took it off c.reqCtx) or when something else is registered; the
// caller then uses context.AfterFunc.
func (c *h1Conn) closeOnCancel(ctx context.Context, cl io.Closer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reqCtx != ctx || c.upClose != nil {
		return false
	}
	c.upClose = cl
	return true
}

// unwatchClose stops closeOnCancel's watch of cl. It reports whether it
// stopped it before the context ended (false: cl is closed, or being).
func (c *h1Conn) unwatchClose(cl io.Closer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.upClose != cl {
		return false
	}
	c.upClose = nil
	return true
}

// armWatch starts the timer after which the connection is read in the
// background while the handler runs. The timer is reset and stopped for
// each request: one left running on a busy connection would fire every
// h1WatchAfter, some 450 times in a browser's cold load (six connections
// busy for 1.5 s, 308 requests), each firing waking a thread.
func (c *h1Conn) armWatch(ctx context.Context, end context.CancelFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqCtx, c.reqEnd = ctx, end
	if c.br.Buffered() > 0 {
		// The next request is already here: the client is there too.
		return
	}
	c.watch = watchArmed
	if c.watchTimer == nil {
		c.watchTimer = time.AfterFunc(h1WatchAfter, c.backgroundRead)
	} else {
		c.watchTimer.Reset(h1WatchAfter)
	}
}

// backgroundRead waits for the client while a handler runs: an EOF or a
// reset ends the request's context, as net/http's does; a byte that
// arrives (a pipelined request) is kept for the next read.
func (c *h1Conn) backgroundRead() {
	c.mu.Lock()
	// A request whose context already ended (a write to its client
	// failed, see h1Response.fail) has nobody left to watch for.
	if c.watch != watchArmed || c.reqEnd == nil {
		c.mu.Unlock()
		return
	}
	// The idle deadline is no limit on a handler. endWatch sets one
	// that has passed after this, under the same lock.
	_ = c.nc.SetReadDeadline(time.Time{})
	c.watch = watchReading
	ctx, end := c.reqCtx, c.reqEnd
	done := make(chan struct{})
	c.watchDone = done
	c.mu.Unlock()
	defer close(done)
	var b [1]byte
	n, err := c.nc.Read(b[:])
	c.mu.Lock()
	aborted := c.watch == watchAborted
	if n == 1 {
		c.cr.pending, c.cr.b = true, b[0]
	}
	c.mu.Unlock()
	var ne net.Error
	if err != nil && !(aborted && errors.As(err, &ne) && ne.Timeout()) {
		c.endRequest(ctx, end)
	}
}

// endWatch stops the background read of the request, if it started, and
// waits for it. A request whose client went away keeps its connection
// closed.
func (c *h1Conn) endWatch() {
	c.mu.Lock()
	st := c.watch
	c.watch = watchOff
	done := c.watchDone
	c.watchDone = nil
	if st == watchReading {
		c.watch = watchAborted
	}
	c.mu.Unlock()
	switch st {
	case watchArmed:
		c.watchTimer.Stop()
	case watchReading:
		_ = c.nc.SetReadDeadline(aLongTimeAgo)
		c.idleSet = false
		<-done
		c.mu.Lock()
		c.watch = watchOff
		c.mu.Unlock()
	}
}

// aLongTimeAgo is a deadline that has passed: it wakes a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// handedConn is a connection handed to net/http with the bytes already
// read from it.
type handedConn struct {
	net.Conn
	r *bufio.Reader // drained first
}

func (c *handedConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(p)
		}
		c.r = nil
	}
	return c.Conn.Read(p)
}

// CloseWrite lets net/http half-close the connection after a refusal.
func (c *handedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// h1Response is the ResponseWriter of a request served here. It follows
// net/http's: the headers are taken as they are at WriteHeader (later
// changes count as trailers), Date is added, a body with no Content-Type
// is sniffed, a body under 2 KB written whole gets a Content-Length,
// others are chunked, a 304 loses Content-Type and Content-Length, HEAD
// sends no body, and a response short of its Content-Length closes the
// connection.
type h1Response struct {
	c      *h1Conn
	req    *http.Request
	ctx    context.Context // the request's
	end    context.CancelFunc
	header http.Header

	wroteHeader bool // WriteHeader ran with a final status
	committed   bool // the status line and headers are in the buffer
	status      int
	cl          int64 // the body's length, -1 while unknown
	written     int64 // body bytes the handler wrote
	held        int   // of those, in c.hold and not yet framed
	chunking    bool
	closeAfter  bool
	haveType    bool // the handler set Content-Type (maybe empty: no sniffing)
	hasCE       bool
	te          string
	badCL       string   // a Content-Length that is no number
	trailers    []string // declared in the Trailer header
	declared    bool     // a Trailer header was set
	head        []byte   // the handler's headers, serialised at WriteHeader
	err         error    // a write to the client failed
}

func (w *h1Response) Header() http.Header {
	if w.header == nil {
		// room for a dev server's response headers without growing
		w.header = make(http.Header, 12)
	}
	return w.header
}

func (w *h1Response) adoptHeader(h http.Header) bool {
	if w.wroteHeader || len(w.header) > 0 {
		return false
	}
	w.header = h
	return true
}

func (w *h1Response) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	c, h := w.c, w.Header()
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		// An informational response goes out now; its headers stay for
		// the final one.
		b := appendStatusLine(c.outBuf[:0], code)
		b = c.appendHeaders(b, h, excludeNoBody)
		b = append(b, "\r\n"...)
		c.outBuf = b[:0]
		if _, err := c.bw.Write(b); err != nil {
			w.fail(err)
		} else if err := c.bw.Flush(); err != nil {
			w.fail(err)
		}
		return
	}
	w.wroteHeader, w.status = true, code
	if v := headerGet(h, "Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			w.cl = n
		} else {
			// net/http drops it from the handler's map but sends its copy
			// taken before: no length of its own, the bad one on a HEAD.
			w.badCL = v
			delete(h, "Content-Length")
		}
	}
	_, w.haveType = h["Content-Type"]
	w.hasCE = headerGet(h, "Content-Encoding") != ""
	w.te = headerGet(h, "Transfer-Encoding")
	_, w.declared = h["Trailer"]
	for _, v := range h["Trailer"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = textproto.TrimString(f); f == "" {
				continue
			}
			switch k := http.CanonicalHeaderKey(f); k {
			case "Transfer-Encoding", "Trailer", "Content-Length":
			default:
				w.trailers = append(w.trailers, k)
			}
		}
	}
	skip := excludeFinal
	if code == http.StatusNotModified {
		skip = exclude304
	}
	w.head = c.appendHeaders(c.headBuf[:0], h, skip)
	c.headBuf = w.head[:0]
}

// excludeFinal names what commit writes itself: the framing, Connection
// and trailers.
func excludeFinal(k string) bool {
	switch k {
	case "Content-Length", "Transfer-Encoding", "Connection":
		return true
	}
	return strings.HasPrefix(k, http.TrailerPrefix)
}

// exclude304 adds what a 304 never carries.
func exclude304(k string) bool { return k == "Content-Type" || excludeFinal(k) }

func excludeNoBody(k string) bool { return k == "Content-Length" || k == "Transfer-Encoding" }

func bodyAllowed(code int) bool {
	return !(code >= 100 && code <= 199 || code == http.StatusNoContent || code == http.StatusNotModified)
}

// appendHeaders appends h's fields, but those skip names, sorted by name
// as net/http writes them.
func (c *h1Conn) appendHeaders(b []byte, h http.Header, skip func(string) bool) []byte {
	fields := c.fields[:0]
	for k, vv := range h {
		if !skip(k) {
			fields = append(fields, namedValues{k, vv})
		}
	}
	sortFields(fields)
	for _, f := range fields {
		for _, v := range f.values {
			b = appendField(b, f.name, v)
		}
	}
	clear(fields)
	c.fields = fields[:0]
	return b
}

// appendField appends one header line; line breaks in a value become
// spaces, as net/http makes them.
func appendField(b []byte, k, v string) []byte {
	b = append(b, k...)
	b = append(b, ": "...)
	b = append(b, headerValue(v)...)
	return append(b, "\r\n"...)
}

func appendStatusLine(b []byte, code int) []byte {
	b = append(b, "HTTP/1.1 "...)
	text := http.StatusText(code)
	if text == "" {
		return fmt.Appendf(b, "%03d status code %d\r\n", code, code)
	}
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, text...)
	return append(b, "\r\n"...)
}

// commit writes the status line and the headers with the body's framing.
// done says the handler has returned: a body held whole gets its
// Content-Length.
func (w *h1Response) commit(done bool) {
	w.committed = true
	c := w.c
	head := w.req.Method == http.MethodHead
	bodyOK := bodyAllowed(w.status)
	hasTE := w.te != ""
	trailers := w.declared
	for k := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			trailers = true
			break
		}
	}
	if c.l.isShutting() || w.header.Get("Connection") == "close" {
		w.closeAfter = true
	}
	switch {
	case !bodyOK:
		w.cl = -1
	case w.cl >= 0:
		if hasTE && w.te != "identity" {
			w.cl = -1
		}
	case done && !trailers && !hasTE && w.badCL == "" && (!head || w.held > 0):
		w.cl = int64(w.held)
	}
	switch {
	case head || !bodyOK || w.cl >= 0:
	case w.te == "identity":
		w.closeAfter = true
	default:
		w.chunking = true
	}

	b := appendStatusLine(c.outBuf[:0], w.status)
	b = append(b, w.head...)
	if bodyOK && !w.haveType && !w.hasCE && !hasTE && w.held > 0 {
		b = appendField(b, "Content-Type", http.DetectContentType(c.hold[:w.held]))
	}
	if w.closeAfter {
		b = append(b, "Connection: close\r\n"...)
	} else {
		for _, v := range w.header["Connection"] {
			b = appendField(b, "Connection", v)
		}
	}
	if w.chunking {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	if _, ok := w.header["Date"]; !ok {
		b = append(b, "Date: "...)
		b = append(b, w.c.dateNow()...)
		b = append(b, "\r\n"...)
	}
	if w.cl >= 0 && bodyOK {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, w.cl, 10)
		b = append(b, "\r\n"...)
	} else if w.badCL != "" && bodyOK && !w.chunking {
		b = appendField(b, "Content-Length", w.badCL)
	}
	b = append(b, "\r\n"...)
	c.outBuf = b[:0]
	if _, err := c.bw.Write(b); err != nil {
		w.fail(err)
		return
	}
	if n := w.held; n > 0 {
		w.held = 0
		w.body(c.hold[:n])
	}
}

// body writes p in the committed framing.
func (w *h1Response) body(p []byte) {
	if w.req.Method == http.MethodHead || len(p) == 0 || w.err != nil {
		return
	}
	b := w.c.bw
	if w.chunking {
		b.Write(strconv.AppendInt(w.c.numBuf[:0], int64(len(p)), 16))
		b.WriteString("\r\n")
		b.Write(p)
		b.WriteString("\r\n")
	} else {
		b.Write(p)
	}
	// bufio.Writer keeps its first write error and returns it from
	// every later call.
	if _, err := b.Write(nil); err != nil {
		w.fail(err)
	}
}

func (w *h1Response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.cl >= 0 && w.written > w.cl {
		return 0, http.ErrContentLength
	}
	rest := p
	if !w.committed {
		n := copy(w.c.hold[w.held:], p)
		w.held += n
		if n == len(p) {
			return n, nil
		}
		w.commit(false)
		rest = p[n:]
	}
	w.body(rest)
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// fail records a failed write to the client. The request's context ends
// with it, as on net/http, whose background read would have seen the
// client go.
func (w *h1Response) fail(err error) {
	if w.err == nil {
		w.err = err
		w.closeAfter = true
		w.c.endRequest(w.ctx, w.end)
	}
}

// Flush sends what is written so far.
func (w *h1Response) Flush() { _ = w.FlushError() }

// FlushError is Flush with its error, for http.ResponseController.
func (w *h1Response) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed && w.err == nil {
		w.commit(false)
	}
	if w.err == nil {
		if err := w.c.bw.Flush(); err != nil {
			w.fail(err)
		}
	}
	return w.err
}

// finish ends the response once the handler has returned.
func (w *h1Response) finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed && w.err == nil {
		w.commit(true)
	}
	if w.err != nil {
		return w.err
	}
	b := w.c.bw
	if w.chunking {
		b.WriteString("0\r\n")
		t := w.appendTrailers(w.c.outBuf[:0])
		w.c.outBuf = t[:0]
		b.Write(t)
		b.WriteString("\r\n")
	}
	if w.req.Method != http.MethodHead && w.cl >= 0 && bodyAllowed(w.status) && w.cl != w.written {
		// Fewer bytes than declared: the client cannot tell where this
		// response ends, so the connection carries no other.
		w.closeAfter = true
	}
	if err := b.Flush(); err != nil {
		w.fail(err)
	}
	return w.err
}

// appendTrailers appends the trailers: the declared names' values, and
// the fields set under http.TrailerPrefix.
func (w *h1Response) appendTrailers(b []byte) []byte {
	var t http.Header
	for k, vv := range w.header {
		if kk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			if t == nil {
				t = http.Header{}
			}
			t[kk] = vv
		}
	}
	for _, k := range w.trailers {
		for _, v := range w.header[k] {
			if t == nil {
				t = http.Header{}
			}
			t.Add(k, v)
		}
	}
	if t == nil {
		return b
	}
	return w.c.appendHeaders(b, t, func(string) bool { return false })
}
