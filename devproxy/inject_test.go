package devproxy

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// seeded returns a Random for Options that gives the same numbers on
// every run.
func seeded(seed uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

// startInjected serves config, written into dir, with a seeded Random.
func startInjected(t *testing.T, dir, config string, set func(*Options)) *testProxy {
	t.Helper()
	file := filepath.Join(dir, "devproxy.yaml")
	must(t, os.WriteFile(file, []byte(config), 0o644))
	return startProxyOpts(t, file, func(o *Options) {
		o.Random = seeded(21)
		if set != nil {
			set(o)
		}
	})
}

func TestInjectLatency(t *testing.T) {
	backend := namedBackend(t, "api")
	p := startInjected(t, t.TempDir(), "routes:\n  /api:\n    target: "+backend.URL+"\n    latency: 40ms..120ms\n", nil)
	seen := map[time.Duration]bool{}
	for i := range 8 {
		start := time.Now()
		res, body := p.get(t, "/api/x")
		took := time.Since(start)
		mark := res.Header.Get(injectedHeader)
		d, err := time.ParseDuration(strings.TrimPrefix(mark, "latency "))
		if res.StatusCode != 200 || body != "api" || err != nil {
			t.Fatalf("GET /api/x #%d: got %d %q, %s %q", i, res.StatusCode, body, injectedHeader, mark)
		}
		if d < 40*time.Millisecond || d > 120*time.Millisecond || took < d {
			t.Errorf("GET /api/x #%d: latency %s, answered in %s, want 40ms to 120ms and no sooner", i, d, took)
		}
		seen[d] = true
	}
	if len(seen) < 4 {
		t.Errorf("latencies %v: want them spread over the range", seen)
	}
	p.log.waitLines(t, 8, "/api/x", "injected latency ")
}

func TestInjectFailRate(t *testing.T) {
	dir := t.TempDir()
	p := startInjected(t, dir, "routes:\n  /api:\n    respond: {json: {ok: true}}\n    fail: {rate: 0.1, status: 503}\n", nil)
	const n = 1000
	failed := 0
	for i := range n {
		res, body := p.get(t, "/api/x")
		switch {
		case res.StatusCode == 200 && body == `{"ok":true}` && res.Header.Get(injectedHeader) == "":
		case res.StatusCode == 503 && res.Header.Get(injectedHeader) == "fail 503" && res.Header.Get("X-Devproxy-Error") == "1" &&
			strings.Contains(body, "injected failure"):
			failed++
		default:
			t.Fatalf("GET /api/x #%d: got %d %s %q %q", i, res.StatusCode, injectedHeader, res.Header.Get(injectedHeader), body)
		}
	}
	// 1000 draws at 0.1: a mean of 100 and a standard deviation of 9.5;
	// four of them either way.
	t.Logf("%d of %d requests failed at rate 0.1", failed, n)
	if failed < 62 || failed > 138 {
		t.Errorf("%d of %d requests failed at rate 0.1, want 62 to 138", failed, n)
	}
	// Every injected failure has its log line: none is folded into a
	// repeated failure.
	p.log.waitLines(t, failed, "/api/x", "503", "injected fail 503")
	if s := p.log.String(); strings.Contains(s, "more times") {
		t.Errorf("log folded injected failures:\n%s", s)
	}
}

func TestInjectRateLimit(t *testing.T) {
	var now atomic.Pointer[time.Time]
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now.Store(&t0)
	clock := func() time.Time { return *now.Load() }
	backend := namedBackend(t, "api")
	p := startInjected(t, t.TempDir(), "routes:\n  /api:\n    target: "+backend.URL+"\n    rate_limit: {requests: 3, per: 1m}\n",
		func(o *Options) { o.Now = clock })
	for i := range 3 {
		res, body := p.get(t, "/api")
		if res.StatusCode != 200 || body != "api" || res.Header.Get(injectedHeader) != "" {
			t.Fatalf("GET /api #%d under the limit: got %d %q %q", i, res.StatusCode, body, res.Header.Get(injectedHeader))
		}
	}
	later := t0.Add(15 * time.Second)
	now.Store(&later)
	res, body := p.get(t, "/api")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "45" || res.Header.Get(injectedHeader) != "rate_limit 429" ||
		!strings.Contains(body, "injected rate limit: more than 3 requests per 1m0s") {
		t.Errorf("GET /api #4: got %d Retry-After %q %s %q %q, want 429, 45 and rate_limit 429",
			res.StatusCode, res.Header.Get("Retry-After"), injectedHeader, res.Header.Get(injectedHeader), body)
	}
	p.log.waitLines(t, 1, "429", "injected rate_limit 429")
	next := t0.Add(time.Minute)
	now.Store(&next)
	p.wantBody(t, "/api", "api")
}

func TestInjectThrottle(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 4 MiB at 1 MiB/s")
	}
	const size, rate = 2 << 20, 1 << 20
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			n, _ := io.Copy(io.Discard, r.Body)
			io.WriteString(w, strconv.FormatInt(n, 10))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Write(payload)
	}))
	defer backend.Close()
	p := startInjected(t, t.TempDir(), "routes:\n  /api:\n    target: "+backend.URL+"\n    throttle: 1MiB/s\n", nil)

	within := func(what string, took time.Duration) {
		t.Helper()
		got := float64(size) / took.Seconds()
		t.Logf("%s: %.0f B/s over %s (%.1f%% of the throttle)", what, got, took, 100*got/rate)
		if got < 0.9*rate || got > 1.1*rate {
			t.Errorf("%s: %.0f B/s over %s, want %d B/s within 10%%", what, got, took, rate)
		}
	}
	t.Run("download", func(t *testing.T) {
		start := time.Now()
		res, err := http.Get(p.url + "/api/big")
		must(t, err)
		defer res.Body.Close()
		if got := res.Header.Get(injectedHeader); got != "throttle 1MiB/s" {
			t.Errorf("%s = %q, want throttle 1MiB/s", injectedHeader, got)
		}
		// The body streams: its first bytes arrive long before its end.
		first := make([]byte, 1)
		_, err = io.ReadFull(res.Body, first)
		must(t, err)
		if ttfb := time.Since(start); ttfb > 500*time.Millisecond {
			t.Errorf("first byte after %s: the throttled body was buffered", ttfb)
		}
		n, err := io.Copy(io.Discard, res.Body)
		must(t, err)
		if n+1 != size {
			t.Fatalf("got %d bytes, want %d", n+1, size)
		}
		within("download", time.Since(start))
	})
	t.Run("upload", func(t *testing.T) {
		start := time.Now()
		res, body := p.do(t, "POST", "/api/upload", bytes.NewReader(payload), nil)
		if res.StatusCode != 200 || body != strconv.Itoa(size) {
			t.Fatalf("POST /api/upload: got %d %q", res.StatusCode, body)
		}
		within("upload", time.Since(start))
	})
	p.log.waitLines(t, 2, "/api", "injected throttle 1MiB/s")
}

func TestInjectComposes(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"mocks/x/GET.http": "HTTP/1.1 200 OK\nContent-Type: text/plain\n\nfrom the recording"})
	p := startInjected(t, dir, "routes:\n  /api:\n    replay: ./mocks\n    latency: 30ms\n    throttle: 64KiB/s\n"+
		"  /mock:\n    respond: {body: hi}\n    latency: 10ms\n", nil)
	res, body := p.get(t, "/api/x")
	if res.StatusCode != 200 || body != "from the recording" || res.Header.Get(injectedHeader) != "latency 30ms, throttle 64KiB/s" {
		t.Errorf("GET /api/x: got %d %q %s %q", res.StatusCode, body, injectedHeader, res.Header.Get(injectedHeader))
	}
	p.log.waitLines(t, 1, "/api/x", "/api replay", "replayed injected latency 30ms, throttle 64KiB/s")
	res, body = p.get(t, "/mock")
	if res.StatusCode != 200 || body != "hi" || res.Header.Get(injectedHeader) != "latency 10ms" {
		t.Errorf("GET /mock: got %d %q %s %q", res.StatusCode, body, injectedHeader, res.Header.Get(injectedHeader))
	}
	p.log.waitLines(t, 1, "/mock", "injected latency 10ms")
}
