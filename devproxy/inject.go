package devproxy

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
)

// injectedHeader marks every answer that devproxy slowed down or made
// up, with what it did ("latency 312ms, throttle 256KiB/s"), so that
// nobody takes it for the target's own behaviour. The log line ends with
// the same words after "injected".
const injectedHeader = "X-Devproxy-Injected"

// injectHandler adds a route's latency, failures, throttle and rate
// limit to what next answers, in that order of checks: a request over
// the rate limit is answered 429 at once; any other waits its latency,
// then may fail; the rest reach next with their bodies throttled.
type injectHandler struct {
	next  handler
	route string
	in    config.Inject
	// random returns a number in [0, 1): the latency within its range,
	// and whether a request fails.
	random func() float64
	now    func() time.Time
	// limit counts the requests of rate_limit; nil for none.
	limit *rateLimiter
}

func newInjectHandler(next handler, route string, in config.Inject, random func() float64, now func() time.Time) *injectHandler {
	h := &injectHandler{next: next, route: route, in: in, random: random, now: now}
	if in.RateRequests > 0 {
		h.limit = &rateLimiter{max: in.RateRequests, per: in.RatePer, now: now}
	}
	return h
}

func (h *injectHandler) serve(w http.ResponseWriter, r *http.Request, o *outcome) {
	if h.limit != nil {
		if ok, retry := h.limit.allow(); !ok {
			secs := strconv.Itoa(max(1, int(math.Ceil(retry.Seconds()))))
			h.refuse(w, r, o, "rate_limit 429", &proxyError{Status: http.StatusTooManyRequests,
				Err: fmt.Sprintf("injected rate limit: more than %d %s per %s; retry after %s s",
					h.in.RateRequests, plural(h.in.RateRequests, "request", "requests"), h.in.RatePer, secs),
				Hint:   "devproxy answered this 429, not the target: remove rate_limit from routes." + h.route + " to let every request through",
				Header: http.Header{"Retry-After": {secs}}})
			return
		}
	}
	var did []string
	if h.in.LatencyMax > 0 {
		d := h.in.LatencyMin + time.Duration(h.random()*float64(h.in.LatencyMax-h.in.LatencyMin))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			o.clientClosed()
			return
		}
		did = append(did, "latency "+d.Round(time.Millisecond).String())
	}
	if h.in.FailRate > 0 && h.random() < h.in.FailRate {
		did = append(did, "fail "+strconv.Itoa(h.in.FailStatus))
		h.refuse(w, r, o, strings.Join(did, ", "), &proxyError{Status: h.in.FailStatus,
			Err:  fmt.Sprintf("injected failure: fail answers %g of the requests with %d", h.in.FailRate, h.in.FailStatus),
			Hint: "devproxy answered this, not the target: remove fail from routes." + h.route + " to stop it"})
		return
	}
	iw := &injectWriter{ResponseWriter: w}
	if h.in.Throttle > 0 {
		did = append(did, "throttle "+formatRate(h.in.Throttle))
		iw.pace = newPacer(r.Context(), h.in.Throttle, h.now)
		if r.Body != nil && r.Body != http.NoBody {
			in := new(http.Request)
			*in = *r
			in.Body = &throttledBody{ReadCloser: r.Body, pace: newPacer(r.Context(), h.in.Throttle, h.now)}
			r = in
		}
	}
	iw.value = strings.Join(did, ", ")
	h.next.serve(iw, r, o)
	if iw.value != "" {
		// After what answered says its word: "replayed injected latency 30ms".
		o.mark("injected " + iw.value)
	}
}

// refuse answers r with an injected failure pe, marked with what.
func (h *injectHandler) refuse(w http.ResponseWriter, r *http.Request, o *outcome, what string, pe *proxyError) {
	o.injected = true
	o.mark("injected " + what)
	pe.Route = h.route
	if pe.Header == nil {
		pe.Header = http.Header{}
	}
	pe.Header.Set(injectedHeader, what)
	writeProxyError(w, r, o, pe)
}

// formatRate writes a throttle as the config would: 256KiB/s, 1MB/s.
func formatRate(bps int64) string {
	for _, u := range [...]struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1e9, "GB"}, {1 << 20, "MiB"}, {1e6, "MB"}, {1 << 10, "KiB"}, {1e3, "KB"}} {
		if bps >= u.size && bps%u.size == 0 {
			return strconv.FormatInt(bps/u.size, 10) + u.name + "/s"
		}
	}
	return strconv.FormatInt(bps, 10) + "B/s"
}

