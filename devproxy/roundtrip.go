package devproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// maxResponseHeaderBytes bounds the response headers read from a
	// target, as http.Transport's default does.
	maxResponseHeaderBytes = 10 << 20
	// max1xxResponses bounds the informational responses (103 Early Hints)
	// read before the final one.
	max1xxResponses = 5
)

// headerLimiter sits under the connection's bufio.Reader and refuses to
// read more than maxResponseHeaderBytes while response headers are read.
// It also counts the bytes, so that a failure can tell whether the target
// answered at all.
type headerLimiter struct {
	r       io.Reader
	limited bool
	n       int64 // bytes read since the request was written
}

var errHeadersTooLarge = errors.New("the target's response headers exceed 10 MiB")

func (l *headerLimiter) Read(p []byte) (int, error) {
	if l.limited {
		left := maxResponseHeaderBytes - l.n
		if left <= 0 {
			return 0, errHeadersTooLarge
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// RoundTrip implements http.RoundTripper.
func (t *upstreamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.short(req) {
		res, err := t.std.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if err := checkResponse(res); err != nil {
			// Closing the unread body costs http.Transport the
			// connection, which is what a target that does not speak
			// HTTP deserves.
			res.Body.Close()
			return nil, err
		}
		return res, nil
	}
	var got1xx func(int, textproto.MIMEHeader) error
	if trace := httptrace.ContextClientTrace(req.Context()); trace != nil {
		got1xx = trace.Got1xxResponse
	}
	return t.roundTripShort(req, got1xx)
}

// roundTripShort sends req on the short path; got1xx, if not nil, gets
// each informational response.
func (t *upstreamTransport) roundTripShort(req *http.Request, got1xx func(int, textproto.MIMEHeader) error) (*http.Response, error) {
	ctx := req.Context()
	for {
		c, reused, err := t.get(ctx)
		if err != nil {
			return nil, err
		}
		res, answered, err := t.roundTrip(c, req, got1xx)
		if err == nil {
			return res, nil
		}
		// A kept-alive connection the target closed while it sat idle
		// fails before any answer: the request is safe to send again (it
		// has no body and a method without side effects). The next try
		// takes the next idle connection, or a new one. A timeout is
		// final: the target has the request and is slow.
		if !reused || answered || ctx.Err() != nil || !connClosed(err) {
			return nil, err
		}
	}
}

// connClosed reports whether err says the other side had closed the
// connection.
func connClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// short reports whether req can take the short path: plain HTTP to this
// pool's target, no body, no upgrade, and a method that may be retried.
func (t *upstreamTransport) short(req *http.Request) bool {
	if t.scheme != "http" || req.URL.Scheme != "http" || req.URL.Host != t.host || req.Close {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody {
		return false
	}
	return shortMethod(req)
}

// shortMethod reports whether r's method may be sent again (GET, HEAD,
// OPTIONS) and r asks for no upgrade: what short and shortIn share.
func shortMethod(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	_, upgrade := r.Header["Upgrade"]
	return !upgrade
}

// shortIn reports whether the client's request in goes by the short
// path once rewritten for this pool's target: the same test as short, on
// what the rewrite does not change.
func (t *upstreamTransport) shortIn(in *http.Request) bool {
	if t.scheme != "http" || in.ContentLength != 0 || in.Body != nil && in.Body != http.NoBody {
		return false
	}
	return shortMethod(in)
}

// roundTrip sends req on c and reads the response headers. answered says
// whether the target sent anything back, which makes a failure final.
func (t *upstreamTransport) roundTrip(c *upConn, req *http.Request, got1xx func(int, textproto.MIMEHeader) error) (res *http.Response, answered bool, err error) {
	ctx := req.Context()
	// A client that goes away ends the request: closing the connection
	// wakes the read below or the body copy later.
	watch := watchCancel(ctx, c.nc)
	fail := func(err error) (*http.Response, bool, error) {
		watch.stop()
		c.nc.Close()
		answered := c.lr.n > 0
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, answered, err
	}
	c.lr.n = 0
	if err := writeRequest(c.bw, req); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	if t.timeout > 0 {
		if err := c.nc.SetReadDeadline(time.Now().Add(t.timeout)); err != nil {
			return fail(err)
		}
	}
	c.lr.limited = true
	for n1xx := 0; ; n1xx++ {
		res, err = c.readResponse(req)
		if err != nil {
			return fail(err)
		}
		code := res.StatusCode
		if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
			break
		}
		if n1xx == max1xxResponses {
			return fail(errors.New("the target sent too many 1xx informational responses"))
		}
		if got1xx != nil {
			if err := got1xx(code, textproto.MIMEHeader(res.Header)); err != nil {
				return fail(err)
			}
		}
	}
	c.lr.limited = false
	if err := checkResponse(res); err != nil {
		return fail(err)
	}
	// The body is read without a deadline, unless it is already all in
	// the buffer (most small responses): then the connection is not read
	// again before the next request sets a new deadline.
	buffered := res.Body == http.NoBody || (res.ContentLength >= 0 && int64(c.br.Buffered()) >= res.ContentLength)
	if t.timeout > 0 && !buffered {
		if err := c.nc.SetReadDeadline(time.Time{}); err != nil {
			return fail(err)
		}
	}
	// A 101 here was not asked for (upgrades take http.Transport): what
	// follows on the connection is not HTTP, so it is not kept.
	keep := !res.Close && res.StatusCode != http.StatusSwitchingProtocols
	b := &upBody{t: t, c: c, rc: res.Body, watch: watch, keep: keep}
	if res.Body == http.NoBody {
		b.release(bodyEnded, keep)
		return res, true, nil
	}
	res.Body = b
	return res, true, nil
}

// readResponse reads a response head from c: in one parse when the first
// read brought all of it and parseResponseHead takes it, else with
// http.ReadResponse.
func (c *upConn) readResponse(req *http.Request) (*http.Response, error) {
	if _, err := c.br.Peek(1); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // as ReadResponse says it
		}
		return nil, err
	}
	buf, _ := c.br.Peek(c.br.Buffered())
	if end := bytes.Index(buf, crlf2); end >= 0 {
		if res, ok := parseResponseHead(buf[:end+len(crlf2)], req, c.br); ok {
			_, _ = c.br.Discard(end + len(crlf2))
			return res, nil
		}
	}
	return http.ReadResponse(c.br, req)
}

// badResponseError is a response from a target that is not HTTP as
// devproxy can forward it.
type badResponseError struct{ msg string }

func (e *badResponseError) Error() string { return e.msg }

// checkResponse refuses what ReadResponse lets through but no HTTP server
// sends: a status code below 100. ReadResponse accepts any three digits,
// and http.ResponseWriter panics on such a code. (Header values with
// control characters, the other thing browsers refuse, ReadResponse
// already rejects.)
func checkResponse(res *http.Response) error {
	if code := res.StatusCode; code < 100 || code > 999 {
		return &badResponseError{fmt.Sprintf("status %03d is not an HTTP status code (they run from 100 to 999)", code)}
	}
	return nil
}

// cancelWatch closes a connection to the target when the request's context
// ends before the exchange does. On a request of devproxy's connection
// loop the loop does it when it ends the context (h1Conn.closeOnCancel),
// which costs no allocation; on any other, context.AfterFunc, which cost
// five per request.
type cancelWatch struct {
	h1        *h1Conn
	nc        net.Conn
	stopAfter func() bool
}

func watchCancel(ctx context.Context, nc net.Conn) cancelWatch {
	if h, ok := ctx.Value(h1ConnKey{}).(*h1Conn); ok && h.closeOnCancel(ctx, nc) {
		return cancelWatch{h1: h, nc: nc}
	}
	return cancelWatch{nc: nc, stopAfter: context.AfterFunc(ctx, func() { nc.Close() })}
}

// stop ends the watch. It reports whether it did so before the context
// ended; false means the connection is closed, or being closed.
func (w cancelWatch) stop() bool {
	if w.h1 != nil {
		return w.h1.unwatchClose(w.nc)
	}
	return w.stopAfter()
}

// upBody is a response body on the short path: at its end the connection
// goes back to the pool. Close may come from another goroutine while a Read
// is blocked (a shutdown ending an event stream): it closes the
// connection, which ends the Read.
type upBody struct {
	t     *upstreamTransport
	c     *upConn
	rc    io.ReadCloser
	watch cancelWatch
	keep  bool
	state atomic.Int32 // bodyOpen, then bodyEnded or bodyClosed
}

const (
	bodyOpen int32 = iota
	bodyEnded
	bodyClosed
)

func (b *upBody) Read(p []byte) (int, error) {
	switch b.state.Load() {
	case bodyEnded:
		return 0, io.EOF
	case bodyClosed:
		return 0, errBodyClosed
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.release(bodyEnded, b.keep)
	}
	return n, err
}

var errBodyClosed = errors.New("read on a closed response body")

// Close ends the body; before its end, that costs the connection.
func (b *upBody) Close() error {
	b.release(bodyClosed, false)
	return nil
}

// release hands the connection back to the pool when keep says it is
// reusable, or closes it; the first call decides. A connection the
// client's context already closed is not kept, nor one with bytes beyond
// the response (a body sent with a HEAD response or a 304), which would be
// read as the next response.
func (b *upBody) release(state int32, keep bool) {
	if !b.state.CompareAndSwap(bodyOpen, state) {
		return
	}
	if b.watch.stop() && keep && b.c.br.Buffered() == 0 {
		b.t.put(b.c)
		return
	}
	b.c.nc.Close()
}
