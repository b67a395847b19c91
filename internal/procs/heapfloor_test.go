package procs

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestHeapFloorFollowsLiveHeap runs the floor on this test process, with
// its real collections and the real GOGC: a small live heap raises GOGC
// until the goal is the floor; 64 MiB kept live brings it back to what it
// was; let go, it rises again; when Run ends, GOGC is what it was.
func TestHeapFloorFollowsLiveHeap(t *testing.T) {
	f := NewHeapFloor(func(string) string { return "" })
	if f == nil {
		t.Skip("the collector is off")
	}
	base := f.base
	t.Cleanup(func() { debug.SetGCPercent(base) })
	changes := make(chan [2]int, 16)
	f.changed = func(from, to int) { changes <- [2]int{from, to} }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		f.Run(ctx)
		close(done)
	}()
	most := DefaultHeapFloor * 100 / runtimeHeapMinimum
	// want collects GOGC's changes until one ends at a value final takes;
	// each change on the way must go the way step says.
	want := func(step string, way func(from, to int) bool, final func(to int) bool, what string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			runtime.GC() // a collection; Run hears of it from its cleanup
			select {
			case c := <-changes:
				if !way(c[0], c[1]) {
					t.Fatalf("%s: GOGC went %d → %d, want %s", step, c[0], c[1], what)
				}
				if got := int(readMetric("/gc/gogc:percent")); got != c[1] {
					t.Fatalf("%s: GOGC is %d, Run said %d", step, got, c[1])
				}
				if final(c[1]) {
					return
				}
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatalf("%s: GOGC stayed %d after 30 s, want %s", step, readMetric("/gc/gogc:percent"), what)
			}
		}
	}
	up := func(from, to int) bool { return to > from && to <= most }
	down := func(from, to int) bool { return to < from && to >= base }
	raised := func(to int) bool { return to > base }

	want("small live heap", up, raised, "a raise from the start value")

	// Collections while the 64 MiB are made may see part of them: GOGC
	// may come down in steps.
	live := make([][]byte, 64)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	want("64 MiB live", down, func(to int) bool { return to == base }, "down to the start value")
	runtime.KeepAlive(live)
	live = nil

	want("let go", up, raised, "a raise again")

	cancel()
	<-done
	select {
	case c := <-changes:
		if c[1] != base {
			t.Fatalf("Run ended: GOGC went %d → %d, want back to %d", c[0], c[1], base)
		}
	default:
		t.Fatal("Run ended without setting GOGC back")
	}
	if got := int(readMetric("/gc/gogc:percent")); got != base {
		t.Fatalf("Run ended: GOGC is %d, want %d", got, base)
	}
}

func TestFloorPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 800},        // nothing live: the most the runtime's minimum allows
		{1 * mib, 800},  // 3100 would put the goal at 32 MiB, but the minimum would be 128
		{4 * mib, 700},  // 4 × 8 = 32
		{8 * mib, 300},  // 8 × 4
		{16 * mib, 100}, // half the floor: as it was
		{64 * mib, 100},
	} {
		if got := floorPercent(tc.live, DefaultHeapFloor, 100); got != tc.want {
			t.Errorf("floorPercent(%d MiB) = %d, want %d", tc.live/mib, got, tc.want)
		}
	}
	if got := floorPercent(64*mib, DefaultHeapFloor, 150); got != 150 {
		t.Errorf("with GOGC 150 at start and 64 MiB live: %d, want 150", got)
	}
}

func TestWorthSetting(t *testing.T) {
	for _, tc := range []struct {
		percent, next int
		want          bool
	}{
		{100, 100, false},
		{100, 800, true},
		{800, 700, false}, // an eighth less
		{800, 600, true},
		{700, 800, false},
		{600, 800, true},
		{120, 100, true}, // back to the start value, however close
	} {
		if got := worthSetting(tc.percent, tc.next, 100); got != tc.want {
			t.Errorf("worthSetting(%d, %d) = %v, want %v", tc.percent, tc.next, got, tc.want)
		}
	}
}

func TestHeapFloorLeavesChosenSettings(t *testing.T) {
	for _, v := range []string{"GOGC", "GOMEMLIMIT"} {
		if f := NewHeapFloor(func(k string) string {
			if k == v {
				return "200"
			}
			return ""
		}); f != nil {
			t.Errorf("with %s set: a HeapFloor, want nil", v)
		}
	}
}
