package inspect

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/status"
	"github.com/devproxy/devproxy/internal/wsframe"
)

// waitTimeout bounds every wait on an event, a browser's script included:
// a guard against a hang, sized for go test -race on a loaded 2-core
// machine, never the expected wait.
const waitTimeout = 60 * time.Second

// A small stand-in for devproxy's core: it routes, proxies with
// httputil.ReverseProxy and calls the capture hooks where the core will
// (ServeHTTP start and end, the response writer's WriteHeader and Write, the
// request body, the WebSocket copy), so the tests see what the wiring will
// give.

// seenRequest is what the backend received.
type seenRequest struct {
	Method string
	URI    string
	Header http.Header
	Body   string
}

// backend is the API behind the test core's /api route.
type backend struct {
	*httptest.Server
	hits atomic.Int64
	seen chan seenRequest
}

func startBackend(t testing.TB) *backend {
	t.Helper()
	b := &backend{seen: make(chan seenRequest, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/items", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.hits.Add(1)
		b.seen <- seenRequest{r.Method, r.RequestURI, r.Header.Clone(), string(body)}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session=s3cret; Path=/; HttpOnly")
		_ = json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "items": []any{map[string]any{"id": 1, "name": "first"}}, "got": string(body)})
	})
	mux.HandleFunc("GET /api/small", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":1,"name":"first","tags":["a","b"],"price":12.5,"stock":true}`)
	})
	mux.HandleFunc("GET /api/gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = io.WriteString(zw, `{"compressed":true}`)
		_ = zw.Close()
	})
	mux.HandleFunc("GET /api/big", func(w http.ResponseWriter, r *http.Request) {
		n := 3 << 20
		if s := r.URL.Query().Get("n"); s != "" {
			_, _ = fmt.Sscan(s, &n)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if ct := r.URL.Query().Get("type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		chunk := make([]byte, 32<<10)
		for n > 0 {
			k := min(n, len(chunk))
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	mux.HandleFunc("GET /api/image", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(tinyPNG())
	})
	mux.HandleFunc("GET /api/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(w, "data: tick %d\n\n", i)
			if rc.Flush() != nil {
				return
			}
		}
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			wsframe.Accept(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
		_ = brw.Flush()
		var f wsframe.Framer
		for {
			op, msg, err := f.Read(brw.Reader)
			if err != nil || op == wsframe.OpClose {
				return
			}
			var out wsframe.Framer
			if err := out.Write(c, op, append([]byte("echo: "), msg...), false); err != nil {
				return
			}
		}
	})
	b.Server = httptest.NewServer(mux)
	t.Cleanup(b.Close)
	return b
}

// tinyPNG is a 1×1 PNG.
func tinyPNG() []byte {
	b, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
	return b
}

// testCore is the stand-in core with the inspector mounted.
type testCore struct {
	*httptest.Server
	store   *Store
	backend *backend
	cancel  context.CancelFunc
}

type coreOptions struct {
	store Options
	// capture off: the core passes a nil *Store.
	off bool
}

func startCore(t testing.TB, o coreOptions) *testCore {
	t.Helper()
	be := startBackend(t)
	var store *Store
	if !o.off {
		store = New(o.store)
	}
	target, _ := url.Parse(be.URL)
	down := closedAddr(t)
	static := t.TempDir()
	if err := os.WriteFile(filepath.Join(static, "page.html"), []byte("<!doctype html><title>app</title><link rel=\"icon\" href=\"data:,\"><h1>app</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &testCore{store: store, backend: be, cancel: cancel}
	proxyTo := func(u *url.URL) *httputil.ReverseProxy {
		return &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.Out.Host = pr.In.Host },
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				ex := exchangeFrom(r)
				what := fmt.Sprintf("%s %s: %s did not answer: %v", r.Method, r.URL.Path, u, err)
				hint := "start the API on " + u.Host
				ex.Fail(what, hint)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadGateway)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": what, "hint": hint})
			},
			// A WebSocket's 101 and its headers: the response writer's
			// header is only filled after the hijack.
			ModifyResponse: func(res *http.Response) error {
				if res.StatusCode == http.StatusSwitchingProtocols {
					exchangeFrom(res.Request).ResponseHeader(res.StatusCode, res.Header)
				}
				return nil
			},
			FlushInterval: -1,
		}
	}
	api := proxyTo(target)
	gone := proxyTo(&url.URL{Scheme: "http", Host: down})
	files := http.FileServer(http.Dir(static))
	var inspector http.Handler
	srvHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, DefaultPrefix) {
			if r.URL.Path == status.Path {
				// The core answers its status itself, next to the inspector.
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(status.Status{
					Config: "devproxy.yaml", Frontend: "./dist",
					Routes: []status.Route{{Path: "/api", Target: be.URL}, {Path: "/down", Target: "http://" + down}, {Path: "/mock", Respond: true}},
					Reload: status.Reload{OK: true, At: "2026-12-01T09:00:00Z"},
				})
				return
			}
			inspector.ServeHTTP(w, r) // not captured
			return
		}
		var where Where
		var h http.Handler
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/"), r.URL.Path == "/ws":
			where, h = Where{Kind: KindRoute, Route: "/api", Target: be.URL}, api
		case strings.HasPrefix(r.URL.Path, "/down/"):
			where, h = Where{Kind: KindRoute, Route: "/down", Target: "http://" + down}, gone
		case strings.HasPrefix(r.URL.Path, "/mock/"):
			where = Where{Kind: KindMock, Route: "/mock"}
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTeapot)
				_, _ = io.WriteString(w, `{"mock":true}`)
			})
		default:
			where, h = Where{Kind: KindStatic}, files
		}
		// ServeHTTP start: Begin once the route is known, then the body.
		ex := store.Begin(r, where)
		r.Body = ex.TeeRequestBody(r.Body)
		rec := &testRecorder{ResponseWriter: w, ex: ex}
		h.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex)))
		// ServeHTTP end, after a WebSocket's copy has ended too.
		size := rec.bytes
		if rec.conn != nil {
			size = rec.conn.up.Load() + rec.conn.down.Load()
		}
		ex.Finish(size, nil)
	})
	c.Server = httptest.NewUnstartedServer(srvHandler)
	inspector = NewHandler(ctx, store, HandlerOptions{Replay: srvHandler, Version: "test"})
	c.Start()
	t.Cleanup(func() { cancel(); c.Close() })
	return c
}

