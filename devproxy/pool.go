package devproxy

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

const (
	// maxIdlePerTarget is how many idle connections a target keeps. A page
	// load is a burst of hundreds of module requests; Go's default of 2
	// idle connections per host would reopen most of them.
	maxIdlePerTarget = 512
	// idleTimeout closes connections nobody used for that long.
	idleTimeout = 90 * time.Second
	// upstreamReadBuffer is the read buffer of a short-path connection.
	// A dev server's module is 5-30 KB with its inline source map: at
	// 4 KB, a 10 KB module took two reads from the target and three
	// writes to the browser (each read chunk written as it came); with
	// the whole response in one read it takes one and two. 32 KB is the
	// body copy buffer's size (copyBufferSize).
	upstreamReadBuffer = 32 << 10
)

// upstreamTransport is the connection pool of one target. Nearly every
// request of a page load is a plain-HTTP GET without a body, and those take
// a short path: the request is written and its response read on the
// calling goroutine over a kept-alive connection, with net/http's own wire
// format code (ReadResponse; the request is written as Request.Write
// writes it, by writeRequest). That saves the two goroutine
// hand-offs, the channels and the timers http.Transport spends on every
// round trip. Everything else (https targets, request bodies, upgrades,
// other methods) goes through http.Transport, which this pool also owns.
type upstreamTransport struct {
	std     *http.Transport
	timeout time.Duration // response header timeout; 0 means none
	scheme  string
	host    string // the target's host as in its URL
	addr    string // host:port to dial
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	// idleAfter is how long an unused connection is kept: idleTimeout.
	idleAfter time.Duration

	mu      sync.Mutex
	idle    []*upConn // most recently used last
	sweep   *time.Timer
	retired bool // dropped by a reload: connections close when done
}

func newUpstreamTransport(target *url.URL, insecure bool, timeout time.Duration) *upstreamTransport {
	std := newTransport(insecure, timeout)
	return &upstreamTransport{
		std:     std,
		timeout: timeout,
		scheme:  target.Scheme,
		host:    target.Host,
		addr:    hostPort(target),
		dial:    std.DialContext,

		idleAfter: idleTimeout,
	}
}

// upConn is one kept-alive connection of the short path.
type upConn struct {
	nc        net.Conn
	lr        headerLimiter
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
	probe     *idleProbe
}

// get returns an idle connection, most recently used first, or dials a new
// one. An idle connection on which anything arrived while nobody asked
// (bytes past the end of the last response, an unsolicited 408, the
// target closing it) is closed instead: the next request would read those
// bytes as its answer. http.Transport keeps a reader on every idle
// connection for that; one non-blocking peek at hand-off gives the same
// guarantee without a goroutine per connection, and the hand-off is the
// only moment it matters.
func (t *upstreamTransport) get(ctx context.Context) (*upConn, bool, error) {
	for {
		t.mu.Lock()
		n := len(t.idle)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		c := t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		if c.br.Buffered() == 0 && c.probe.idle() {
			return c, true, nil
		}
		c.nc.Close()
	}
	nc, err := t.dial(ctx, "tcp", t.addr)
	if err != nil {
		return nil, false, err
	}
	c := &upConn{nc: nc, probe: newIdleProbe(nc)}
	c.lr.r = connIO(nc)
	c.br = bufio.NewReaderSize(&c.lr, upstreamReadBuffer)
	c.bw = bufio.NewWriterSize(connIO(nc), 4<<10)
	return c, false, nil
}

// put keeps c for the next request, or closes it when the pool is full or
// retired.
func (t *upstreamTransport) put(c *upConn) {
	c.idleSince = time.Now()
	t.mu.Lock()
	if t.retired || len(t.idle) >= maxIdlePerTarget {
		t.mu.Unlock()
		c.nc.Close()
		return
	}
	t.idle = append(t.idle, c)
	if t.sweep == nil {
		t.sweep = time.AfterFunc(t.idleAfter, t.closeStale)
	}
	t.mu.Unlock()
}

// closeStale closes the connections idle for idleAfter or longer, and
// looks again when the next one would be.
func (t *upstreamTransport) closeStale() {
	now := time.Now()
	t.mu.Lock()
	var stale []*upConn
	i := 0
	for i < len(t.idle) && now.Sub(t.idle[i].idleSince) >= t.idleAfter {
		i++
	}
	stale = append(stale, t.idle[:i]...)
	t.idle = append(t.idle[:0], t.idle[i:]...)
	clear(t.idle[len(t.idle):cap(t.idle)])
	if len(t.idle) > 0 {
		t.sweep.Reset(t.idleAfter - now.Sub(t.idle[0].idleSince))
	} else {
		t.sweep = nil
	}
	t.mu.Unlock()
	for _, c := range stale {
		c.nc.Close()
	}
}

// CloseIdleConnections closes every idle connection of the pool.
func (t *upstreamTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	if t.sweep != nil {
		t.sweep.Stop()
		t.sweep = nil
	}
	t.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
	t.std.CloseIdleConnections()
}

// retire closes the idle connections and makes those in use close when
// their request is done.
func (t *upstreamTransport) retire() {
	t.mu.Lock()
	t.retired = true
	t.mu.Unlock()
	t.CloseIdleConnections()
}

// transportKey identifies one upstream connection pool: a target origin
// with the settings its connections depend on.
type transportKey struct {
	scheme, host string
	insecure     bool
	timeout      time.Duration
}

// transports hands out one connection pool per target and setting, and
// keeps them across reloads, so that a reload keeps the warm connections of
// unchanged targets and can close those of removed ones.
type transports struct {
	mu sync.Mutex
	m  map[transportKey]*upstreamTransport
}

func newTransports() *transports {
	return &transports{m: make(map[transportKey]*upstreamTransport)}
}

func (ts *transports) get(target *url.URL, insecure bool, timeout time.Duration) *upstreamTransport {
	k := transportKey{target.Scheme, target.Host, insecure, timeout}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if t, ok := ts.m[k]; ok {
		return t
	}
	t := newUpstreamTransport(target, insecure, timeout)
	ts.m[k] = t
	return t
}

// retireAll closes every idle connection, and makes those in use close
// when their request ends.
func (ts *transports) retireAll() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.m {
		t.retire()
	}
}

// retain drops the pools that keep does not name, closing their idle
// connections. Requests still in flight on a dropped pool finish; their
// connections then close (on http.Transport's side after
// IdleConnTimeout).
func (ts *transports) retain(keep map[*upstreamTransport]bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for k, t := range ts.m {
		if !keep[t] {
			t.retire()
			delete(ts.m, k)
		}
	}
}
