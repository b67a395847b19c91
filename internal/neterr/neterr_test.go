package neterr

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, inUse := net.Listen("tcp", busy.Addr().String())

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.Addr().String()
	closed.Close()
	_, refused := net.DialTimeout("tcp", addr, time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, canceled := (&net.Dialer{}).DialContext(ctx, "tcp", addr)

	tests := []struct {
		name   string
		err    error
		kind   Kind
		phrase string
	}{
		{"listen on a busy port", inUse, AddrInUse, "the port is already in use"},
		{"dial a closed port", refused, Refused, "connection refused"},
		{"dial through a client", &url.Error{Op: "Get", URL: "http://" + addr, Err: refused}, Refused, "connection refused"},
		{"unknown host", &net.DNSError{Err: "no such host", Name: "api.local", IsNotFound: true}, DNS, `cannot resolve host "api.local"`},
		{"self-signed certificate", fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), Untrusted,
			"TLS certificate not trusted: it is self-signed or signed by an unknown authority"},
		{"no answer in time", context.DeadlineExceeded, Timeout, "no answer in time"},
		{"closed without an answer", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), Closed, "the connection closed without an answer"},
		{"anything else through a client", &url.Error{Op: "Get", URL: "http://x", Err: errors.New("boom")}, Other, "boom"},
		{"a dial the caller gave up", canceled, Dial, "operation was canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("the failure did not happen")
			}
			got := Classify(tt.err)
			if got.Kind != tt.kind || got.Phrase != tt.phrase {
				t.Errorf("Classify(%v) = %+v, want {%v %q}", tt.err, got, tt.kind, tt.phrase)
			}
		})
	}
}
