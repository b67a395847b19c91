package devproxy

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBackendDownThenUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	serve := func(ln net.Listener, says string) *httptest.Server {
		be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, says) }))
		be.Listener.Close()
		be.Listener = ln
		be.Start()
		return be
	}
	be := serve(ln, "first")
	p := startProxy(t, "routes:\n  /api: http://"+addr+"\n", nil)
	if res, body := p.get(t, "/api"); res.StatusCode != 200 || body != "first" {
		t.Fatalf("GET /api: got %d %q, want 200 \"first\"", res.StatusCode, body)
	}
	// The backend goes down while devproxy holds a warm connection to it.
	be.Close()
	start := time.Now()
	res, body := p.get(t, "/api")
	if res.StatusCode != 502 || !strings.Contains(body, "connection refused") {
		t.Errorf("GET /api with the backend down: got %d %q, want 502 connection refused", res.StatusCode, body)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("GET /api with the backend down took %s, want a 502 at once", d)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port of %s was taken meanwhile: %v", addr, err)
	}
	be = serve(ln, "second")
	defer be.Close()
	if res, body := p.get(t, "/api"); res.StatusCode != 200 || body != "second" {
		t.Errorf("GET /api after the backend came back: got %d %q, want 200 \"second\"", res.StatusCode, body)
	}
}

func TestSlowBackend(t *testing.T) {
	const timeout = 200 * time.Millisecond
	next := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/stuck" {
			<-r.Context().Done()
			return
		}
		// Headers at once, then a body whose parts come further apart
		// than the route's timeout.
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(200)
		for i := range 3 {
			fmt.Fprintf(w, "part %d\n", i)
			w.(http.Flusher).Flush()
			if i < 2 {
				<-next
				// The gap is the point: longer than the timeout.
				time.Sleep(2 * timeout)
			}
		}
	}))
	defer be.Close()
	p := startProxy(t, "routes:\n  /api:\n    target: "+be.URL+"\n    timeout: 200ms\n", nil)

	start := time.Now()
	res, body := p.get(t, "/api/stuck")
	if d := time.Since(start); res.StatusCode != 504 || d < timeout || d > timeout+5*time.Second {
		t.Errorf("GET /api/stuck: %d after %s, want 504 after about %s: %q", res.StatusCode, d, timeout, body)
	}

	res, err := http.Get(p.url + "/api/slow")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	var got []string
	for i := range 3 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("GET /api/slow: part %d: %v after %q; the slow body was cut off", i, err, got)
		}
		got = append(got, line)
		if i < 2 {
			next <- struct{}{}
		}
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("GET /api/slow: after the parts %q, %v", rest, err)
	}
	if want := []string{"part 0\n", "part 1\n", "part 2\n"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("GET /api/slow: got %q, want %q", got, want)
	}
}

func TestBackendResetMidResponse(t *testing.T) {
	tests := []struct {
		name, head, partial string
	}{
		{"Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", strings.Repeat("a", 5000)},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "1388\r\n" + strings.Repeat("a", 5000) + "\r\n"},
		{"chunked, cut in a chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "1388\r\n" + strings.Repeat("a", 100)},
	}
	for _, tt := range tests {
		for _, reset := range []bool{true, false} {
			name := tt.name + ", closed"
			if reset {
				name = tt.name + ", reset"
			}
			t.Run(name, func(t *testing.T) {
				be := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
					if _, err := readWireRequest(br); err != nil {
						return
					}
					io.WriteString(c, tt.head+tt.partial)
					if reset {
						c.(*net.TCPConn).SetLinger(0) // Close sends RST
					}
				})
				p := startProxy(t, "routes:\n  /api: "+be.url+"\n", nil)
				res, err := http.Get(p.url + "/api/file")
				if err != nil {
					// Aborted before the headers went out: aborted too.
					return
				}
				defer res.Body.Close()
				b, err := io.ReadAll(res.Body)
				if err == nil {
					t.Errorf("GET /api/file: a clean %d with %d bytes, want an aborted response", res.StatusCode, len(b))
				}
				p.log.waitFor(t, "/api/file", "cut off")
			})
		}
	}
}

