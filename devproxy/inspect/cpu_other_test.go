//go:build !unix

package inspect

import "time"

// processCPU is not measured here; the benchmarks then report no cpu-ns/op.
func processCPU() time.Duration { return 0 }
