package runner

import "syscall"

// procAttr puts the command in a process group of its own, so that it can
// be stopped as a tree and Ctrl-C on devproxy's terminal does not reach it
// before devproxy decides, and has the kernel SIGKILL it if devproxy dies.
//
// The parent-death signal fires when the thread that started the command
// ends, not the process; Go ends a thread only when a goroutine locked to it
// returns without unlocking, which devproxy does not do.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
