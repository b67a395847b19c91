package devproxy

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/devproxy/devproxy/internal/web"
)

// dialTimeout bounds a TCP connect to a target. Targets are on this machine
// or the local network, so a connect that takes longer is not coming.
const dialTimeout = 5 * time.Second

func newTransport(insecure bool, timeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 nil, // a dev proxy talks to its targets directly, whatever HTTP_PROXY says
		DialContext:           loopbackDialer{d}.DialContext,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   maxIdlePerTarget,
		IdleConnTimeout:       idleTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		// devproxy never compresses nor decompresses: the browser's
		// Accept-Encoding goes upstream as it is.
		DisableCompression: true,
		// HTTP/1.1 only upstream: dev servers speak it, and WebSocket
		// upgrades need it.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for by insecure: true
	}
	return t
}

// loopbackDialer dials localhost and *.localhost on both loopback addresses
// itself. Those names are loopback by definition (RFC 6761), and dev servers
// listen on 127.0.0.1 or on ::1 only (Node 17+), while /etc/hosts often maps
// localhost to just one of them.
type loopbackDialer struct {
	d *net.Dialer
}

func (l loopbackDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !web.IsLocalhost(host) {
		return l.d.DialContext(ctx, network, addr)
	}
	c, err4 := l.d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", port))
	if err4 == nil {
		return c, nil
	}
	c, err6 := l.d.DialContext(ctx, "tcp6", net.JoinHostPort("::1", port))
	if err6 == nil {
		return c, nil
	}
	return nil, &loopbackDialError{port: port, err4: err4, err6: err6}
}

// loopbackDialError is the failure to reach a localhost target on either
// loopback address.
type loopbackDialError struct {
	port       string
	err4, err6 error
}

func (e *loopbackDialError) Error() string {
	return "dial 127.0.0.1:" + e.port + ": " + e.err4.Error() + "; dial [::1]:" + e.port + ": " + e.err6.Error()
}

// Unwrap returns the IPv4 error, which carries the same cause as the IPv6
// one in practice (refused, timeout).
func (e *loopbackDialError) Unwrap() error { return e.err4 }

func (e *loopbackDialError) addrs() string {
	return "127.0.0.1:" + e.port + " or [::1]:" + e.port
}
