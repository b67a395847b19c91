package devproxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// echoBackend answers every request with the request line it received and
// the headers that matter to the tests.
func echoBackend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "uri=%s\nhost=%s\n", r.RequestURI, r.Host)
		for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-Ip", "X-Dev-User", "Cookie", "Accept-Encoding"} {
			fmt.Fprintf(w, "%s=%s\n", k, strings.Join(r.Header[k], ","))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestForwardPathAndQueryBytes(t *testing.T) {
	be := echoBackend(t)
	p := startProxy(t, fmt.Sprintf(`
routes:
  /api: %[1]s
  /strip:
    target: %[1]s
    strip_prefix: true
  /based:
    target: %[1]s/base
  /based-strip:
    target: %[1]s/base/
    strip_prefix: true
`, be.URL), nil)
	tests := []struct {
		path, want string
	}{
		{"/api", "/api"},
		{"/api/", "/api/"},
		{"/api/x", "/api/x"},
		{"/api?q=1", "/api?q=1"},
		{"/api/a%2Fb?z=1&a=2&a=1", "/api/a%2Fb?z=1&a=2&a=1"},
		{"/api/%7e/caf%C3%A9?q=%20+x", "/api/%7e/caf%C3%A9?q=%20+x"},
		{"/api/a|b^c", "/api/a|b^c"},
		{"/api//double", "/api//double"},
		{"/strip/login", "/login"},
		{"/strip", "/"},
		{"/strip?x=1", "/?x=1"},
		{"/strip//x", "//x"},
		{"/based/x", "/base/based/x"},
		{"/based-strip/login?a=b", "/base/login?a=b"},
		{"/based-strip", "/base"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got := rawRequest(t, p.host, "GET "+tt.path+" HTTP/1.1\r\nHost: "+p.host+"\r\nConnection: close\r\n\r\n")
			if !strings.HasPrefix(got, "HTTP/1.1 200") {
				t.Fatalf("GET %s: response %q, want 200", tt.path, got)
			}
			if uri := echoedBody(got, "uri"); uri != tt.want {
				t.Errorf("GET %s: upstream got %q, want %q", tt.path, uri, tt.want)
			}
		})
	}
}

// echoedBody finds key in a raw HTTP response's body.
func echoedBody(raw, key string) string {
	_, body, _ := strings.Cut(raw, "\r\n\r\n")
	return echoed(body, key)
}

func TestForwardedHeaders(t *testing.T) {
	be := echoBackend(t)
	p := startProxy(t, fmt.Sprintf(`
routes:
  /api: %[1]s
  /keep:
    target: %[1]s
    host: preserve
    headers: {X-Dev-User: alice, Accept-Encoding: ""}
`, be.URL), nil)
	spoof := http.Header{
		"X-Forwarded-For":   {"6.6.6.6"},
		"X-Forwarded-Host":  {"evil.example"},
		"X-Forwarded-Proto": {"https"},
		"Forwarded":         {"for=6.6.6.6"},
		"X-Real-Ip":         {"6.6.6.6"},
		"X-Dev-User":        {"mallory"},
		"Accept-Encoding":   {"gzip, br"},
	}
	_, body := p.do(t, "GET", "/api/x", nil, spoof)
	beHost := strings.TrimPrefix(be.URL, "http://")
	want := map[string]string{
		"host":              beHost,
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Host":  p.host,
		"X-Forwarded-Proto": "http",
		"Forwarded":         "",
		"X-Real-Ip":         "",
		"X-Dev-User":        "mallory",
		"Accept-Encoding":   "gzip, br",
	}
	for k, v := range want {
		if got := echoed(body, k); got != v {
			t.Errorf("GET /api/x: upstream %s = %q, want %q", k, got, v)
		}
	}
	_, body = p.do(t, "GET", "/keep", nil, spoof)
	want["host"], want["X-Dev-User"], want["Accept-Encoding"] = p.host, "alice", ""
	for k, v := range want {
		if got := echoed(body, k); got != v {
			t.Errorf("GET /keep: upstream %s = %q, want %q", k, got, v)
		}
	}
}