func TestClientGoneCancelsUpstream(t *testing.T) {
	type event struct {
		at  time.Time
		err error
	}
	arrived := make(chan struct{}, 1)
	cancelled := make(chan event, 1)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/download":
			w.Header().Set("Content-Length", fmt.Sprint(1<<40))
			chunk := make([]byte, 64<<10)
			for i := 0; ; i++ {
				if _, err := w.Write(chunk); err != nil {
					break
				}
				if i == 0 {
					arrived <- struct{}{}
				}
			}
		case "/api/upload":
			buf := make([]byte, 64<<10)
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				t.Errorf("upload: the first 64 KiB: %v", err)
			}
			arrived <- struct{}{}
			io.Copy(io.Discard, r.Body)
		default:
			arrived <- struct{}{}
		}
		<-r.Context().Done()
		cancelled <- event{time.Now(), r.Context().Err()}
	}))
	defer be.Close()
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	p.get(t, "/__devproxy/status") // devproxy's lazily started parts, before the count

	tests := []struct{ name, req string }{
		{"waiting", "GET /api/wait HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"download", "GET /api/download HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"upload", "POST /api/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000000\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaks := startLeakCheck()
			c, err := net.Dial("tcp", p.host)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, tt.req)
			if tt.name == "upload" {
				go c.Write(make([]byte, 1<<20)) // fails once c is closed
			}
			select {
			case <-arrived:
			case <-time.After(waitTimeout):
				t.Fatal("the request never reached the backend")
			}
			if tt.name == "download" {
				io.ReadFull(c, make([]byte, 1000))
			}
			gone := time.Now()
			c.Close()
			select {
			case ev := <-cancelled:
				if d := ev.at.Sub(gone); d > time.Second {
					t.Errorf("the upstream request was cancelled %s after the client went away, want within 1s", d)
				}
			case <-time.After(waitTimeout):
				t.Fatal("the upstream request was never cancelled")
			}
			path, _, _ := strings.Cut(strings.TrimPrefix(tt.req, strings.Fields(tt.req)[0]+" "), " ")
			line := p.log.waitFor(t, path)
			if !strings.Contains(line[strings.Index(line, path):], " 499 ") {
				t.Errorf("the log does not say 499 for %s:\n%s", path, line)
			}
			leaks.wait(t, tt.name)
		})
	}
}

func TestWebSocketEitherSideClosing(t *testing.T) {
	be, ended := echoingWS(t)
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	waitEnded := func(what string) {
		t.Helper()
		select {
		case <-ended:
		case <-time.After(waitTimeout):
			t.Fatalf("%s: the upstream WebSocket stayed open", what)
		}
	}

	// The client sends a close frame.
	c, _, err := wsDial(t, p.host, "/api/ws", nil)
	if err != nil || c == nil {
		t.Fatalf("upgrade: %v", err)
	}
	c.close()
	waitEnded("client close frame")

	// The client drops the connection without a word.
	c, _, err = wsDial(t, p.host, "/api/ws", nil)
	if err != nil || c == nil {
		t.Fatalf("upgrade: %v", err)
	}
	c.Conn.Close()
	waitEnded("client connection dropped")

	// The server hangs up.
	c, _, err = wsDial(t, p.host, "/api/hangup", nil)
	if err != nil || c == nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer c.Conn.Close()
	c.send([]byte("bye"))
	if msg, err := c.recv(); err == nil {
		t.Errorf("after the server hung up, the client read %q, want the connection closed", msg)
	}
	waitEnded("server hang-up")
	p.log.waitFor(t, "/api/hangup", "closed")
}

func TestWebSocketBigFramesAndIdle(t *testing.T) {
	be, _ := echoingWS(t)
	// A short header timeout, so that a deadline left on the hijacked
	// connection would show within the idle period.
	p := startTunedProxy(t, "routes:\n  /api: "+be.URL+"\n", func(s *Server) { s.readHeaderTimeout = 300 * time.Millisecond })
	c, _, err := wsDial(t, p.host, "/api/ws", nil)
	if err != nil || c == nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer c.close()
	_ = c.SetDeadline(time.Time{})
	for i := range 3 {
		msg := make([]byte, 1<<20)
		rand.Read(msg)
		if err := c.send(msg); err != nil {
			t.Fatalf("message %d: send: %v", i, err)
		}
		got, err := c.recv()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: got %d bytes (err %v), want the 1 MiB echoed intact", i, len(got), err)
		}
		if i < 2 {
			// Idle on purpose, longer than any header timeout.
			time.Sleep(time.Second)
		}
	}
}

func TestSlowlorisIsCutOffOthersServed(t *testing.T) {
	const headerTimeout = 300 * time.Millisecond
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer be.Close()
	p := startTunedProxy(t, "routes:\n  /api: "+be.URL+"\n", func(s *Server) { s.readHeaderTimeout = headerTimeout })

	slow, err := net.Dial("tcp", p.host)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// One header line every 50 ms, never the end of the headers.
		if _, err := io.WriteString(slow, "GET /api/slow HTTP/1.1\r\nHost: localhost\r\n"); err != nil {
			return
		}
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := fmt.Fprintf(slow, "X-Drip-%d: x\r\n", i); err != nil {
				return
			}
		}
	}()

	// Others are served meanwhile, each at once.
	for i := range 20 {
		t0 := time.Now()
		res, body := p.get(t, fmt.Sprintf("/api/%d", i))
		if res.StatusCode != 200 || body != "ok" {
			t.Errorf("GET /api/%d while a client dribbles headers: got %d %q", i, res.StatusCode, body)
		}
		if d := time.Since(t0); d > headerTimeout {
			t.Errorf("GET /api/%d took %s while a client dribbles headers", i, d)
		}
	}

	_ = slow.SetReadDeadline(time.Now().Add(waitTimeout))
	b, err := io.ReadAll(slow)
	d := time.Since(start)
	if d < headerTimeout || d > headerTimeout+5*time.Second {
		t.Errorf("the dribbling connection ended after %s (%v), want after about %s", d, err, headerTimeout)
	}
	if strings.HasPrefix(string(b), "HTTP/1.1 2") {
		t.Errorf("the dribbling client was served: %q", b)
	}
	if strings.Contains(p.log.String(), "/api/slow") {
		t.Errorf("the dribbled request reached the handler:\n%s", p.log)
	}
}
