//go:build unix && !linux

package runner

import "syscall"

// procAttr puts the command in a process group of its own, so that it can
// be stopped as a tree and Ctrl-C on devproxy's terminal does not reach it
// before devproxy decides. These systems have no parent-death signal; the
// watcher (startWatcher) kills the group if devproxy dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