func TestResponseRewritesKeepBrowserOnProxy(t *testing.T) {
	var mu sync.Mutex
	var location, contentLocation string
	var cookies []string
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if location != "" {
			w.Header().Set("Location", location)
		}
		if contentLocation != "" {
			w.Header().Set("Content-Location", contentLocation)
		}
		for _, c := range cookies {
			w.Header().Add("Set-Cookie", c)
		}
		w.WriteHeader(http.StatusFound)
	}))
	defer be.Close()
	beHost := strings.TrimPrefix(be.URL, "http://")
	_, bePort, _ := net.SplitHostPort(beHost)
	p := startProxy(t, fmt.Sprintf(`
routes:
  /api: %[1]s
  /auth:
    target: %[1]s/base
    strip_prefix: true
`, be.URL), nil)
	tests := []struct {
		name, path, location, want string
	}{
		{"absolute to target", "/api/login", be.URL + "/api/home?x=1#top", "http://" + p.host + "/api/home?x=1#top"},
		{"localhost means the target", "/api/login", "http://localhost:" + bePort + "/api/home", "http://" + p.host + "/api/home"},
		{"other host kept", "/api/login", "https://accounts.example.com/o", "https://accounts.example.com/o"},
		{"other port kept", "/api/login", "http://127.0.0.1:1/x", "http://127.0.0.1:1/x"},
		{"path only kept", "/api/login", "/api/home", "/api/home"},
		{"relative kept", "/api/login", "home", "home"},
		{"stripped prefix re-added", "/auth/login", be.URL + "/base/done", "http://" + p.host + "/auth/done"},
		{"stripped prefix, base root", "/auth/login", be.URL + "/base", "http://" + p.host + "/auth"},
		{"stripped prefix, path only", "/auth/login", "/base/next?a=1", "/auth/next?a=1"},
		{"outside the base kept", "/auth/login", "/elsewhere", "/elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			location, contentLocation = tt.location, tt.location
			mu.Unlock()
			req, _ := http.NewRequest("GET", p.url+tt.path, nil)
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Location"); got != tt.want {
				t.Errorf("GET %s with Location %q: got %q, want %q", tt.path, tt.location, got, tt.want)
			}
			if got := res.Header.Get("Content-Location"); got != tt.want {
				t.Errorf("GET %s with Content-Location %q: got %q, want %q", tt.path, tt.location, got, tt.want)
			}
		})
	}

	cookieTests := []struct {
		name, path, cookie, want string
	}{
		{"domain of target removed", "/api/x", "sid=1; Domain=127.0.0.1; Path=/; HttpOnly", "sid=1; Path=/; HttpOnly"},
		{"dotted localhost domain removed", "/api/x", "sid=1; domain=.localhost; Secure", "sid=1; Secure"},
		{"other domain kept", "/api/x", "sid=1; Domain=example.com", "sid=1; Domain=example.com"},
		{"no attributes", "/api/x", "sid=1", "sid=1"},
		{"path mapped when stripped", "/auth/x", "sid=1; Path=/base/app; SameSite=Lax", "sid=1; Path=/auth/app; SameSite=Lax"},
		{"base root path", "/auth/x", "sid=1; Path=/base", "sid=1; Path=/auth"},
	}
	for _, tt := range cookieTests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			location, contentLocation, cookies = "", "", []string{tt.cookie, "other=2; Domain=127.0.0.1"}
			mu.Unlock()
			req, _ := http.NewRequest("GET", p.url+tt.path, nil)
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := res.Header.Values("Set-Cookie")
			if len(got) != 2 || got[0] != tt.want || got[1] != "other=2" {
				t.Errorf("GET %s with Set-Cookie %q: got %q, want [%q \"other=2\"]", tt.path, tt.cookie, got, tt.want)
			}
		})
	}
}

