package procs

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// DefaultHeapFloor is the heap size under which the garbage collector is
// not asked to run, as long as the live heap is well under it.
const DefaultHeapFloor = 32 << 20

// runtimeHeapMinimum is the Go runtime's smallest heap goal at GOGC=100;
// it grows with GOGC (4 MiB × GOGC/100).
const runtimeHeapMinimum = 4 << 20

// HeapFloor keeps the garbage collector's heap goal at a floor while the
// live heap is small, by raising GOGC after each collection to what puts
// the goal there; once the live heap is half the floor or more, GOGC is
// what it was.
//
// devproxy's live heap is a few MiB (3 MiB under a paced page reload) and
// each proxied request allocates a few KiB that die with it. At GOGC=100
// the goal is then the runtime's minimum, 4 to 7 MiB, and the collector
// ran five times a second during page loads: 6% of devproxy's CPU. With a
// floor of 32 MiB it runs every second or two, for at most 32 MiB of heap
// in all; a developer's machine has it, and the browser and the dev
// server beside devproxy use far more.
type HeapFloor struct {
	floor   uint64
	base    int // GOGC as the process started
	set     func(int) int
	live    func() uint64
	changed func(from, to int)
}

// NewHeapFloor returns a HeapFloor for this process, or nil when the user
// chose the collector's settings (GOGC or GOMEMLIMIT in the environment),
// which devproxy leaves as they are.
func NewHeapFloor(getenv func(string) string) *HeapFloor {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return nil
	}
	base := int(readMetric("/gc/gogc:percent"))
	if base <= 0 {
		return nil // the collector is off
	}
	return &HeapFloor{
		floor:   DefaultHeapFloor,
		base:    base,
		set:     debug.SetGCPercent,
		live:    func() uint64 { return readMetric("/gc/heap/live:bytes") },
		changed: func(int, int) {},
	}
}

// Run adjusts GOGC after each collection until ctx ends, then sets it
// back. A nil HeapFloor returns at once.
func (f *HeapFloor) Run(ctx context.Context) {
	if f == nil {
		return
	}
	// A cleanup on an object nothing refers to runs after the next
	// collection: one such object at a time tells Run of each cycle,
	// and an idle process that does not collect does not wake Run.
	cycles := make(chan struct{}, 1)
	arm := func() {
		runtime.AddCleanup(new(sentinel), func(c chan struct{}) {
			select {
			case c <- struct{}{}:
			default:
			}
		}, cycles)
	}
	arm()
	percent := f.base
	defer func() {
		if percent != f.base {
			f.set(f.base)
			f.changed(percent, f.base)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-cycles:
		}
		arm()
		next := floorPercent(f.live(), f.floor, f.base)
		if worthSetting(percent, next, f.base) {
			f.set(next)
			f.changed(percent, next)
			percent = next
		}
	}
}

// sentinel is the object whose cleanup marks a collection. It holds a
// pointer so that it is allocated on its own, not in a tiny block shared
// with other small objects that may outlive it.
type sentinel struct{ _ *byte }

// floorPercent returns the GOGC that puts the heap goal of a collection
// that left live bytes at floor: base or more, and no more than the
// runtime's own heap minimum allows (it grows with GOGC, so past that the
// goal would be above the floor).
func floorPercent(live, floor uint64, base int) int {
	most := int(floor * 100 / runtimeHeapMinimum)
	if live == 0 {
		return max(most, base)
	}
	p := int(floor*100/live) - 100
	return max(min(p, most), base)
}

// worthSetting reports whether GOGC should go from percent to next: back
// to base, or off by more than a fifth, so that a live heap that drifts a
// little does not change it after every collection.
func worthSetting(percent, next, base int) bool {
	if next == percent {
		return false
	}
	if next == base {
		return true
	}
	return next*5 > percent*6 || next*5 < percent*4
}

// readMetric reads one runtime metric of kind uint64 or float64.
func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	switch s[0].Value.Kind() {
	case metrics.KindUint64:
		return s[0].Value.Uint64()
	case metrics.KindFloat64:
		return uint64(s[0].Value.Float64())
	}
	return 0
}
