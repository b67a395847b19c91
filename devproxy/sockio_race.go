//go:build linux && race

package devproxy

import (
	"errors"
	"syscall"
)

// sysRead and sysWrite are syscall.Read and syscall.Write under the race
// detector, which learns from them that a write to a socket comes before
// the read of its bytes; the raw calls of other builds (sockio_raw.go) do
// not tell it.
func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return max(n, 0), errno(err)
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	return max(n, 0), errno(err)
}

func errno(err error) syscall.Errno {
	var e syscall.Errno
	if err != nil && !errors.As(err, &e) {
		return syscall.EIO
	}
	return e
}
