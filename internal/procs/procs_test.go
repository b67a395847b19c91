package procs

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestGovernorFollowsLoad runs the governor on this test process, with
// its real CPU time and the real runtime.GOMAXPROCS: it starts with one
// P; two goroutines that burn CPU bring every P back; when they stop, one
// P again; when the governor ends, the process has its Ps back.
func TestGovernorFollowsLoad(t *testing.T) {
	g := testGovernor(t)
	max := g.max
	g.interval, g.idleInterval = 20*time.Millisecond, 100*time.Millisecond
	changes := make(chan [2]int, 16)
	g.changed = func(from, to int) { changes <- [2]int{from, to} }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		g.Run(ctx)
		close(done)
	}()
	want := func(step string, from, to int) {
		t.Helper()
		select {
		case c := <-changes:
			if c != [2]int{from, to} {
				t.Fatalf("%s: GOMAXPROCS went %d → %d, want %d → %d", step, c[0], c[1], from, to)
			}
			if got := runtime.GOMAXPROCS(0); got != to {
				t.Fatalf("%s: GOMAXPROCS is %d, want %d", step, got, to)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: GOMAXPROCS stayed %d after 30 s, want %d", step, runtime.GOMAXPROCS(0), to)
		}
	}

	want("started", max, 1)

	stop := make(chan struct{})
	for range 2 {
		go burn(stop)
	}
	want("busy", 1, max)
	close(stop)
	want("idle again", max, 1)

	cancel()
	<-done
	want("governor ended", 1, max)
}

// TestGovernorStartsWithOneP: the governor sets one P as it starts, not
// after the quiet intervals (an hour each here) that lower it later.
func TestGovernorStartsWithOneP(t *testing.T) {
	g := testGovernor(t)
	max := g.max
	g.interval, g.idleInterval = time.Hour, time.Hour
	changes := make(chan [2]int, 4)
	g.changed = func(from, to int) { changes <- [2]int{from, to} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		g.Run(ctx)
		close(done)
	}()
	select {
	case c := <-changes:
		if c != [2]int{max, 1} || runtime.GOMAXPROCS(0) != 1 {
			t.Fatalf("at start: GOMAXPROCS went %d → %d and is %d, want %d → 1", c[0], c[1], runtime.GOMAXPROCS(0), max)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("GOMAXPROCS stayed %d for 30 s after the governor started, want 1", runtime.GOMAXPROCS(0))
	}
	cancel()
	<-done
	if c := <-changes; c != [2]int{1, max} || runtime.GOMAXPROCS(0) != max {
		t.Fatalf("governor ended: GOMAXPROCS went %d → %d and is %d, want 1 → %d", c[0], c[1], runtime.GOMAXPROCS(0), max)
	}
}

// testGovernor returns a governor of this process, whose GOMAXPROCS is
// set back when the test ends, or skips the test when there is nothing
// to govern.
func testGovernor(t *testing.T) *Governor {
	t.Helper()
	g := New(func(string) string { return "" })
	if g == nil {
		t.Skip("one P, or no CPU time to read: nothing to govern")
	}
	max := g.max
	t.Cleanup(func() { runtime.GOMAXPROCS(max) })
	return g
}

// burn uses CPU until stop is closed.
func burn(stop <-chan struct{}) {
	x := uint64(1)
	for {
		select {
		case <-stop:
			return
		default:
		}
		for i := 0; i < 100_000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if x == 0 {
			panic("unreachable")
		}
	}
}

func TestGovernorLeavesAChosenGOMAXPROCS(t *testing.T) {
	g := New(func(k string) string {
		if k == "GOMAXPROCS" {
			return "2"
		}
		return ""
	})
	if g != nil {
		t.Fatal("New with GOMAXPROCS set: got a governor, want nil (the user's setting stays)")
	}
	g.Run(context.Background()) // a nil governor returns at once
}

func TestDecide(t *testing.T) {
	for _, c := range []struct {
		procs       int
		use         float64
		quiet       int
		want, wantQ int
		what        string
	}{
		{1, 0.1, 0, 1, 0, "light load stays on one P"},
		{1, 0.49, 0, 1, 0, "just under half a core stays"},
		{1, 0.5, 0, 4, 0, "half a core brings every P"},
		{1, 1.0, 0, 4, 0, "a whole core brings every P"},
		{4, 2.0, 3, 4, 0, "busy on every P stays, quiet count reset"},
		{4, 0.3, 5, 4, 0, "over lowerAt resets the quiet count"},
		{4, 0.1, 0, 4, 1, "one quiet interval counts"},
		{4, 0.1, quietFor - 2, 4, quietFor - 1, "not quiet long enough"},
		{4, 0.1, quietFor - 1, 1, 0, "quiet long enough: one P"},
	} {
		got, gotQ := decide(c.procs, 4, c.use, c.quiet)
		if got != c.want || gotQ != c.wantQ {
			t.Errorf("%s: decide(%d, 4, %v, %d) = %d, %d; want %d, %d", c.what, c.procs, c.use, c.quiet, got, gotQ, c.want, c.wantQ)
		}
	}
}
