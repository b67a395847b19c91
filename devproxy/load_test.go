package devproxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadDuration is how long the keep-alive load runs.
const loadDuration = 30 * time.Second

// timeWaits counts the loopback TCP sockets in TIME_WAIT with one end on a
// port of ports, or returns -1 where /proc does not tell.
func timeWaits(ports ...string) int {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return -1
	}
	defer f.Close()
	want := map[uint64]bool{}
	for _, p := range ports {
		n, _ := strconv.ParseUint(p, 10, 16)
		want[n] = true
	}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != "06" { // 06 is TIME_WAIT
			continue
		}
		for _, addr := range fields[1:3] {
			if _, port, ok := strings.Cut(addr, ":"); ok {
				if p, err := strconv.ParseUint(port, 16, 16); err == nil && want[p] {
					n++
					break
				}
			}
		}
	}
	return n
}

func TestLoadKeepAliveClients(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 30 s; skipped with -short")
	}
	const clients = 200
	var upstreamConns atomic.Int64
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	be.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			upstreamConns.Add(1)
		}
	}
	be.Start()
	defer be.Close()
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	p.get(t, "/__devproxy/status")
	leaks := startLeakCheck()
	upstreamConns.Store(0)

	var (
		requests, errs, clientConns atomic.Int64
		firstErr                    atomic.Pointer[string]
		wg                          sync.WaitGroup
		transports                  []*http.Transport
	)
	ctx, cancel := context.WithTimeout(context.Background(), loadDuration)
	defer cancel()
	for i := range clients {
		// One connection per client, kept alive, as a browser tab's.
		tr := &http.Transport{
			MaxIdleConnsPerHost: 1,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				clientConns.Add(1)
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}
		transports = append(transports, tr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: tr}
			for j := 0; ctx.Err() == nil; j++ {
				path := fmt.Sprintf("/api/%d/%d", i, j)
				var body io.Reader
				method := http.MethodGet
				if j%4 == 3 {
					method, body = http.MethodPost, strings.NewReader(strings.Repeat("b", 1000))
				}
				req, _ := http.NewRequest(method, p.url+path, body)
				res, err := c.Do(req)
				if err == nil {
					var b []byte
					b, err = io.ReadAll(res.Body)
					res.Body.Close()
					if err == nil && (res.StatusCode != 200 || string(b) != "ok "+path) {
						err = fmt.Errorf("got %d %q", res.StatusCode, b)
					}
				}
				requests.Add(1)
				if err != nil {
					errs.Add(1)
					msg := fmt.Sprintf("%s %s: %v", method, path, err)
					firstErr.CompareAndSwap(nil, &msg)
				}
			}
		}()
	}
	wg.Wait()
	_, bePort, _ := net.SplitHostPort(strings.TrimPrefix(be.URL, "http://"))
	_, pPort, _ := net.SplitHostPort(p.host)
	tw := timeWaits(bePort, pPort)
	t.Logf("%d clients for %s: %d requests (%.0f/s), %d errors, %d client connections, %d upstream connections, %d sockets in TIME_WAIT",
		clients, loadDuration, requests.Load(), float64(requests.Load())/loadDuration.Seconds(), errs.Load(), clientConns.Load(), upstreamConns.Load(), tw)
	if n := errs.Load(); n != 0 {
		t.Errorf("%d of %d requests failed; the first: %s", n, requests.Load(), *firstErr.Load())
	}
	// Each client needs one upstream connection at a time; a few more
	// open while a finished one is on its way back to the pool.
	if n := upstreamConns.Load(); n > 2*clients {
		t.Errorf("%d upstream connections for %d clients, want at most %d", n, clients, 2*clients)
	}
	if tw > 2*clients {
		t.Errorf("%d sockets in TIME_WAIT after %d requests, want at most %d", tw, requests.Load(), 2*clients)
	}

	for _, tr := range transports {
		tr.CloseIdleConnections()
	}
	p.srv.transports.retireAll()
	leaks.wait(t, "after the load")
}

func TestWebSocketCyclesLeakNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 WebSockets; skipped with -short")
	}
	const cycles, workers = 1000, 8
	be, ended := echoingWS(t)
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	p.get(t, "/__devproxy/status")
	leaks := startLeakCheck()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range cycles / workers {
				c, res, err := wsDial(t, p.host, "/api/ws", nil)
				if err != nil || c == nil {
					t.Errorf("cycle %d/%d: upgrade: %v %v", w, i, err, res)
					return
				}
				msg := fmt.Sprintf("hello %d/%d", w, i)
				if err := c.send([]byte(msg)); err != nil {
					t.Errorf("cycle %d/%d: send: %v", w, i, err)
				}
				if got, err := c.recv(); err != nil || string(got) != msg {
					t.Errorf("cycle %d/%d: got %q (%v), want %q", w, i, got, err, msg)
				}
				c.close()
			}
		}()
	}
	wg.Wait()
	for i := range cycles {
		select {
		case <-ended:
		case <-time.After(waitTimeout):
			t.Fatalf("%d of %d upstream WebSockets are still open", cycles-i, cycles)
		}
	}
	leaks.wait(t, "after 1000 WebSockets")
	p.log.waitFor(t, "WS      /api/ws", "closed")
}
