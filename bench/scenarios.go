package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

const mib = 1 << 20

// reloads is how many saves the reload scenario times.
const reloads = 20

// scenario is one line pair of the table: the same load on the backend
// directly and through devproxy.
type scenario struct {
	name  string // as -only names it
	title string
	// unit names the rate column ("req/s", "msg/s"); "" when a rate means
	// nothing and only the latencies count.
	unit string
	// mibps shows the bytes moved per second.
	mibps bool
	// proxyOnly scenarios have no direct row.
	proxyOnly bool
	// group is the name -only also selects the scenario by ("" none).
	group string
	// cold is true for a page-load scenario's cold loads.
	cold bool
	run  func(b *bench, ctx context.Context, t target, mark func(start bool)) window
}

// target is where a scenario's load goes: the backend itself, a devproxy
// or nginx.
type target struct {
	name string
	url  string
	in   *instance // devproxy; nil for the backend hit directly and for nginx
	ng   *nginx    // nil but for nginx
}

// proxied is false for the backend hit directly.
func (t target) proxied() bool { return t.in != nil || t.ng != nil }

// cpuTime returns the CPU time the proxy has used: devproxy's, or that of
// nginx's master and workers.
func (t target) cpuTime() (time.Duration, error) {
	if t.ng != nil {
		return t.ng.cpuTime()
	}
	return t.in.cpuTime()
}

func scenarios() []scenario {
	return []scenario{
		{name: "small", title: "GET 1 KiB, keep-alive, -conns", unit: "req/s", run: func(b *bench, ctx context.Context, t target, mark func(bool)) window {
			return b.get(ctx, t, "/api/small", b.conns, mark)
		}},
		{name: "small1", title: "GET 1 KiB, keep-alive, 1 conn", unit: "req/s", run: func(b *bench, ctx context.Context, t target, mark func(bool)) window {
			return b.get(ctx, t, "/api/small", 1, mark)
		}},
		{name: "download", title: "GET 1 MiB, -bigconns", unit: "req/s", mibps: true, run: func(b *bench, ctx context.Context, t target, mark func(bool)) window {
			return b.get(ctx, t, "/api/big", b.bigConns, mark)
		}},
		{name: "upload", title: "POST 1 MiB, -bigconns", unit: "req/s", mibps: true, run: (*bench).upload},
		{name: "ws", title: "WebSocket 64 B round trip, -conns", unit: "msg/s", run: (*bench).websocket},
		{name: "sse", title: "SSE first event, gzip accepted", run: (*bench).sse},
		{name: "reload", title: "saved config takes effect", proxyOnly: true, run: (*bench).reload},
		{name: "pagecold", group: "pageload", cold: true, title: "page load, cold, 6 conns", unit: "loads/s", run: pageload(true)},
		{name: "pagewarm", group: "pageload", title: "page reload, warm, 6 conns", unit: "loads/s", run: pageload(false)},
	}
}

// get loads path with GETs from conns keep-alive connections.
func (b *bench) get(ctx context.Context, t target, path string, conns int, mark func(bool)) window {
	client := newClient(conns)
	defer client.CloseIdleConnections()
	u := t.url + path
	return drive(ctx, conns, b.warmup, b.duration, mark, func(ctx context.Context, _ int) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, err
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: status %d, want 200", path, res.StatusCode)
		}
		return n, err
	})
}

// upload POSTs 1 MiB bodies to /api/echo, which answers the length it read.
func (b *bench) upload(ctx context.Context, t target, mark func(bool)) window {
	client := newClient(b.bigConns)
	defer client.CloseIdleConnections()
	body := bytes.Repeat([]byte("u"), mib)
	want := fmt.Sprintf("%d\n", mib)
	u := t.url + "/api/echo"
	return drive(ctx, b.bigConns, b.warmup, b.duration, mark, func(ctx context.Context, _ int) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		got, err := io.ReadAll(io.LimitReader(res.Body, 64))
		res.Body.Close()
		switch {
		case err != nil:
			return 0, err
		case res.StatusCode != http.StatusOK:
			return 0, fmt.Errorf("POST /api/echo: status %d, want 200", res.StatusCode)
		case string(got) != want:
			return 0, fmt.Errorf("POST /api/echo: backend read %q bytes, want %q", strings.TrimSpace(string(got)), strings.TrimSpace(want))
		}
		return int64(len(body)), nil
	})
}

