package devproxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/testnet"
)

// waitTimeout is the generous deadline every wait on an event uses: only a
// guard against a hang, never the expected wait. It is sized for go test
// -race on a 2-core machine shared with other suites: there a reload of
// TestSaveOfAnAliasBombIsRefused, 0.2 s of work without -race and 1 s with
// it, took 8.7 s of wall time and once past the 10 s this used to be.
const waitTimeout = 60 * time.Second

// logBuffer collects the log and lets a test wait for a line.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor waits until the log contains every one of subs and returns it.
func (l *logBuffer) waitFor(t *testing.T, subs ...string) string {
	t.Helper()
	return l.waitWithin(t, waitTimeout, subs...)
}

// waitWithin is waitFor with a deadline of d.
func (l *logBuffer) waitWithin(t *testing.T, d time.Duration, subs ...string) string {
	t.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		s, ch := l.buf.String(), l.changed
		l.mu.Unlock()
		ok := true
		for _, sub := range subs {
			ok = ok && strings.Contains(s, sub)
		}
		if ok {
			return s
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("log never showed %q within %s; log:\n%s", subs, d, s)
		}
	}
}

// testProxy is devproxy serving a config on a 127.0.0.1:0 listener.
type testProxy struct {
	srv  *Server
	url  string // http://127.0.0.1:PORT
	host string // 127.0.0.1:PORT
	dir  string // the config's folder
	file string // the config file
	log  *logBuffer
	// reloads receives the result of every reload of a changed file.
	reloads chan error
	// stop shuts the server down and waits for Serve to return.
	stop func()
}

// startProxy writes config into a temp folder and serves it until the test
// ends. env resolves ${VAR} in the config.
func startProxy(t *testing.T, config string, env map[string]string) *testProxy {
	t.Helper()
	dir := t.TempDir()
	return startProxyIn(t, dir, config, env)
}

func startProxyIn(t *testing.T, dir, config string, env map[string]string) *testProxy {
	t.Helper()
	file := filepath.Join(dir, "devproxy.yaml")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return startProxyEnv(t, file, env)
}

// startProxyFile serves the config file that file names.
func startProxyFile(t *testing.T, file string) *testProxy {
	t.Helper()
	return startProxyEnv(t, file, nil)
}

func startProxyEnv(t *testing.T, file string, env map[string]string) *testProxy {
	t.Helper()
	return startProxyOpts(t, file, func(o *Options) {
		o.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	})
}

// startProxyOpts serves file with the options that set makes.
func startProxyOpts(t *testing.T, file string, set func(*Options)) *testProxy {
	t.Helper()
	return serveTest(t, file, set, nil)
}

// startTunedProxy serves config like startProxy, with tune applied to the
// server between New and Serve, for the settings Serve reads once.
func startTunedProxy(t *testing.T, config string, tune func(*Server)) *testProxy {
	t.Helper()
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return serveTest(t, file, nil, tune)
}

