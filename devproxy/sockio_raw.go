//go:build linux && !race

package devproxy

import (
	"syscall"
	"unsafe"
)

// sysRead and sysWrite are read(2) and write(2) on a non-blocking socket,
// as raw system calls (see sockIO).
func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, errn := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), errn
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, errn := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), errn
}

// peekByte is recv(2) of one byte with MSG_PEEK and MSG_DONTWAIT, as a raw
// system call (see idleProbe).
func peekByte(fd uintptr, b []byte) syscall.Errno {
	_, _, errn := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return errn
}
