// Package procs sizes Go's runtime to devproxy's load. The Governor
// (this file) sets the scheduler to one P (one thread running Go code at
// a time) while the process uses little CPU, every P the runtime would
// use when it is busy. The HeapFloor (heapfloor.go) keeps the garbage
// collector from running every few MiB while the live heap is small.
//
// A development proxy serves one person's browser. Most of the time it
// waits, then answers a page load's few hundred requests in bursts. With
// more than one P, each wake-up of a goroutine by the network poller wakes
// a second thread that spins looking for work, finds none and sleeps
// again: on a page load replayed as a browser paces it (go run ./bench
// -only pageload -think 1ms) that was 1.2 futex calls and 0.9 nanosleeps
// per request, and one P took 10% off the CPU of a cold load and 19% off a
// warm reload, for the same load times. Under a load that needs more than
// one core, all of them come back within an interval.
package procs

import (
	"context"
	"runtime"
	"time"
)

// Thresholds, in cores: the CPU time the process used over an interval,
// divided by the interval.
const (
	// raiseAt is the use at which one P becomes all of them: over half a
	// core, the process may be waiting for the one it has.
	raiseAt = 0.5
	// lowerAt is the use under which all the Ps become one again, once
	// it has lasted quietFor intervals.
	lowerAt  = 0.25
	quietFor = 8
	// idleAt is the use under which the process counts as idle: it is
	// then looked at every idleInterval only, so that an idle devproxy
	// wakes no more than that.
	idleAt = 0.01
)

// Governor sets GOMAXPROCS from the CPU the process uses.
type Governor struct {
	max          int
	interval     time.Duration
	idleInterval time.Duration
	cpu          func() (time.Duration, error)
	set          func(int) int
	changed      func(from, to int)
}

// New returns a governor that switches between one P and the GOMAXPROCS
// the process has now. It returns nil when there is nothing to govern:
// one P already, or a GOMAXPROCS the user chose (the environment
// variable), which devproxy leaves as it is, or a system where the
// process's CPU time cannot be read.
func New(getenv func(string) string) *Governor {
	if getenv("GOMAXPROCS") != "" {
		return nil
	}
	max := runtime.GOMAXPROCS(0)
	if _, err := processCPU(); err != nil || max < 2 {
		return nil
	}
	return &Governor{
		max:          max,
		interval:     250 * time.Millisecond,
		idleInterval: 5 * time.Second,
		cpu:          processCPU,
		set:          runtime.GOMAXPROCS,
		changed:      func(int, int) {},
	}
}

// Run governs until ctx ends, then gives the process back the Ps it had.
// It starts with one P. A nil governor returns at once.
func (g *Governor) Run(ctx context.Context) {
	if g == nil {
		return
	}
	last, err := g.cpu()
	if err != nil {
		return
	}
	// A devproxy that has just started waits for its first page load:
	// one P from the start, not after quietFor intervals. A browser's
	// first load came within those two seconds, with two Ps.
	procs, quiet := 1, 0
	g.set(1)
	g.changed(g.max, 1)
	defer func() {
		if procs != g.max {
			g.set(g.max)
			g.changed(procs, g.max)
		}
	}()
	lastAt := time.Now()
	t := time.NewTimer(g.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, err := g.cpu()
		if err != nil {
			return
		}
		at := time.Now()
		use := float64(now-last) / float64(at.Sub(lastAt))
		last, lastAt = now, at
		var next int
		next, quiet = decide(procs, g.max, use, quiet)
		if next != procs {
			g.set(next)
			g.changed(procs, next)
			procs = next
		}
		wait := g.interval
		if procs == 1 && use < idleAt {
			wait = g.idleInterval
		}
		t.Reset(wait)
	}
}

// decide returns the Ps to use after an interval in which the process used
// use cores with procs Ps, and the count of quiet intervals so far.
func decide(procs, max int, use float64, quiet int) (int, int) {
	if procs == 1 {
		if use >= raiseAt {
			return max, 0
		}
		return 1, 0
	}
	if use >= lowerAt {
		return procs, 0
	}
	if quiet++; quiet >= quietFor {
		return 1, 0
	}
	return procs, quiet
}
