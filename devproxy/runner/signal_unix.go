//go:build unix

package runner

import (
	"os/exec"
	"syscall"
)

// signalName names the signal that ended a process.
func signalName(ee *exec.ExitError) string {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal().String()
	}
	return ""
}
