package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The page-load scenarios replay what Chromium sends when it loads a Vite
// app of 300 modules (the app of ../shared/pageload): index.html, the Vite
// client and its env module, 300 modules of about 10 KB, a pre-bundled
// vendor file and 4 API calls, 308 requests discovered in waves as the
// module graph is, over the 6 keep-alive connections a browser opens to
// one origin. Cold is a load with the cache disabled; warm is F5 with the
// cache primed: 302 conditional requests answered 304, the vendor file
// from the cache, the API calls again.

// pageBackendEnv makes bench serve the Vite-like dev server instead of
// measuring: bench runs it as a process of its own, so that its CPU time
// is its own and can be set beside devproxy's.
const pageBackendEnv = "DEVPROXY_BENCH_PAGE_BACKEND"

const (
	pageModules = 300
	// pageConns is how many connections Chromium opens to one origin
	// over HTTP/1.1.
	pageConns = 6
	// moduleSize is about what Vite sends for a component with its
	// inline source map.
	moduleSize = 10 << 10
	vendorSize = 1300 << 10
	vendorPath = "/node_modules/.vite/deps/vendor.js?v=5f3c9a1e"
	// nodeIdleTimeout is Node's keepAliveTimeout: it closes a kept
	// connection idle that long.
	nodeIdleTimeout = 5 * time.Second
)

// pageAPIs are the app's API calls, in the two waves main.js makes them.
var pageAPIs = [2][2]string{{"/api/user", "/api/config"}, {"/api/items", "/api/notifications"}}

// moduleWaves is how many modules each wave of the module graph adds
// after main.js: the tree's levels, the utils, then u00 which all utils
// import. With index.html, the Vite client wave and main.js that makes 9
// dependent round trips, as the harness's longest import chain does.
var moduleWaves = []int{7, 24, 60, 100, 78, 29, 1}

// pageRequest is one request of a page load.
type pageRequest struct {
	path    string
	api     bool   // to the API backend (/api), not the dev server
	referer string // path of the document or module that asked for it
	kind    string // "document", "script" or "fetch": the headers Chromium sends
	// cached is true for the vendor file, which a warm reload takes from
	// the browser's cache (immutable).
	cached bool
}

func modulePath(i int) string {
	if i == 0 {
		return "/src/main.js"
	}
	return fmt.Sprintf("/src/components/c%03d.js", i)
}

// pageWaves returns the requests of one page load, wave by wave: a wave
// starts when the one before it has been answered.
func pageWaves() [][]pageRequest {
	waves := [][]pageRequest{
		{{path: "/", kind: "document"}},
		{
			{path: "/@vite/client", referer: "/", kind: "script"},
			{path: "/@vite/env", referer: "/", kind: "script"},
			{path: modulePath(0), referer: "/", kind: "script"},
		},
	}
	next, parent := 1, modulePath(0)
	for i, n := range moduleWaves {
		var w []pageRequest
		if i == 0 {
			w = append(w, pageRequest{path: vendorPath, referer: parent, kind: "script", cached: true})
		}
		if i < len(pageAPIs) {
			for _, p := range pageAPIs[i] {
				w = append(w, pageRequest{path: p, api: true, referer: "/", kind: "fetch"})
			}
		}
		for range n {
			w = append(w, pageRequest{path: modulePath(next), referer: parent, kind: "script"})
			next++
		}
		parent = w[len(w)-1].path
		waves = append(waves, w)
	}
	return waves
}

// etagOf is a module's ETag, weak as Vite's are.
func etagOf(path string) string {
	h := fnv.New32a()
	_, _ = io.WriteString(h, path)
	return fmt.Sprintf(`W/"%x-%08x"`, moduleSize, h.Sum32())
}

// viteLike is the dev server: what Vite answers, with Node's connection
// headers.
func viteLike() http.Handler {
	module := make([]byte, moduleSize)
	line := []byte("export const x = 1; //# sourceMappingURL=data:application/json;base64,eyJ2ZXJzaW9uIjozLCJzb3VyY2VzIjpbXX0=\n")
	for i := range module {
		module[i] = line[i%len(line)]
	}
	vendor := make([]byte, vendorSize)
	for i := range vendor {
		vendor[i] = line[i%len(line)]
	}
	html := []byte(`<!doctype html><html><head><script type="module" src="/@vite/client"></script></head>` +
		`<body><div id="app"></div><script type="module" src="/src/main.js"></script></body></html>`)
	node := func(h http.Header) {
		h.Set("Connection", "keep-alive")
		h.Set("Keep-Alive", "timeout=5")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		node(h)
		h.Set("Vary", "Origin")
		switch {
		case r.URL.Path == "/":
			h.Set("Content-Type", "text/html")
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Length", strconv.Itoa(len(html)))
			_, _ = w.Write(html)
		case r.URL.Path == "/node_modules/.vite/deps/vendor.js":
			h.Set("Content-Type", "text/javascript")
			h.Set("Cache-Control", "max-age=31536000,immutable")
			h.Set("Etag", etagOf(r.URL.Path))
			h.Set("Content-Length", strconv.Itoa(len(vendor)))
			_, _ = w.Write(vendor)
		case strings.HasPrefix(r.URL.Path, "/src/") || strings.HasPrefix(r.URL.Path, "/@vite/"):
			etag := etagOf(r.URL.Path)
			h.Set("Cache-Control", "no-cache")
			h.Set("Etag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			h.Set("Content-Type", "text/javascript")
			h.Set("Content-Length", strconv.Itoa(len(module)))
			_, _ = w.Write(module)
		default:
			http.NotFound(w, r)
		}
	})
}

