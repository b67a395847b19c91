//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package devproxy

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// idleProbe looks, without waiting, at a kept connection before it carries
// another request: a byte or an end of stream that arrived while it sat
// idle is not an answer to anything that is still to be sent.
type idleProbe struct {
	nc    net.Conn
	raw   syscall.RawConn
	peek  func(fd uintptr) bool
	quiet bool
	b     [1]byte
}

func newIdleProbe(nc net.Conn) *idleProbe {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &idleProbe{nc: nc, raw: raw}
	// Built once per connection: a closure made at each check would be
	// one allocation per request.
	p.peek = func(fd uintptr) bool {
		errn := peekByte(fd, p.b[:])
		p.quiet = errn == syscall.EAGAIN || errn == syscall.EWOULDBLOCK
		return true
	}
	return p
}

// idle reports whether nothing (no byte, no end of stream, no error) is
// waiting on the connection. MSG_PEEK leaves what it finds in place, but a
// connection that is not idle is closed anyway.
func (p *idleProbe) idle() bool {
	if p == nil {
		return true
	}
	p.quiet = false
	err := p.raw.Read(p.peek)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The last response's header deadline, left in place when its
		// body was already buffered, passed while the connection idled.
		if p.nc.SetReadDeadline(time.Time{}) != nil {
			return false
		}
		err = p.raw.Read(p.peek)
	}
	return err == nil && p.quiet
}
