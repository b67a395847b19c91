package devproxy

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestOfflineKeysHotReload adds, changes and removes each of record,
// replay, fallback, latency, fail, throttle and rate_limit on a running
// devproxy: every change shows on the next request, and an event stream
// opened before the first change keeps flowing through all of them.
func TestOfflineKeysHotReload(t *testing.T) {
	var count atomic.Int64
	events := make(chan string)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/events" {
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
			for {
				select {
				case e := <-events:
					fmt.Fprintf(w, "data: %s\n\n", e)
					w.(http.Flusher).Flush()
				case <-r.Context().Done():
					return
				}
			}
		}
		fmt.Fprintf(w, "n=%d", count.Add(1))
	}))
	defer backend.Close()
	staging := namedBackend(t, "staging")
	down := "http://127.0.0.1:" + closedPort(t)

	dir := t.TempDir()
	route := func(keys string) string { return "routes:\n  /api:\n    target: " + backend.URL + "\n" + keys }
	p := startInjected(t, dir, route(""), nil)

	res, err := http.Get(p.url + "/api/events")
	must(t, err)
	defer res.Body.Close()
	stream := bufio.NewReader(res.Body)
	streamed := func(step string) {
		t.Helper()
		go func() { events <- step }()
		line, err := stream.ReadString('\n')
		if err != nil || line != "data: "+step+"\n" {
			t.Fatalf("after %s: event stream read %q, %v; want it still open", step, line, err)
		}
		_, _ = stream.ReadString('\n')
	}
	streamed("start")

	get := func(t *testing.T) (*http.Response, string) {
		t.Helper()
		return p.get(t, "/api/n")
	}
	wantMark := func(t *testing.T, res *http.Response, status int, mark string) {
		t.Helper()
		if res.StatusCode != status || res.Header.Get(injectedHeader) != mark {
			t.Errorf("GET /api/n: got %d %s %q, want %d %q", res.StatusCode, injectedHeader, res.Header.Get(injectedHeader), status, mark)
		}
	}
	steps := []struct {
		name, config string
		check        func(t *testing.T)
	}{
		{"add latency", route("    latency: 20ms\n"), func(t *testing.T) {
			res, _ := get(t)
			wantMark(t, res, 200, "latency 20ms")
		}},
		{"change latency to fail", route("    fail: {rate: 1, status: 418}\n"), func(t *testing.T) {
			res, _ := get(t)
			wantMark(t, res, 418, "fail 418")
			p.log.waitFor(t, "config reloaded: changed /api options: injects latency 20ms → injects fail 1")
		}},
		{"rate_limit", route("    rate_limit: {requests: 1, per: 1h}\n"), func(t *testing.T) {
			res, _ := get(t)
			wantMark(t, res, 200, "")
			res, _ = get(t)
			wantMark(t, res, 429, "rate_limit 429")
		}},
		{"throttle", route("    throttle: 64KiB/s\n"), func(t *testing.T) {
			res, _ := get(t)
			wantMark(t, res, 200, "throttle 64KiB/s")
		}},
		{"record", route("    record: ./rec\n"), func(t *testing.T) {
			_, body := get(t)
			p.log.waitLines(t, 1, "/api/n", "recorded")
			b, err := os.ReadFile(filepath.Join(dir, "rec/n/GET.http"))
			if err != nil || !strings.HasSuffix(string(b), "\n\n"+body) {
				t.Errorf("recording of GET /api/n: %v\n%s\nwant it to end with %q", err, b, body)
			}
		}},
		{"replay", route("    replay: ./rec\n"), func(t *testing.T) {
			before := count.Load()
			_, body := get(t)
			if want := fmt.Sprintf("n=%d", before); body != want || count.Load() != before {
				t.Errorf("GET /api/n under replay: got %q with %d backend requests, want %q and none", body, count.Load()-before, want)
			}
		}},
		{"fallback", "routes:\n  /api:\n    target: " + down + "\n    fallback: " + staging.URL + "\n", func(t *testing.T) {
			if _, body := get(t); body != "staging" {
				t.Errorf("GET /api/n with local down: got %q, want the fallback's", body)
			}
		}},
		{"remove them all", route(""), func(t *testing.T) {
			before := count.Load()
			res, body := get(t)
			wantMark(t, res, 200, "")
			if want := fmt.Sprintf("n=%d", before+1); body != want {
				t.Errorf("GET /api/n: got %q, want %q from the backend", body, want)
			}
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			saveByRename(t, p.file, st.config)
			if err := p.waitReload(t); err != nil {
				t.Fatalf("reload: %v", err)
			}
			st.check(t)
		})
		streamed(st.name)
	}
	res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
}

func TestOfflineJSONLog(t *testing.T) {
	staging := namedBackend(t, "staging")
	local := "127.0.0.1:" + closedPort(t)
	p := startInjected(t, t.TempDir(), "routes:\n  /api:\n    target: http://"+local+"\n    fallback: "+staging.URL+"\n    latency: 5ms\n",
		func(o *Options) { o.LogJSON = true })
	p.wantBody(t, "/api/x", "staging")
	via := strings.TrimPrefix(staging.URL, "http://")
	p.log.waitLines(t, 1, `"path":"/api/x"`, `"target":"`+local+`"`, `"via":"`+via+`"`, `"marks":"fallback injected latency 5ms"`)
}