// pageAPI answers the app's API calls, no-store as the harness's backend.
func pageAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `{"path":%q,"items":[1,2,3,4,5,6,7,8]}`, r.URL.Path)
}

// servePageBackend is the dev server process: it prints its address and
// that of its stats listener, which answers the number of connections the
// dev server accepted, and serves until stdin closes.
func servePageBackend() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stats, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var accepted atomic.Int64
	srv := &http.Server{
		Handler:           viteLike(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       nodeIdleTimeout,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				accepted.Add(1)
			}
		},
	}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		_ = http.Serve(stats, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, accepted.Load())
		}))
	}()
	fmt.Printf("%s %s\n", ln.Addr(), stats.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// pageBackend is the running dev server process.
type pageBackend struct {
	url   string
	stats string
	cmd   *exec.Cmd
	stdin io.Closer
	ticks int64
}

func startPageBackend(ctx context.Context) (*pageBackend, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), pageBackendEnv+"=1")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &pageBackend{cmd: cmd, stdin: in, ticks: clockTicks()}
	addrs := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addrs <- line
	}()
	select {
	case line := <-addrs:
		f := strings.Fields(line)
		if len(f) != 2 {
			p.stop()
			return nil, fmt.Errorf("page-load dev server: got %q on its stdout, want two addresses", line)
		}
		p.url, p.stats = "http://"+f[0], "http://"+f[1]
	case <-time.After(10 * time.Second):
		p.stop()
		return nil, errors.New("page-load dev server did not start within 10 s")
	}
	return p, nil
}