type exchangeKey struct{}

func exchangeFrom(r *http.Request) *Exchange {
	ex, _ := r.Context().Value(exchangeKey{}).(*Exchange)
	return ex
}

// closedAddr returns an address nothing listens on.
func closedAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// testRecorder is the core's response writer with the hooks in it.
type testRecorder struct {
	http.ResponseWriter
	ex          *Exchange
	wroteHeader bool
	bytes       int64
	conn        *tapConn
}

func (rec *testRecorder) WriteHeader(code int) {
	if code >= 200 && !rec.wroteHeader {
		rec.wroteHeader = true
		rec.ex.ResponseHeader(code, rec.Header())
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *testRecorder) Write(p []byte) (int, error) {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	n, err := rec.ResponseWriter.Write(p)
	rec.bytes += int64(n)
	rec.ex.ResponseBody(p[:n])
	return n, err
}

func (rec *testRecorder) Flush() { _ = http.NewResponseController(rec.ResponseWriter).Flush() }

func (rec *testRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *testRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(rec.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	rec.wroteHeader = true
	rec.conn = &tapConn{Conn: c, toServer: rec.ex.WSFrames(ToServer), toClient: rec.ex.WSFrames(ToClient)}
	return rec.conn, brw, nil
}

// tapConn is the core's counting conn with the frame taps in it.
type tapConn struct {
	net.Conn
	up, down           atomic.Int64
	toServer, toClient *FrameTap
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.up.Add(int64(n))
	_, _ = c.toServer.Write(b[:n])
	return n, err
}

func (c *tapConn) Write(b []byte) (int, error) {
	// Tapped before the write, as the core does: once written, the
	// client may answer, and its reply must not be listed first.
	_, _ = c.toClient.Write(b)
	n, err := c.Conn.Write(b)
	c.down.Add(int64(n))
	return n, err
}

// ---- client helpers

func (c *testCore) do(t *testing.T, method, path string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, c.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body = http.NoBody
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return res, string(b)
}

// getJSON GETs an inspector path and decodes its JSON answer.
func getJSON[T any](t *testing.T, c *testCore, path string) T {
	t.Helper()
	res, body := c.do(t, http.MethodGet, DefaultPrefix+path, nil, "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status = %d, want 200; body %s", path, res.StatusCode, body)
	}
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return v
}

// waitDone waits until the newest entry for path has finished and returns
// its details.
func (c *testCore) waitDone(t *testing.T, path string) detail {
	t.Helper()
	var last []summary
	for deadline := time.Now().Add(waitTimeout); time.Now().Before(deadline); {
		last = getJSON[[]summary](t, c, "/api/requests?kind=route,mock,static,frontend,devproxy")
		for _, s := range last {
			if s.Path == path && !s.Open {
				return getJSON[detail](t, c, fmt.Sprintf("/api/requests/%d", s.ID))
			}
		}
		sub := c.store.subscribe()
		select {
		case <-sub.ch:
		case <-time.After(100 * time.Millisecond):
		}
		c.store.unsubscribe(sub)
	}
	t.Fatalf("no finished entry for %s in %+v", path, last)
	return detail{}
}

// wsClient opens a WebSocket through the core.
type wsClient struct {
	net.Conn
	r *bufio.Reader
	f wsframe.Framer
}

func (c *testCore) dialWS(t *testing.T, path string) *wsClient {
	t.Helper()
	conn, err := net.Dial("tcp", c.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(waitTimeout))
	key := base64.StdEncoding.EncodeToString([]byte("inspect-test-key"))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		path, c.Listener.Addr(), key)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("websocket %s: %v", path, err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("websocket %s: status = %d, want 101", path, res.StatusCode)
	}
	return &wsClient{Conn: conn, r: br}
}

func (w *wsClient) send(op byte, msg []byte) error { return w.f.Write(w.Conn, op, msg, true) }

func (w *wsClient) recv() ([]byte, error) {
	_, msg, err := w.f.Read(w.r)
	return msg, err
}
