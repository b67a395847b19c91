// Package testnet holds the network set-ups that the tests of several
// packages share: a port nothing listens on, and servers (HTTP or raw TCP)
// on 127.0.0.1:0 for the length of a test.
package testnet

import (
	"context"
	"net"
	"testing"
)

// ClosedPort returns a port on 127.0.0.1 that nothing listens on.
func ClosedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// Server is what Serve runs, such as a *devproxy.Server.
type Server interface {
	Serve(ctx context.Context, ln net.Listener) error
}

// Serve runs srv on a 127.0.0.1:0 listener until the test ends, then
// stops it and reports an error Serve returned. It returns the listener's
// address.
func Serve(t testing.TB, srv Server) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// RawServer accepts on 127.0.0.1:0 and hands each connection to serve
// until the test ends; it returns the address.
func RawServer(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}
