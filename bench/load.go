package main

import (
	"context"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// window is one measurement's outcome, whatever was measured: requests,
// messages, streams or reloads.
type window struct {
	ops     int64 // operations that completed inside the window
	errs    int64
	bytes   int64 // body bytes moved by those operations
	elapsed time.Duration
	lat     []time.Duration // sorted
	err     error           // the first error, to show what went wrong
}

func (w *window) percentile(q float64) time.Duration {
	if len(w.lat) == 0 {
		return 0
	}
	// Nearest rank: the smallest value with at least q of the samples at
	// or below it.
	i := int(q*float64(len(w.lat))+0.999999) - 1
	return w.lat[max(0, min(i, len(w.lat)-1))]
}

// op is one operation of a load: a request, a message round trip. worker
// is the index of the goroutine that calls it, for per-connection state.
// It returns the body bytes it moved.
type op func(ctx context.Context, worker int) (int64, error)

// drive calls fn in a loop from workers goroutines for warmup and then d.
// Only calls that end inside the last d count. mark is called at the start
// and at the end of that window, so that devproxy's CPU time is read
// exactly there. At the end of the window the context of calls still in
// flight is cancelled; drive returns once every worker has stopped.
func drive(ctx context.Context, workers int, warmup, d time.Duration, mark func(start bool), fn op) window {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	from := time.Now().Add(warmup)
	to := from.Add(d)

	type tally struct {
		ops, errs, bytes int64
		lat              []time.Duration
		err              error
	}
	tallies := make([]tally, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			t := &tallies[i]
			for ctx.Err() == nil {
				start := time.Now()
				n, err := fn(ctx, i)
				end := time.Now()
				if err != nil && ctx.Err() != nil {
					return // cut off at the end of the window
				}
				if end.Before(from) || end.After(to) {
					continue
				}
				if err != nil {
					t.errs++
					if t.err == nil {
						t.err = err
					}
					// A failing target answers fast: do not spin.
					time.Sleep(time.Millisecond)
					continue
				}
				t.ops++
				t.bytes += n
				t.lat = append(t.lat, end.Sub(start))
			}
		})
	}

	var w window
	if sleepUntil(ctx, from) {
		mark(true)
		began := time.Now()
		sleepUntil(ctx, to)
		mark(false)
		w.elapsed = time.Since(began)
	}
	cancel()
	wg.Wait()
	for _, t := range tallies {
		w.ops += t.ops
		w.errs += t.errs
		w.bytes += t.bytes
		w.lat = append(w.lat, t.lat...)
		if w.err == nil {
			w.err = t.err
		}
	}
	slices.Sort(w.lat)
	return w
}

// sleepUntil waits until t and reports whether ctx was still live then.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// newClient returns a keep-alive client that holds up to conns connections
// to one host, so that after the warm-up no request opens a connection.
func newClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil, // straight to 127.0.0.1, whatever HTTP_PROXY says
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		// The client asks for what it wants itself (gzip for the SSE
		// scenario) and reads bodies as they come.
		DisableCompression: true,
	}}
}
