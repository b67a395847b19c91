//go:build !unix

package procs

import (
	"errors"
	"time"
)

// processCPU is not read here: the governor stays off.
func processCPU() (time.Duration, error) { return 0, errors.ErrUnsupported }
