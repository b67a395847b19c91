//go:build !linux

package devproxy

import (
	"io"
	"net"
)

// connIO returns nc: elsewhere than on Linux (sockio_linux.go),
// connections are read and written as net.Conn.
func connIO(nc net.Conn) io.ReadWriter { return nc }