// serveTest serves file until the test ends; set, when not nil, adjusts
// the options, and tune, when not nil, the server before it serves.
func serveTest(t *testing.T, file string, set func(*Options), tune func(*Server)) *testProxy {
	t.Helper()
	dir := filepath.Dir(file)
	lb := newLogBuffer()
	reloads := make(chan error, 1000)
	opts := Options{
		ConfigFile: file,
		Log:        lb,
		LookupEnv:  func(string) (string, bool) { return "", false },
		OnReload:   func(err error) { reloads <- err },
	}
	if set != nil {
		set(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Most tests' upstreams count or block on the requests they get; a
	// probe's HEAD would be one more. Probe tests turn it back on in tune.
	srv.connectProbe = true
	if tune != nil {
		tune(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	select {
	case <-srv.watching:
	case <-time.After(waitTimeout):
		t.Fatal("the config file was never watched")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &testProxy{srv: srv, url: "http://" + ln.Addr().String(), host: ln.Addr().String(), dir: dir, file: file, log: lb, reloads: reloads, stop: stop}
}

// do sends a request to the proxy and returns the response with its body
// read.
func (p *testProxy) do(t *testing.T, method, path string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	return fetch(t, http.DefaultClient, method, p.url+path, body, header)
}

// fetch sends a request with c and returns the response with its body read.
func fetch(t *testing.T, c *http.Client, method, url string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return res, string(b)
}

func (p *testProxy) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return p.do(t, http.MethodGet, path, nil, nil)
}

// rawSend writes req as it is on a new connection to addr, whose reads
// and writes fail after waitTimeout, and returns the connection.
func rawSend(t *testing.T, addr, req string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c
}

// rawRequest writes req as it is on a new connection and returns what the
// server answered up to the end of the response headers and body, read
// with a deadline.
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	c := rawSend(t, addr, req)
	defer c.Close()
	b, _ := io.ReadAll(c)
	return string(b)
}

// rawExchange writes req as it is on a new connection and reads the one
// response to it, for a request that keeps the connection open: reading
// until the connection closes would wait out the deadline.
func rawExchange(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c := rawSend(t, addr, req)
	defer c.Close()
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read the response to %q: %v", firstBytes(req, 200), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read the body of the response to %q: %v", firstBytes(req, 200), err)
	}
	return res, string(b)
}

// closedPort returns a loopback port that nothing listens on.
func closedPort(t *testing.T) string { return testnet.ClosedPort(t) }

func listenOn(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// waitReload waits for the next reload and returns its result.
func (p *testProxy) waitReload(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.reloads:
		return err
	case <-time.After(waitTimeout):
		t.Fatalf("no reload within %s; log:\n%s", waitTimeout, p.log)
		return nil
	}
}

// startProxyExisting serves the config file that file names (which may be
// a symlink).
func startProxyExisting(t *testing.T, file string) *testProxy {
	t.Helper()
	return startProxyFile(t, file)
}

// streamBackend answers a WebSocket upgrade with an echo, and any other
// request with an event stream: a first event at once, then a last one if
// more, called after the first, says so.
func streamBackend(t *testing.T, more func(r *http.Request) bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			wsEchoHandler(t, "", nil)(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		if more(r) {
			io.WriteString(w, "data: last\n\n")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// plainHandler lets an http.Handler stand in a router where a handler is
// wanted; what it serves records nothing in the outcome.
type plainHandler struct{ http.Handler }

func (h plainHandler) serve(w http.ResponseWriter, r *http.Request, _ *outcome) { h.ServeHTTP(w, r) }

// alone serves h outside a Server, as a plain http.Handler, with an
// outcome nobody reads.
func alone(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, new(outcome)) })
}

// rawBackend is a TCP server on 127.0.0.1 that serves each connection with
// a function of the test's, for upstream behaviour net/http would never
// produce: garbage, resets, requests read off the wire as they are.
type rawBackend struct {
	url  string // http://127.0.0.1:PORT
	addr string
	// closed receives one value for every connection whose serve function
	// returned (the connection is then closed).
	closed chan struct{}
}

// waitClosed waits for one more connection to close, and fails the test
// with failure if none does.
func (b *rawBackend) waitClosed(t *testing.T, failure string) {
	t.Helper()
	select {
	case <-b.closed:
	case <-time.After(waitTimeout):
		t.Fatal(failure)
	}
}

func startRawBackend(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{url: "http://" + ln.Addr().String(), addr: ln.Addr().String(), closed: make(chan struct{}, 10000)}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { b.closed <- struct{}{} }()
				defer c.Close()
				serve(c, bufio.NewReader(c))
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return b
}

// wireRequest is one request as an upstream read it off the wire.
type wireRequest struct {
	line   string // the request line
	header textproto.MIMEHeader
	body   string
}

// readWireRequest reads one request with its headers exactly as sent (no
// header is dropped or merged, unlike http.ReadRequest) and its body framed
// as RFC 9112 says: chunked when Transfer-Encoding says so, else by
// Content-Length.
func readWireRequest(br *bufio.Reader) (*wireRequest, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, err
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	wr := &wireRequest{line: line, header: h}
	var body io.Reader = strings.NewReader("")
	switch {
	case strings.EqualFold(h.Get("Transfer-Encoding"), "chunked"):
		body = httputil.NewChunkedReader(br)
	case h.Get("Content-Length") != "":
		n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		if err != nil {
			return nil, err
		}
		body = io.LimitReader(br, n)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	wr.body = string(b)
	if strings.EqualFold(h.Get("Transfer-Encoding"), "chunked") {
		// The chunked reader stops at the last chunk: the trailer
		// section and its blank line follow.
		if _, err := tp.ReadMIMEHeader(); err != nil {
			return nil, err
		}
	}
	return wr, nil
}

// wireBackend answers every request it reads off the wire with its request
// line and body, keeping the connection open, and sends each request to
// seen.
func wireBackend(t *testing.T) (*rawBackend, chan *wireRequest) {
	seen := make(chan *wireRequest, 1000)
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			wr, err := readWireRequest(br)
			if err != nil {
				return
			}
			seen <- wr
			body := wr.line + "\n" + wr.body
			if strings.HasPrefix(wr.line, "HEAD ") {
				if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); err != nil {
					return
				}
				continue
			}
			if _, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body); err != nil {
				return
			}
		}
	})
	return b, seen
}

