//go:build !linux

package devproxy

import "net"

// sockIO is Linux's (sockio_linux.go); elsewhere connections are read and
// written as net.Conn.
type sockIO struct{ net.Conn }

func newSockIO(net.Conn) *sockIO { return nil }
