//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris)

package devproxy

import "net"

// idleProbe is a no-op where a socket cannot be peeked at without waiting:
// there, only bytes already buffered when a response ends make its
// connection unfit to keep.
type idleProbe struct{}

func newIdleProbe(net.Conn) *idleProbe { return nil }

func (*idleProbe) idle() bool { return true }
