package runner

import (
	"os"
	"os/exec"
	"syscall"
)

// shellArgv runs a command line that needs a shell.
func shellArgv(line string) []string { return []string{"cmd", "/C", line} }

// procAttr starts the command in a process group of its own, so that the
// console's Ctrl-C does not reach it before devproxy decides.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// signalGroup can only kill the command's first process here: Windows has
// no signals for a process group that was not started on a console of its
// own. Its children may outlive it.
func signalGroup(pid int, sig stopSignal) error {
	if sig != sigKill {
		return nil
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	return p.Kill()
}

// groupGone is true: the first process is all that can be waited for.
func groupGone(int) bool { return true }

// startWatcher has nothing to start: there is no process group to kill.
func startWatcher(int) (*exec.Cmd, *os.File, error) { return nil, nil, nil }
