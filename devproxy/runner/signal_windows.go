package runner

import "os/exec"

// signalName is empty: Windows processes end with an exit code.
func signalName(*exec.ExitError) string { return "" }
