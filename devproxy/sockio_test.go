//go:build linux

package devproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns both ends of a real TCP connection on 127.0.0.1.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// sameOpError checks that got is the error net.Conn gives in the same
// case, want: the same operation, network and addresses, wrapping the
// same error.
func sameOpError(t *testing.T, what string, got, want error) {
	t.Helper()
	var g, w *net.OpError
	if !errors.As(got, &g) || !errors.As(want, &w) {
		t.Fatalf("%s: got %v (%T), net.Conn gives %v (%T); want both *net.OpError", what, got, got, want, want)
	}
	if g.Op != w.Op || g.Net != w.Net || g.Source.String() != w.Source.String() || g.Addr.String() != w.Addr.String() {
		t.Fatalf("%s: got %q, net.Conn gives %q", what, got, want)
	}
	if got.Error() != want.Error() || !errors.Is(got, w.Err) && g.Err.Error() != w.Err.Error() {
		t.Fatalf("%s: got %q, net.Conn gives %q", what, got, want)
	}
}

func TestSockIOReadsAndWritesAsNetConn(t *testing.T) {
	c, s := tcpPair(t)
	r, w := newSockIO(s), newSockIO(c)
	if r == nil || w == nil {
		t.Fatal("newSockIO of a *net.TCPConn: nil")
	}
	if newSockIO(struct{ net.Conn }{c}) != nil {
		t.Fatal("newSockIO of a wrapped conn: not nil, want nil (the wrapper may read through something of its own)")
	}
	wrapped := struct{ net.Conn }{c}
	if got := connIO(wrapped); got != io.ReadWriter(wrapped) {
		t.Fatalf("connIO of a wrapped conn: %T, want the conn itself", got)
	}
	if got, ok := connIO(c).(*sockIO); !ok || got == nil {
		t.Fatalf("connIO of a *net.TCPConn: %T, want a *sockIO", connIO(c))
	}

	// 8 MiB in one Write: far more than the socket buffers hold (made
	// small), so the write waits for the reader (EAGAIN, then the poller)
	// many times.
	if err := c.SetWriteBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	if err := s.SetReadBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 512<<10)
	wrote := make(chan error, 1)
	go func() {
		n, err := w.Write(big)
		if err == nil && n != len(big) {
			err = io.ErrShortWrite
		}
		if err != nil {
			c.Close() // the reader stops at once
		}
		wrote <- err
	}()
	s.SetReadDeadline(time.Now().Add(30 * time.Second))
	got := make([]byte, 0, len(big))
	buf := make([]byte, 32<<10)
	for len(got) < len(big) {
		n, err := r.Read(buf)
		if err != nil {
			select {
			case werr := <-wrote:
				t.Fatalf("read after %d bytes: %v; the write: %v", len(got), err, werr)
			default:
			}
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("write of 8 MiB: %v", err)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("the bytes read differ from those written")
	}
	s.SetReadDeadline(time.Time{})
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v; want 0, nil", n, err)
	}

	// The peer closes its side: io.EOF, not wrapped, as net.Conn says it.
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer's FIN: %d, %v; want 0, io.EOF", n, err)
	}
}

func TestSockIOErrorsAsNetConn(t *testing.T) {
	buf := make([]byte, 64)

	t.Run("deadline", func(t *testing.T) {
		_, s := tcpPair(t)
		r := newSockIO(s)
		s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err := r.Read(buf)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
		}
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("read past the deadline: %v is no timeout", err)
		}
		_, want := s.Read(buf)
		sameOpError(t, "deadline", err, want)
	})

	t.Run("closed while waiting", func(t *testing.T) {
		_, s := tcpPair(t)
		r := newSockIO(s)
		done := make(chan error, 1)
		go func() {
			_, err := r.Read(buf)
			done <- err
		}()
		// The read waits on the poller, or is about to: either way
		// Close ends it with net.Conn's error.
		s.Close()
		select {
		case err := <-done:
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("read on a closed conn: %v, want net.ErrClosed", err)
			}
			_, want := s.Read(buf)
			sameOpError(t, "closed", err, want)
			_, werr := newSockIO(s).Write([]byte("x"))
			_, wwant := s.Write([]byte("x"))
			sameOpError(t, "write on closed", werr, wwant)
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not end a waiting Read")
		}
	})

	t.Run("reset", func(t *testing.T) {
		c, s := tcpPair(t)
		c2, s2 := tcpPair(t)
		for _, cc := range []*net.TCPConn{c, c2} {
			cc.SetLinger(0) // Close sends RST
			cc.Close()
		}
		// Each read waits for the RST, which its socket reports once.
		s.SetReadDeadline(time.Now().Add(10 * time.Second))
		s2.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := newSockIO(s).Read(buf)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("read after a reset: %v, want ECONNRESET", err)
		}
		if !connClosed(err) {
			t.Fatalf("connClosed(%v) = false", err)
		}
		_, want := s2.Read(buf)
		var g, w *net.OpError
		errors.As(err, &g)
		errors.As(want, &w)
		if g == nil || w == nil || g.Op != w.Op || g.Net != w.Net || g.Err.Error() != w.Err.Error() {
			t.Fatalf("read after a reset: %v, net.Conn gives %v", err, want)
		}
		_, err = newSockIO(s).Write([]byte("x"))
		if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("write after a reset: %v, want EPIPE or ECONNRESET", err)
		}
	})
}

// A failed read reports no bytes, as net.Conn's does.
func TestSockIOFailedReadCountsNothing(t *testing.T) {
	c, s := tcpPair(t)
	c.SetLinger(0)
	c.Close()
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := newSockIO(s).Read(make([]byte, 64))
	if n != 0 || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after a reset: %d, %v; want 0, ECONNRESET", n, err)
	}
}