func (p *pageBackend) stop() {
	_ = p.stdin.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// accepted returns the connections the dev server accepted so far.
func (p *pageBackend) accepted() (int64, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := c.Get(p.stats)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// cpuTime returns the dev server's user plus system CPU time.
func (p *pageBackend) cpuTime() (time.Duration, error) {
	return procCPU(p.cmd.Process.Pid, p.ticks)
}

// Chromium 140's headers on Linux, as it sends them over HTTP/1.1 to a
// page on http://127.0.0.1 (Host and Connection aside).
const (
	chromeUA       = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"
	chromeCHUA     = `"Chromium";v="140", "Not=A?Brand";v="24", "Google Chrome";v="140"`
	chromeDocument = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
	// devCookie is what a dev app's origin collects: analytics, a
	// session, a CSRF token, a preference.
	devCookie = "_ga=GA1.1.1187356215.1764000000; _ga_XK29QM3L7E=GS2.1.s1764000000$o3$g1$t1764000123$j0$l0$h0; theme=dark; " +
		"csrftoken=pQx4Rk2mZ8vN1bT6wY3cH7jL0aS5dF9g; sessionid=eyJ1c2VyIjo0MiwibmFtZSI6ImRldiIsInJvbGVzIjpbImFkbWluIl0sImV4cCI6MTc2NDA4NjQwMH0.c2lnbmF0dXJlLW9mLXRoZS1zZXNzaW9uLXRva2Vu"
)

// setChromeHeaders sets on req what Chromium sends with a request of kind
// from a page on origin. reload marks F5, whose document request asks the
// cache to revalidate.
func setChromeHeaders(req *http.Request, pr pageRequest, origin string, cold, reload bool) {
	h := req.Header
	if cold {
		// DevTools' "Disable cache".
		h.Set("Pragma", "no-cache")
		h.Set("Cache-Control", "no-cache")
	} else if reload && pr.kind == "document" {
		h.Set("Cache-Control", "max-age=0")
	}
	// Lower case, as Chromium sends the client hints over HTTP/1.1 (Set
	// would make them Sec-Ch-Ua).
	h["sec-ch-ua"] = []string{chromeCHUA}
	h["sec-ch-ua-mobile"] = []string{"?0"}
	h["sec-ch-ua-platform"] = []string{`"Linux"`}
	h.Set("User-Agent", chromeUA)
	switch pr.kind {
	case "document":
		h.Set("Upgrade-Insecure-Requests", "1")
		h.Set("Accept", chromeDocument)
		h.Set("Sec-Fetch-Site", "none")
		h.Set("Sec-Fetch-Mode", "navigate")
		h.Set("Sec-Fetch-User", "?1")
		h.Set("Sec-Fetch-Dest", "document")
	case "script":
		h.Set("Accept", "*/*")
		h.Set("Sec-Fetch-Site", "same-origin")
		h.Set("Sec-Fetch-Mode", "cors")
		h.Set("Sec-Fetch-Dest", "script")
		h.Set("Referer", origin+pr.referer)
	case "fetch":
		h.Set("Accept", "application/json")
		h.Set("Sec-Fetch-Site", "same-origin")
		h.Set("Sec-Fetch-Mode", "cors")
		h.Set("Sec-Fetch-Dest", "empty")
		h.Set("Referer", origin+pr.referer)
	}
	h.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	h.Set("Accept-Language", "en-US,en;q=0.9")
	h.Set("Cookie", devCookie)
	if !cold && pr.kind == "script" {
		h.Set("If-None-Match", etagOf(req.URL.Path))
	}
}

// pageClient is a browser tab: its 6 connections per origin, kept from one
// load to the next.
type pageClient struct {
	client    *http.Client
	page, api string // base URLs of the document and of /api
	waves     [][]pageRequest
	// think is how long a connection waits after a response before its
	// next request, as a browser parses and runs a module before it asks
	// for the next; 0 sends the next one at once.
	think time.Duration
}

func newPageClient(page, api string) *pageClient {
	c := newClient(pageConns)
	// Direct, the page and the API are two origins of 6 connections each.
	c.Transport.(*http.Transport).MaxIdleConns = 2 * pageConns
	return &pageClient{client: c, page: page, api: api, waves: pageWaves()}
}

// load makes one page load and returns the body bytes it read.
func (pc *pageClient) load(ctx context.Context, cold bool) (int64, error) {
	var read atomic.Int64
	for _, wave := range pc.waves {
		var todo []pageRequest
		for _, pr := range wave {
			if cold || !pr.cached {
				todo = append(todo, pr)
			}
		}
		var next atomic.Int64
		errs := make([]error, pageConns)
		var wg sync.WaitGroup
		for w := range min(pageConns, len(todo)) {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(todo) || ctx.Err() != nil {
						return
					}
					n, err := pc.get(ctx, todo[i], cold)
					read.Add(n)
					if err != nil {
						errs[w] = err
						return
					}
					if pc.think > 0 && !sleepUntil(ctx, time.Now().Add(pc.think)) {
						return
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return read.Load(), err
		}
	}
	return read.Load(), nil
}

// pageRequests is how many requests a cold load or a warm reload sends.
func pageRequests(cold bool) int {
	n := 0
	for _, w := range pageWaves() {
		for _, pr := range w {
			if cold || !pr.cached {
				n++
			}
		}
	}
	return n
}

func (pc *pageClient) get(ctx context.Context, pr pageRequest, cold bool) (int64, error) {
	base := pc.page
	if pr.api {
		base = pc.api
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+pr.path, nil)
	if err != nil {
		return 0, err
	}
	setChromeHeaders(req, pr, pc.page, cold, !cold)
	res, err := pc.client.Do(req)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil {
		return n, err
	}
	want := http.StatusOK
	if !cold && pr.kind == "script" {
		want = http.StatusNotModified
	}
	if res.StatusCode != want {
		return n, fmt.Errorf("GET %s: status %d, want %d", pr.path, res.StatusCode, want)
	}
	if res.ContentLength >= 0 && n != res.ContentLength {
		return n, fmt.Errorf("GET %s: %d bytes of a %d-byte body", pr.path, n, res.ContentLength)
	}
	return n, nil
}

// pageload measures cold loads (cache disabled) or warm reloads, one
// after the other as a developer makes them.
func pageload(cold bool) func(*bench, context.Context, target, func(bool)) window {
	return func(b *bench, ctx context.Context, t target, mark func(bool)) window {
		page, api := t.url, t.url
		if !t.proxied() {
			page, api = b.page.url, b.backend.url
		}
		pc := newPageClient(page, api)
		pc.think = b.think
		defer pc.client.CloseIdleConnections()
		return drive(ctx, 1, b.warmup, b.duration, mark, func(ctx context.Context, _ int) (int64, error) {
			return pc.load(ctx, cold)
		})
	}
}
