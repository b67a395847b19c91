package devproxy

import (
	"io"
	"sync"
	"sync/atomic"
)

// streams tracks the connections that never finish on their own, WebSockets
// and server-sent event streams, so that a shutdown can end them at once
// instead of waiting out its grace period for them.
type streams struct {
	mu      sync.Mutex
	closing bool
	m       map[stopper]struct{}
}

// stopper is a stream that can be ended from outside.
type stopper interface{ stop() }

func newStreams() *streams { return &streams{m: map[stopper]struct{}{}} }

// track keeps s to stop at shutdown; if a shutdown already began, s is stopped at once.
func (ss *streams) track(s stopper) {
	ss.mu.Lock()
	closing := ss.closing
	if !closing {
		ss.m[s] = struct{}{}
	}
	ss.mu.Unlock()
	if closing {
		s.stop()
	}
}

// untrack forgets s, which ended on its own.
func (ss *streams) untrack(s stopper) {
	ss.mu.Lock()
	delete(ss.m, s)
	ss.mu.Unlock()
}

// stopAll ends every stream, and every stream tracked from now on.
func (ss *streams) stopAll() {
	ss.mu.Lock()
	ss.closing = true
	all := make([]stopper, 0, len(ss.m))
	for s := range ss.m {
		all = append(all, s)
	}
	clear(ss.m)
	ss.mu.Unlock()
	for _, s := range all {
		s.stop()
	}
}

// streamBody is the body of an event stream from a target. Stopping it
// makes the copy to the client end as if the target had finished, so the
// client sees a complete response and an EventSource reconnects.
type streamBody struct {
	io.ReadCloser
	reg     *streams
	stopped atomic.Bool
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && b.stopped.Load() {
		err = io.EOF
	}
	return n, err
}

func (b *streamBody) Close() error {
	b.reg.untrack(b)
	return b.ReadCloser.Close()
}

func (b *streamBody) stop() {
	b.stopped.Store(true)
	_ = b.ReadCloser.Close()
}

// stop closes a WebSocket's client connection; ReverseProxy then closes
// the target's side.
func (c *countingConn) stop() { _ = c.Conn.Close() }
