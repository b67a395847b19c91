//go:build unix

package runner

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// shellArgv runs a command line that needs a shell.
func shellArgv(line string) []string { return []string{"/bin/sh", "-c", line} }

// signalGroup sends sig to every process of the group led by pid.
func signalGroup(pid int, sig stopSignal) error {
	s := syscall.SIGKILL
	switch sig {
	case sigInterrupt:
		s = syscall.SIGINT
	case sigTerminate:
		s = syscall.SIGTERM
	}
	err := syscall.Kill(-pid, s)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// groupGone reports whether no process of the group led by pid is left.
// The leader itself counts until it is reaped.
func groupGone(pid int) bool {
	return errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH)
}

// watchScript kills the group named by $1 once its standard input ends,
// which happens when devproxy exits in any way, SIGKILL included, and
// closes the pipe's only write end.
const watchScript = `read -r _; kill -9 -"$1" 2>/dev/null`

// startWatcher starts the process that kills the group led by pid if
// devproxy dies without stopping it. Closing the returned pipe (or
// devproxy's death) makes it act; killing the process dismisses it.
func startWatcher(pid int) (*exec.Cmd, *os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", watchScript, "devproxy-watch", strconv.Itoa(pid))
	cmd.Stdin = r
	// Its own group, so signals for the command's group or for devproxy's
	// terminal group (Ctrl-C) do not reach it, and no parent-death signal:
	// it must outlive devproxy to do its work.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, nil, err
	}
	return cmd, w, nil
}