// websocket opens -conns WebSockets to the backend's echo and times
// message round trips on each.
func (b *bench) websocket(ctx context.Context, t target, mark func(bool)) window {
	host := strings.TrimPrefix(t.url, "http://")
	clients := make([]*wsClient, 0, b.conns)
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	for range b.conns {
		c, err := wsDial(host, "/api/ws", 5*time.Second)
		if err != nil {
			return window{errs: 1, err: err}
		}
		// A lost echo must not outlive the scenario.
		_ = c.c.SetDeadline(time.Now().Add(b.warmup + b.duration + 5*time.Second))
		clients = append(clients, c)
	}
	msg := bytes.Repeat([]byte("m"), 64)
	return drive(ctx, b.conns, b.warmup, b.duration, mark, func(_ context.Context, worker int) (int64, error) {
		return int64(len(msg)), clients[worker].roundTrip(msg)
	})
}

// sse times the first event of /api/sse for a client that accepts gzip,
// as browsers do. The backend sends it 100 ms after the headers: anything
// well above that is a proxy holding the stream back.
func (b *bench) sse(ctx context.Context, t target, mark func(bool)) window {
	const streams = 4
	client := newClient(streams)
	defer client.CloseIdleConnections()
	u := t.url + "/api/sse"
	return drive(ctx, streams, b.warmup, b.duration, mark, func(ctx context.Context, _ int) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		// Closing before the end drops the connection, as a browser's
		// EventSource.close does.
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET /api/sse: status %d, want 200", res.StatusCode)
		}
		if ce := res.Header.Get("Content-Encoding"); ce != "" {
			return 0, fmt.Errorf("GET /api/sse: Content-Encoding %q, want the stream as the backend sent it", ce)
		}
		br := bufio.NewReader(res.Body)
		var n int64
		for {
			line, err := br.ReadString('\n')
			n += int64(len(line))
			if strings.HasPrefix(line, "data:") {
				return n, nil
			}
			if err != nil {
				return n, fmt.Errorf("GET /api/sse: no event before %v", err)
			}
		}
	})
}

// reload saves a config that adds a route the way editors do (write a new
// file, rename it over the old one) and times until the route answers,
// reloads times in a row.
func (b *bench) reload(ctx context.Context, t target, mark func(bool)) window {
	in := t.in
	client := newClient(1)
	defer client.CloseIdleConnections()
	listen := strings.TrimPrefix(in.url, "http://")
	var w window
	mark(true)
	began := time.Now()
	for i := range reloads {
		if ctx.Err() != nil {
			break
		}
		prefix := fmt.Sprintf("/added%d", i)
		cfg := baseConfig(listen, in.frontend, in.backend) + fmt.Sprintf("  %s:\n    target: %s\n    strip_prefix: true\n", prefix, in.backend)
		tmp := in.config + ".new"
		if err := os.WriteFile(tmp, []byte(cfg), 0o644); err != nil {
			return window{errs: 1, err: err}
		}
		saved := time.Now()
		if err := os.Rename(tmp, in.config); err != nil {
			return window{errs: 1, err: err}
		}
		// Until the reload, the frontend (the backend, unstripped) answers
		// the new prefix with 404.
		if err := pollUntilOK(ctx, client, in.url+prefix+"/api/small", 10*time.Second); err != nil {
			w.errs++
			if w.err == nil {
				w.err = err
			}
			continue
		}
		w.ops++
		w.lat = append(w.lat, time.Since(saved))
	}
	w.elapsed = time.Since(began)
	mark(false)
	slices.Sort(w.lat)
	return w
}

// pollUntilOK GETs u until it answers 200, every 200 µs, for up to timeout.
func pollUntilOK(ctx context.Context, client *http.Client, u string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		res, err := client.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			last = res.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Microsecond):
		}
	}
	p, _ := url.Parse(u)
	return fmt.Errorf("GET %s: no 200 within %s of the save (last: %s)", p.Path, timeout, last)
}
