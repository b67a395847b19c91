// Package probe says whether an HTTP server is up by asking it: a TCP
// connection, a TLS handshake when the scheme is https, then a HEAD / that
// any answer (404 and 500 included) passes. An open port alone proves
// nothing: an https target served by plain HTTP, a port held by a
// database or a process that accepts and never answers all accept a
// connection. The start-up probe, the reload line, the r key and doctor
// share it, and neterr words its failures.
package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/devproxy/devproxy/internal/neterr"
	"github.com/devproxy/devproxy/internal/web"
)

// DefaultTimeout bounds a probe when Target.Timeout is zero: a local
// server that is up answers a HEAD in a few milliseconds.
const DefaultTimeout = 500 * time.Millisecond

// Target is what to probe.
type Target struct {
	// URL is the server's address; its scheme says whether to speak TLS.
	URL *url.URL
	// Addr is the address to dial; empty means URL's host and port.
	Addr string
	// Insecure accepts any TLS certificate (a route's insecure: true).
	Insecure bool
	// Timeout bounds the whole probe; 0 means DefaultTimeout.
	Timeout time.Duration
	// Dial opens the connection; nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Probe returns nil when t answers HTTP within its timeout, and otherwise
// why not: a dial error, a TLS error, a timeout, io.EOF when the server
// closed the connection, or a *neterr.NotHTTPError.
func Probe(ctx context.Context, t Target) error {
	timeout := t.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := t.Addr
	if addr == "" {
		addr = web.HostPort(t.URL)
	}
	dial := t.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	if t.URL.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{
			ServerName:         t.URL.Hostname(),
			InsecureSkipVerify: t.Insecure, //nolint:gosec // asked for by insecure: true
			NextProtos:         []string{"http/1.1"},
		})
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
	}
	req := &http.Request{
		Method: http.MethodHead,
		URL:    &url.URL{Path: "/"},
		Host:   t.URL.Host,
		Header: http.Header{"User-Agent": {"devproxy-probe"}},
		Close:  true,
	}
	if err := req.Write(conn); err != nil {
		return err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) {
			return err
		}
		return &neterr.NotHTTPError{Err: err}
	}
	res.Body.Close()
	return nil
}