func TestWebSocketThroughRouteAndFrontend(t *testing.T) {
	seen := make(chan http.Header, 2)
	api := httptest.NewServer(wsEchoHandler(t, "api:", seen))
	defer api.Close()
	fe := httptest.NewServer(wsEchoHandler(t, "hmr:", seen))
	defer fe.Close()
	p := startProxy(t, fmt.Sprintf("frontend: %s\nroutes:\n  /api: %s\n", fe.URL, api.URL), nil)

	for _, tt := range []struct{ path, prefix string }{{"/api/ws", "api:"}, {"/", "hmr:"}} {
		c, res, err := wsDial(t, p.host, tt.path, http.Header{"Sec-Websocket-Protocol": {"vite-hmr"}, "Origin": {"http://" + p.host}})
		if err != nil || c == nil {
			t.Fatalf("upgrade %s: err %v, response %v", tt.path, err, res)
		}
		h := <-seen
		if got := h.Get("Sec-Websocket-Protocol"); got != "vite-hmr" {
			t.Errorf("upgrade %s: upstream Sec-WebSocket-Protocol = %q, want vite-hmr", tt.path, got)
		}
		// The frontend's socket carries the target's origin, matching the
		// Host it gets; an API keeps the browser's.
		wantOrigin := "http://" + p.host
		if tt.prefix == "hmr:" {
			wantOrigin = fe.URL
		}
		if got := h.Get("Origin"); got != wantOrigin {
			t.Errorf("upgrade %s: upstream Origin = %q, want %q", tt.path, got, wantOrigin)
		}
		for i, msg := range []string{"hello", strings.Repeat("x", 70000)} {
			if err := c.send([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			got, err := c.recv()
			if err != nil {
				t.Fatalf("%s message %d: %v", tt.path, i, err)
			}
			if string(got) != tt.prefix+msg {
				t.Errorf("%s message %d: got %d bytes, want echo of %d", tt.path, i, len(got), len(msg))
			}
		}
		c.close()
	}
	p.log.waitFor(t, "WS      /api/ws", " 101     open", "closed")
}

func TestServerSentEventsStream(t *testing.T) {
	release := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release // the second event only after the client saw the first
		fmt.Fprint(w, "data: second\n\n")
	}))
	defer be.Close()
	defer close(release)
	p := startProxy(t, "routes:\n  /events: "+be.URL+"\n", nil)
	req, _ := http.NewRequest("GET", p.url+"/events", nil)
	req.Header.Set("Accept-Encoding", "gzip") // a browser's: devproxy must not buffer to compress
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ce := res.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("GET /events: Content-Encoding = %q, want none", ce)
	}
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("GET /events: first line %q, %v; want the first event before the second is written", line, err)
	}
}

func TestLargeBodiesStreamBothWays(t *testing.T) {
	const size = 64 << 20
	firstChunk := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			h := sha256.New()
			buf := make([]byte, 1<<20)
			n, err := io.ReadFull(r.Body, buf)
			if err != nil {
				t.Errorf("upload: first MiB: %v", err)
				return
			}
			h.Write(buf[:n])
			close(firstChunk) // the client sends the rest only now
			m, _ := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%d %x", int64(n)+m, h.Sum(nil))
		default:
			w.Header().Set("Content-Length", fmt.Sprint(size))
			io.CopyN(w, newPattern(), size)
		}
	}))
	defer be.Close()
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)

	pr, pw := io.Pipe()
	go func() {
		pw.Write(bytes.Repeat([]byte{'a'}, 1<<20))
		<-firstChunk // proves devproxy streams the upload instead of buffering it
		io.CopyN(pw, newPattern(), size-(1<<20))
		pw.Close()
	}()
	want := sha256.New()
	want.Write(bytes.Repeat([]byte{'a'}, 1<<20))
	io.CopyN(want, newPattern(), size-(1<<20))
	res, body := p.do(t, "POST", "/api/upload", pr, nil)
	if wantBody := fmt.Sprintf("%d %x", size, want.Sum(nil)); res.StatusCode != 200 || body != wantBody {
		t.Errorf("POST 64 MiB: got %d %q, want 200 %q", res.StatusCode, body, wantBody)
	}

	res, err := http.Get(p.url + "/api/download")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, want2 := sha256.New(), sha256.New()
	n, err := io.Copy(got, res.Body)
	io.CopyN(want2, newPattern(), size)
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want2.Sum(nil)) {
		t.Errorf("GET 64 MiB: read %d bytes (err %v), checksum match %v; want %d, true", n, err, bytes.Equal(got.Sum(nil), want2.Sum(nil)), size)
	}
}

