//go:build darwin || freebsd || netbsd || openbsd || dragonfly || solaris || (linux && race)

package devproxy

import "syscall"

// peekByte is recv(2) of one byte with MSG_PEEK and MSG_DONTWAIT (see
// idleProbe); Linux makes it a raw system call (sockio_raw.go), except
// under the race detector (see sockio_race.go).
func peekByte(fd uintptr, b []byte) syscall.Errno {
	_, _, err := syscall.Recvfrom(int(fd), b[:1], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}