// drain returns what arrived on seen so far.
func drain(seen chan *wireRequest) []*wireRequest {
	var got []*wireRequest
	for {
		select {
		case wr := <-seen:
			got = append(got, wr)
		default:
			return got
		}
	}
}

// leakCheck records the goroutines and open file descriptors of the test
// process, to compare with once a scenario is over.
type leakCheck struct{ goroutines, fds int }

func startLeakCheck() leakCheck { return leakCheck{runtime.NumGoroutine(), openFDs()} }

// openFDs counts the process's open file descriptors, or returns -1 where
// /proc does not tell.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// wait polls until goroutines and descriptors are back to what they were,
// and fails with the goroutines' stacks if they are not within the
// deadline.
func (l leakCheck) wait(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		g, fds := runtime.NumGoroutine(), openFDs()
		if g <= l.goroutines && fds <= l.fds {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%s: %d goroutines and %d descriptors left, want at most %d and %d as before; goroutines:\n%s", what, g, fds, l.goroutines, l.fds, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// echoingWS serves WebSockets with wsEchoHandler and reports each one that
// ended, which is when its upstream connection closed.
func echoingWS(t *testing.T) (*httptest.Server, chan struct{}) {
	ended := make(chan struct{}, 10000)
	echo := wsEchoHandler(t, "", nil)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { ended <- struct{}{} }()
		if r.URL.Path == "/api/hangup" {
			// Accept, then hang up at the first message.
			c, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + wsAccept(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
			brw.Flush()
			wsRead(brw.Reader)
			return
		}
		echo(w, r)
	}))
	t.Cleanup(be.Close)
	return be, ended
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// browserRequest is a request as a browser's fetch sends it to devproxy.
func browserRequest(target string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = "localhost:8080"
	r.RemoteAddr = "127.0.0.1:53211"
	for k, v := range map[string]string{
		"Accept":          "application/json",
		"Accept-Encoding": "gzip, deflate, br, zstd",
		"Accept-Language": "en-GB,en;q=0.9",
		"Connection":      "keep-alive",
		"Cookie":          "session=4f2a9c; theme=dark",
		"Referer":         "http://localhost:8080/orders",
		"Sec-Fetch-Dest":  "empty",
		"Sec-Fetch-Mode":  "cors",
		"Sec-Fetch-Site":  "same-origin",
		"User-Agent":      "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	} {
		r.Header.Set(k, v)
	}
	return r
}

// echoed returns the value the echo backend reported for key.
func echoed(body, key string) string {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	return "<missing>"
}

// namedBackend answers every request with its name.
func namedBackend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// saveByRename writes content to a temporary file in the same folder and
// renames it over path, as vim, JetBrains IDEs and many tools save.
func saveByRename(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// wantBody asserts GET path answers 200 with body.
func (p *testProxy) wantBody(t *testing.T, path, want string) {
	t.Helper()
	res, body := p.get(t, path)
	if res.StatusCode != 200 || body != want {
		t.Errorf("GET %s: got %d %q, want 200 %q", path, res.StatusCode, body, want)
	}
}

// answer writes a keep-alive response with body.
func answer(w io.Writer, body string) error {
	_, err := fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return err
}

// writeFiles creates files under dir; a name ending in "/" is a folder.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// must fails the test at once when a setup step failed, so that a test
// never goes on to assert on a file or folder that is not there.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
