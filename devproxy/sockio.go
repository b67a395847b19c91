package devproxy

import (
	"io"
	"net"
)

// connReader and connWriter are what devproxy's connection loop and the
// short path read a TCP connection through: the connection itself, or on
// Linux a sockIO that makes the same calls without telling the scheduler
// (sockio_linux.go).
func connReader(nc net.Conn) io.Reader {
	if s := newSockIO(nc); s != nil {
		return s
	}
	return nc
}

func connWriter(nc net.Conn) io.Writer {
	if s := newSockIO(nc); s != nil {
		return s
	}
	return nc
}
