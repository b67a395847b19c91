//go:build unix

package inspect

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the test process has used, user and system:
// on a shared machine it is a steadier measure than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