// patternReader yields an endless byte pattern that depends on the offset
// only, so both ends of a transfer can compute the same checksum.
type patternReader struct{ off *int64 }

func newPattern() patternReader { return patternReader{new(int64)} }

func (r patternReader) Read(p []byte) (int, error) {
	for i := range p {
		o := *r.off + int64(i)
		p[i] = byte(o*7 + o>>12)
	}
	*r.off += int64(len(p))
	return len(p), nil
}

func TestLocalhostTargetOnEitherLoopback(t *testing.T) {
	for _, network := range []struct{ name, addr string }{{"ipv4 only", "127.0.0.1:0"}, {"ipv6 only", "[::1]:0"}} {
		t.Run(network.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", network.addr)
			if err != nil {
				t.Skipf("cannot listen on %s here: %v", network.addr, err)
			}
			be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "reached "+r.Host)
			}))
			be.Listener = ln
			be.Start()
			defer be.Close()
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			config := "routes:\n  /api: http://localhost:" + port + "\n  /sub: http://app.localhost:" + port + "\n"
			p := startProxy(t, config, nil)
			for try := 0; try < 10; try++ {
				if _, own, _ := net.SplitHostPort(p.host); own != port {
					break
				}
				// devproxy got the backend's port number on the other
				// loopback, so localhost:port is devproxy too: a loop
				// the test did not mean.
				p.stop()
				p = startProxy(t, config, nil)
			}
			for _, path := range []string{"/api", "/sub"} {
				res, body := p.get(t, path)
				if res.StatusCode != 200 || !strings.HasPrefix(body, "reached ") {
					t.Errorf("GET %s via localhost:%s on %s: got %d %q, want 200", path, port, network.name, res.StatusCode, body)
				}
			}
		})
	}
}

func TestUpstreamConnectionsReused(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	be.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	be.Start()
	defer be.Close()
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	const workers, each = 20, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				res, err := http.Get(p.url + "/api/x")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	// A connection goes back to the pool a moment after its response is
	// delivered, so a few more than one per client may open; never one per
	// request, as with Go's default of 2 idle connections per host.
	if conns > 2*workers {
		t.Errorf("%d requests from %d clients opened %d upstream connections, want at most %d", workers*each, workers, conns, 2*workers)
	}
}

// TestFrontendGetsTargetOrigin pins what the frontend sees as Origin on
// plain requests: next dev refused its own overlay's POSTs when the page was
// opened as 127.0.0.1 or under an allowed_hosts name, because devproxy
// changed the Origin of the hot-reload socket only.
func TestFrontendGetsTargetOrigin(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Origin", r.Header.Get("Origin"))
	}
	api := httptest.NewServer(http.HandlerFunc(echo))
	defer api.Close()
	fe := httptest.NewServer(http.HandlerFunc(echo))
	defer fe.Close()
	p := startProxy(t, fmt.Sprintf("frontend: %s\nallowed_hosts: [app.test]\nallowed_origins: [http://localhost:3000]\nroutes:\n  /api: %s\n", fe.URL, api.URL), nil)
	_, port, _ := net.SplitHostPort(p.host)
	tests := []struct {
		name, host, path, origin, want string
	}{
		{"frontend, devproxy's own origin", p.host, "/__nextjs_original-stack-frames", "http://" + p.host, fe.URL},
		{"frontend, an allowed_hosts name", "app.test:" + port, "/_next/x", "http://app.test:" + port, fe.URL},
		{"frontend, a trusted other origin", p.host, "/form", "http://localhost:3000", "http://localhost:3000"},
		{"frontend, no Origin", p.host, "/", "", ""},
		{"API route keeps the browser's", p.host, "/api/x", "http://" + p.host, "http://" + p.host},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", "http://"+p.host+tt.path, strings.NewReader("{}"))
			req.Host = tt.host
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("POST %s with Origin %q: status %d, want 200", tt.path, tt.origin, res.StatusCode)
			}
			if got := res.Header.Get("X-Seen-Origin"); got != tt.want {
				t.Errorf("POST %s with Origin %q: upstream Origin = %q, want %q", tt.path, tt.origin, got, tt.want)
			}
		})
	}
}
