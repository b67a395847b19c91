package devproxy

import (
	"bufio"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/devproxy/devproxy/devproxy/inspect"
)

// outcome is what the log needs to know of one request: the status and
// size the client got and, when devproxy answered for itself, why. It is
// part of the request's log entry: the recorder fills in status and bytes
// as the response is written, a handler records what only it knows (a
// failure, a client that left), and the log line reads it as it is.
//
// Every handler is handed its request's outcome as a parameter (handler,
// below) rather than finding it behind the ResponseWriter or in the
// request's context: a type assertion on the writer breaks as soon as
// anything wraps it (cors mode did, and needed a second recorder), and a
// context value costs a copy of the request, one allocation on every
// request. A parameter is visible at every call and costs nothing; the
// proxy's ErrorHandler, which ReverseProxy calls without it, reaches it
// through the pooled call it runs in (proxyCall).
type outcome struct {
	status int
	bytes  int64
	err    *proxyError
	// fallback is the host:port of the frontend's fallback_api when the
	// request went there instead of to the dev server; "" when it did not.
	fallback string
	// via names what answered in place of a route's target: the route's
	// fallback's host:port, or "replay"; "" when the target (or the
	// mock) did.
	via string
	// marks are the words the log line ends with, such as "recorded" or
	// "injected latency 312ms"; "" for none.
	marks string
	// injected marks an answer devproxy made up (fail, rate_limit): the
	// log never folds it into a repeated failure of the target.
	injected bool
	// ex is the request as the inspector captures it; nil when capture
	// is off or the request is devproxy's own. The recorder feeds it the
	// response; the proxy its 101 (see proxyCall.modifyResponse).
	ex *inspect.Exchange
}

// mark adds words to the end of the request's log line.
func (o *outcome) mark(words string) {
	if o.marks != "" {
		o.marks += " "
	}
	o.marks += words
}

// fail records pe as what went wrong; writeProxyError calls it.
func (o *outcome) fail(pe *proxyError) { o.err = pe }

// clientClosed records that the client went away before an answer, so
// that the log says 499 rather than a status nobody received.
func (o *outcome) clientClosed() { o.status = StatusClientClosed }

// handler serves one request that the router routed, recording in o what
// the response itself does not tell the log.
type handler interface {
	serve(w http.ResponseWriter, r *http.Request, o *outcome)
}

// recorder wraps the connection's ResponseWriter of one request to learn
// what the log needs. Server creates one per request and hands the
// handler its outcome; nothing else looks behind a writer (cors mode wraps
// the writer too, and needs to know nothing of this one).
type recorder struct {
	http.ResponseWriter
	wroteHeader bool
	hijacked    bool
	// streams and log learn of a WebSocket upgrade that took the
	// connection.
	streams *streams
	log     *logger
	// e is what the log says of this request, its outcome included;
	// recorder and entry are one allocation.
	e logEntry
	// fallbackWhere is where the inspector says the request went when the
	// frontend's fallback_api answered it; nil without fallback_api.
	fallbackWhere *inspect.Where
	// conn counts the bytes of a hijacked connection.
	conn *countingConn
}

func (rec *recorder) adoptHeader(h http.Header) bool {
	a, ok := rec.ResponseWriter.(headerAdopter)
	return ok && !rec.wroteHeader && !rec.hijacked && a.adoptHeader(h)
}

func (rec *recorder) WriteHeader(code int) {
	switch {
	case code < 200:
		// ReverseProxy relays 1xx responses (103 Early Hints) with every
		// header the target sent.
		stripHopByHop(rec.Header(), false)
	case !rec.wroteHeader:
		rec.e.status = code
		rec.wroteHeader = true
		rec.e.ex.ResponseHeader(code, rec.Header())
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if !rec.wroteHeader {
		rec.e.status, rec.wroteHeader = http.StatusOK, true
		rec.e.ex.ResponseHeader(http.StatusOK, rec.Header())
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.e.bytes += int64(n)
	// Captured after the write, so that the client never waits for the
	// copy.
	rec.e.ex.ResponseBody(b[:n])
	return n, err
}

// bodyBuffer is the room the inspector's capture has for the next bytes of
// the body, once the header is written (see bodyBufferer).
func (rec *recorder) bodyBuffer() []byte {
	if !rec.wroteHeader || rec.hijacked {
		return nil
	}
	return rec.e.ex.BodyBuffer()
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
	rec.e.status, rec.wroteHeader = http.StatusSwitchingProtocols, true
	rec.conn = &countingConn{Conn: c, tapUp: rec.e.ex.WSFrames(inspect.ToServer), tapDown: rec.e.ex.WSFrames(inspect.ToClient)}
	rec.streams.track(rec.conn)
	rec.e.fellBack()
	rec.log.wsOpened(&rec.e)
	return rec.conn, brw, nil
}

// countingConn counts the bytes of a WebSocket each way for the log, and
// hands them to the inspector's frame taps (nil when capture is off).
type countingConn struct {
	net.Conn
	up, down       atomic.Int64
	tapUp, tapDown *inspect.FrameTap
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.up.Add(int64(n))
	_, _ = c.tapUp.Write(b[:n])
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	// Tapped before the write: once written, the client may answer, and
	// the inspector would list its reply before the message it answers
	// (TestCaptureWebSocket saw it under load). A frame tap neither
	// blocks nor fails.
	_, _ = c.tapDown.Write(b)
	n, err := c.Conn.Write(b)
	c.down.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
