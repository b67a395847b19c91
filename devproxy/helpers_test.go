package devproxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/testnet"
)

// waitTimeout is the generous deadline every wait on an event uses.
const waitTimeout = 10 * time.Second

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
	deadline := time.After(waitTimeout)
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
			t.Fatalf("log never showed %q; log:\n%s", subs, s)
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

// rawRequest writes req as it is on a new connection and returns what the
// server answered up to the end of the response headers and body, read
// with a deadline.
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
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