// rateLimiter counts requests in fixed windows of per: the first request
// after a window ended starts the next. A reload starts afresh.
type rateLimiter struct {
	max int
	per time.Duration
	now func() time.Time

	mu    sync.Mutex
	start time.Time
	n     int
}

// allow reports whether one more request fits the window, and when not,
// how long until the next window.
func (l *rateLimiter) allow() (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.start.IsZero() || now.Sub(l.start) >= l.per {
		l.start, l.n = now, 0
	}
	if l.n < l.max {
		l.n++
		return true, 0
	}
	return false, l.start.Add(l.per).Sub(now)
}

// injectWriter marks the response with what was injected and, under a
// throttle, writes its body in paced chunks, each flushed at once, so
// that the client receives it as over a slow network.
type injectWriter struct {
	http.ResponseWriter
	value  string
	marked bool
	// pace paces the body; nil for no throttle.
	pace *pacer
}

func (iw *injectWriter) WriteHeader(code int) {
	if code >= 200 && !iw.marked {
		iw.marked = true
		if iw.value != "" {
			iw.Header().Set(injectedHeader, iw.value)
		}
	}
	iw.ResponseWriter.WriteHeader(code)
}

func (iw *injectWriter) Write(p []byte) (int, error) {
	if !iw.marked {
		iw.WriteHeader(http.StatusOK)
	}
	if iw.pace == nil {
		return iw.ResponseWriter.Write(p)
	}
	written := 0
	for len(p) > 0 {
		n := min(len(p), iw.pace.chunk)
		if err := iw.pace.wait(n); err != nil {
			return written, err
		}
		m, err := iw.ResponseWriter.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		_ = http.NewResponseController(iw.ResponseWriter).Flush()
		p = p[n:]
	}
	return written, nil
}

// Flush passes flushes through.
func (iw *injectWriter) Flush() {
	_ = http.NewResponseController(iw.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (iw *injectWriter) Unwrap() http.ResponseWriter { return iw.ResponseWriter }

// throttledBody reads a request body no faster than its pacer allows.
type throttledBody struct {
	io.ReadCloser
	pace *pacer
}

func (b *throttledBody) Read(p []byte) (int, error) {
	if len(p) > b.pace.chunk {
		p = p[:b.pace.chunk]
	}
	n, err := b.ReadCloser.Read(p)
	if werr := b.pace.wait(n); werr != nil && err == nil {
		err = werr
	}
	return n, err
}

// pacer spreads bytes over time at a rate: the byte at offset k is due
// k/rate after the first.
type pacer struct {
	ctx   context.Context
	rate  int64
	now   func() time.Time
	start time.Time
	sent  int64
	// chunk is the most bytes sent at once: a twentieth of a second's
	// worth, at most 16 KiB, so that a slow rate still trickles.
	chunk int
}

func newPacer(ctx context.Context, rate int64, now func() time.Time) *pacer {
	return &pacer{ctx: ctx, rate: rate, now: now, chunk: int(max(1, min(rate/20, 16<<10)))}
}

// wait waits until n more bytes are due, or the request ends.
func (p *pacer) wait(n int) error {
	if n <= 0 {
		return nil
	}
	if p.start.IsZero() {
		p.start = p.now()
	}
	p.sent += int64(n)
	due := p.start.Add(time.Duration(float64(p.sent) / float64(p.rate) * float64(time.Second)))
	d := due.Sub(p.now())
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// injectSummary names what a route injects, for the banner.
func injectSummary(in config.Inject) string {
	var parts []string
	switch {
	case in.LatencyMax == 0:
	case in.LatencyMin == in.LatencyMax:
		parts = append(parts, "latency "+in.LatencyMax.String())
	default:
		parts = append(parts, "latency "+in.LatencyMin.String()+".."+in.LatencyMax.String())
	}
	if in.FailRate > 0 {
		parts = append(parts, fmt.Sprintf("fail %g", in.FailRate))
	}
	if in.Throttle > 0 {
		parts = append(parts, "throttle "+formatRate(in.Throttle))
	}
	if in.RateRequests > 0 {
		parts = append(parts, fmt.Sprintf("rate_limit %d/%s", in.RateRequests, in.RatePer))
	}
	return strings.Join(parts, ", ")
}
