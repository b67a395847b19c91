package devproxy

import (
	"bufio"
	"net"
	"net/http"
	"sync/atomic"
)

// recorder wraps the ResponseWriter of one request to learn what the log
// needs: status, size and, for failures, what happened.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
	err         *proxyError
	// srv, when set, learns of a WebSocket upgrade that took the
	// connection.
	srv *Server
	// e is what the log says of this request; recorder and entry are one
	// allocation.
	e logEntry
	// conn counts the bytes of a hijacked connection.
	conn *countingConn
}

func (rec *recorder) WriteHeader(code int) {
	switch {
	case code < 200:
		// ReverseProxy relays 1xx responses (103 Early Hints) with every
		// header the target sent.
		stripHopByHop(rec.Header(), false)
	case !rec.wroteHeader:
		rec.status = code
		rec.wroteHeader = true
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if !rec.wroteHeader {
		rec.status, rec.wroteHeader = http.StatusOK, true
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Flush passes flushes through, so that streamed responses reach the client
// as they are written.
func (rec *recorder) Flush() {
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack takes over the connection for a WebSocket upgrade.
func (rec *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(rec.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	rec.hijacked = true
	rec.status, rec.wroteHeader = http.StatusSwitchingProtocols, true
	rec.conn = &countingConn{Conn: c}
	if rec.srv != nil {
		rec.srv.streams.add(rec.conn)
		rec.srv.log.wsOpened(&rec.e)
	}
	return rec.conn, brw, nil
}

// countingConn counts the bytes of a WebSocket each way for the log.
type countingConn struct {
	net.Conn
	up, down atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.up.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.down.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *recorder) fail(pe *proxyError) { rec.err = pe }
