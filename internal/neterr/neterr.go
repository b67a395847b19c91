// Package neterr says in a few words why a connection to a server, or a
// listen on an address, failed. Every part of devproxy that reaches a
// server (the proxy, its start-up probes, doctor) or listens (the CLI,
// doctor's port check) asks it, so that one failure has one wording.
package neterr

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
)

// Kind is what went wrong. A caller maps it to a status code and a hint
// of its own; the zero value is Other.
type Kind int

const (
	// Other is a failure none of the kinds below names.
	Other Kind = iota
	// DNS: the host name does not resolve.
	DNS
	// Untrusted: the server's TLS certificate is not trusted.
	Untrusted
	// NotTLS: the server answered a TLS handshake with something else,
	// most often plain HTTP.
	NotTLS
	// Refused: nothing listens on the port.
	Refused
	// DialTimeout: connecting took too long (a host that is down, a
	// firewall that drops packets).
	DialTimeout
	// Dial: connecting failed otherwise (no route to the host, …).
	Dial
	// Timeout: connected, but no answer came in time.
	Timeout
	// Closed: the server closed the connection without an answer.
	Closed
	// AddrInUse: another program listens on the address.
	AddrInUse
	// AddrNotAvailable: no interface of this machine has the address.
	AddrNotAvailable
	// Permission: the system forbids listening there.
	Permission
	// NotHTTP: the server answered with something that is not HTTP.
	NotHTTP
)

// NotHTTPError is the error of a server that answered a request with
// bytes that are not an HTTP response; Err is the parser's complaint.
type NotHTTPError struct {
	Err error
}

func (e *NotHTTPError) Error() string { return "not an HTTP response: " + e.Err.Error() }

func (e *NotHTTPError) Unwrap() error { return e.Err }

// Reason is a failure's kind and a short phrase that says it, such as
// `cannot resolve host "api.local"` or "the port is already in use". The
// phrase of Other is the error's own text, and that of Dial the system's
// cause ("connect: no route to host"); a caller may word a kind in its own
// terms (naming the address, say) instead.
type Reason struct {
	Kind   Kind
	Phrase string
}

// Classify says why err, from a dial, a TLS handshake, a name lookup, a
// round trip or a listen, happened.
func Classify(err error) Reason {
	var (
		dnsErr  *net.DNSError
		opErr   *net.OpError
		unkAuth x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
		recErr  tls.RecordHeaderError
		httpErr *NotHTTPError
	)
	dial := errors.As(err, &opErr) && opErr.Op == "dial"
	switch {
	case errors.As(err, &dnsErr):
		return Reason{DNS, fmt.Sprintf("cannot resolve host %q", dnsErr.Name)}
	case errors.As(err, &unkAuth), errors.As(err, &hostErr), errors.As(err, &invErr):
		return Reason{Untrusted, "TLS certificate not trusted: " + tlsReason(err)}
	case errors.As(err, &httpErr):
		return Reason{NotHTTP, "the server does not speak HTTP"}
	case errors.As(err, &recErr):
		return Reason{NotTLS, "the server does not speak TLS"}
	case dial && errors.Is(err, syscall.ECONNREFUSED):
		return Reason{Refused, "connection refused"}
	case dial && isTimeout(err):
		return Reason{DialTimeout, "connecting timed out"}
	case dial:
		return Reason{Dial, opErr.Err.Error()}
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		return Reason{Timeout, "no answer in time"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return Reason{Closed, "the connection closed without an answer"}
	case errors.Is(err, syscall.EADDRINUSE):
		return Reason{AddrInUse, "the port is already in use"}
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return Reason{AddrNotAvailable, "no interface of this machine has that address"}
	case errors.Is(err, syscall.EACCES):
		return Reason{Permission, "permission denied (ports below 1024 need root)"}
	}
	// An http.Client's error repeats the method and URL the caller
	// already names.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return Reason{Other, err.Error()}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// tlsReason says why a certificate is not trusted.
func tlsReason(err error) string {
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return "it is not valid for " + hostErr.Host
	}
	var invErr x509.CertificateInvalidError
	if errors.As(err, &invErr) && invErr.Reason == x509.Expired {
		return "it has expired"
	}
	return "it is self-signed or signed by an unknown authority"
}
