package devproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// h1Pair serves one handler twice: by net/http alone, and by h1Listener
// in front of net/http, as devproxy serves plain HTTP.
type h1Pair struct {
	std, own string // addresses
}

func startH1Pair(t *testing.T, h http.Handler) h1Pair {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	std := &http.Server{Handler: h, IdleTimeout: time.Minute, MaxHeaderBytes: 1 << 20, ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan struct{})
	go func() { _ = std.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = std.Shutdown(ctx)
		<-done
	})
	return h1Pair{std: ln.Addr().String(), own: startH1(t, h, time.Minute)}
}

// h1Answer is what a client sees of one response.
type h1Answer struct {
	status        string
	header        http.Header // without Date's value
	body          string
	trailer       http.Header
	contentLength int64
	chunked       bool
	open          bool // the connection answered a second request
	err           string
}

func (a h1Answer) String() string {
	keys := slices.Sorted(maps.Keys(a.header))
	var b strings.Builder
	fmt.Fprintf(&b, "%s cl=%d chunked=%v open=%v err=%q body=%q trailer=%v\n", a.status, a.contentLength, a.chunked, a.open, a.err, a.body, a.trailer)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %q\n", k, a.header[k])
	}
	return b.String()
}

// sendRaw dials addr and writes raw (if any); the connection, closed when
// the test ends if not before, has a 10 s deadline and a reader.
func sendRaw(t *testing.T, addr, raw string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if raw != "" {
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
	}
	return c, bufio.NewReader(c)
}

// h1Exchange sends raw on a new connection to addr, reads one response to
// method and then sends a plain GET to see whether the connection lives
// on.
func h1Exchange(t *testing.T, addr, raw, method string) h1Answer {
	t.Helper()
	c, br := sendRaw(t, addr, raw)
	defer c.Close()
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return h1Answer{err: err.Error()}
	}
	body, err := io.ReadAll(res.Body)
	a := h1Answer{status: res.Status, header: res.Header, body: string(body), trailer: res.Trailer,
		contentLength: res.ContentLength, chunked: slices.Contains(res.TransferEncoding, "chunked")}
	if err != nil {
		a.err = err.Error()
	}
	if d := a.header["Date"]; len(d) == 1 {
		if _, err := http.ParseTime(d[0]); err != nil {
			t.Errorf("Date %q: %v", d[0], err)
		}
		a.header["Date"] = []string{"(a date)"}
	}
	if _, err := io.WriteString(c, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n"); err == nil {
		if res, err := http.ReadResponse(br, nil); err == nil {
			a.open = res.StatusCode > 0
			res.Body.Close()
		}
	}
	return a
}

// TestH1MatchesNetHTTP sends the same requests to handlers served by
// net/http and by devproxy's HTTP/1.1 loop: every answer must be the same
// to a client (status, headers, framing, body, trailers, and whether the
// connection lives on).
func TestH1MatchesNetHTTP(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 300) // 4800 bytes
	handlers := map[string]http.HandlerFunc{
		"/small": func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>hi</html>") },
		"/empty": func(w http.ResponseWriter, r *http.Request) {},
		"/long":  func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, long) },
		"/twice": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, long[:2000])
			io.WriteString(w, long[:2000])
		},
		"/declared": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "4800")
			io.WriteString(w, long)
		},
		"/short": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "only this")
		},
		"/over": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "3")
			if _, err := io.WriteString(w, "four"); !errors.Is(err, http.ErrContentLength) {
				panic(fmt.Sprintf("write past Content-Length: %v", err))
			}
		},
		"/badlength": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "nope")
			io.WriteString(w, "body")
		},
		"/typed": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"a":1}`)
		},
		"/notype": func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			io.WriteString(w, "<html>")
		},
		"/gzip": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			io.WriteString(w, "\x1f\x8b not really")
		},
		"/304": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Etag", `"x"`)
			w.Header().Set("Content-Type", "text/javascript")
			w.Header().Set("Content-Length", "1234")
			w.WriteHeader(http.StatusNotModified)
		},
		"/204": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			w.WriteHeader(http.StatusNoContent)
			if _, err := io.WriteString(w, "x"); !errors.Is(err, http.ErrBodyNotAllowed) {
				panic(fmt.Sprintf("body on 204: %v", err))
			}
		},
		"/404": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "not here", http.StatusNotFound) },
		"/599": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) },
		"/hints": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Link", "</app.js>; rel=preload; as=script")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("X-Final", "yes")
			io.WriteString(w, "after hints")
		},
		"/flushed": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: 1\n\n")
			w.(http.Flusher).Flush()
			io.WriteString(w, "data: 2\n\n")
		},
		"/controller": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "a")
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
			io.WriteString(w, "b")
		},
		"/trailers": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Sum, X-Late")
			io.WriteString(w, "body")
			w.Header().Set("X-Sum", "42")
			w.Header().Set(http.TrailerPrefix+"X-Extra", "e")
		},
		"/late": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.Header().Set("X-Too-Late", "1")
			io.WriteString(w, "x")
		},
		"/again": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			w.WriteHeader(http.StatusTeapot)
		},
		"/close": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		},
		"/keepalive": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "keep-alive")
			io.WriteString(w, "stay")
		},
		"/newline": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Note", " two\nlines ")
			w.Header()["X-Many"] = []string{"a", "b"}
			io.WriteString(w, "ok")
		},
		"/date": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
			io.WriteString(w, "dated")
		},
		"/nodate": func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Date"] = nil
			io.WriteString(w, "undated")
		},
		"/identity": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Transfer-Encoding", "identity")
			io.WriteString(w, long)
		},
		"/te": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Transfer-Encoding", "chunked")
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		},
		"/abort": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "part")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		},
		"/echo": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s host=%s remote=%v close=%v ua=%q cookie=%q hosthdr=%q local=%v",
				r.Method, r.RequestURI, r.Host, r.RemoteAddr != "", r.Close, r.UserAgent(), r.Header.Get("Cookie"),
				r.Header.Get("Host"), r.Context().Value(http.LocalAddrContextKey) != nil)
		},
	}
	mux := http.NewServeMux()
	for p, h := range handlers {
		mux.Handle(p, h)
	}
	pair := startH1Pair(t, mux)
	var requests []string
	for p := range handlers {
		requests = append(requests, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	requests = append(requests,
		"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /echo?q=1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0\r\nCookie: a=b; c=d\r\nAccept: */*\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
		"GET /echo HTTP/1.1\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: a b\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
		"GET /echo HTTP/1.0\r\nHost: x\r\n\r\n",
		"GET /echo HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody",
		"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://x/echo HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /echo HTTP/1.1\nHost: x\n\n",
		"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n",
	)
	for _, raw := range requests {
		method, _, _ := strings.Cut(raw, " ")
		std := h1Exchange(t, pair.std, raw, method)
		own := h1Exchange(t, pair.own, raw, method)
		if std.String() != own.String() {
			t.Errorf("%q\nnet/http:\n%s\ndevproxy:\n%s", raw, std, own)
		}
	}
}

// TestH1HandsOverMidConnection: one connection carries a GET served by
// devproxy, a POST that hands it to net/http, and a GET after it; every
// byte reaches the right request.
func TestH1HandsOverMidConnection(t *testing.T) {
	pair := startH1Pair(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %q", r.Method, r.URL.Path, b)
	}))
	c, br := sendRaw(t, pair.own, "")
	send := func(raw, want string) {
		t.Helper()
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		b, _ := io.ReadAll(res.Body)
		if string(b) != want {
			t.Fatalf("%q: got %q, want %q", raw, b, want)
		}
	}
	send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n", `GET /one ""`)
	// two requests in one write: the second is read with the first
	send("POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /three HTTP/1.1\r\nHost: x\r\n\r\n", `POST /two "abc"`)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(res.Body); string(b) != `GET /three ""` {
		t.Fatalf("pipelined after the hand-over: %q", b)
	}
	send("GET /four HTTP/1.1\r\nHost: x\r\n\r\n", `GET /four ""`)
}

// TestH1PipelinedAndSplit: two GETs in one write are answered in order;
// a request whose headers come in two writes is answered too.
func TestH1PipelinedAndSplit(t *testing.T) {
	pair := startH1Pair(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	c, br := sendRaw(t, pair.own, "")
	read := func(want string) {
		t.Helper()
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(res.Body); string(b) != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	}
	io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	read("/a")
	read("/b")
	io.WriteString(c, "GET /c HTTP/1.1\r\nHo")
	time.AfterFunc(50*time.Millisecond, func() { io.WriteString(c, "st: x\r\n\r\n") })
	read("/c")
}

// TestH1ClientGone: a request whose client leaves while the handler
// waits has its context ended, as net/http ends it.
func TestH1ClientGone(t *testing.T) {
	ended := make(chan error, 1)
	pair := startH1Pair(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			ended <- r.Context().Err()
		case <-time.After(30 * time.Second):
			ended <- errors.New("the context did not end")
		}
	}))
	c, err := net.Dial("tcp", pair.own)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
	// The close may reach devproxy before or after the request's watch
	// starts (20 ms in): either way the context ends.
	c.Close()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler's context: %v", err)
	}
}

// TestH1Shutdown: shutting down closes an idle connection at once and
// lets a request in flight finish with Connection: close.
func TestH1Shutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		io.WriteString(w, "done")
	}), IdleTimeout: time.Minute, MaxHeaderBytes: 1 << 20}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h1 := newH1Listener(ln, srv)
	served := make(chan struct{})
	go func() { _ = srv.Serve(h1); close(served) }()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return c, bufio.NewReader(c)
	}
	idle, idleR := dial()
	defer idle.Close()
	io.WriteString(idle, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
	if res, err := http.ReadResponse(idleR, nil); err != nil || res.Close {
		t.Fatalf("first response: %v, close %v", err, res != nil && res.Close)
	} else {
		io.Copy(io.Discard, res.Body)
	}
	busy, busyR := dial()
	defer busy.Close()
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	stopped := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		go func() { _ = srv.Shutdown(ctx) }()
		h1.shutdown(ctx)
		close(stopped)
	}()
	if _, err := idleR.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection after shutdown: %v, want EOF", err)
	}
	close(release)
	res, err := http.ReadResponse(busyR, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if string(b) != "done" || !res.Close {
		t.Fatalf("in-flight response: %q, Connection: close %v", b, res.Close)
	}
	<-stopped
	<-served
}

// The Date header is formatted once a second per connection: each
// response's Date is the second it was written in, across a change of
// second on one kept-alive connection.
func TestH1DateFollowsTheClock(t *testing.T) {
	p := startH1Pair(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	c, br := sendRaw(t, p.own, "")
	defer c.Close()
	seconds := map[int64]bool{}
	deadline := time.Now().Add(5 * time.Second)
	for len(seconds) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("responses in %d distinct seconds after 5 s, want 2", len(seconds))
		}
		before := time.Now().Truncate(time.Second)
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		after := time.Now()
		d, err := http.ParseTime(res.Header.Get("Date"))
		if err != nil {
			t.Fatalf("Date %q: %v", res.Header.Get("Date"), err)
		}
		if d.Before(before) || d.After(after) {
			t.Fatalf("Date %s, want between %s and %s", d, before, after)
		}
		seconds[d.Unix()] = true
	}
}

// startH1 serves h by devproxy's HTTP/1.1 loop alone, with idle as the
// server's IdleTimeout, and returns its address.
func startH1(t *testing.T, h http.Handler, idle time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, IdleTimeout: idle, MaxHeaderBytes: 1 << 20, ErrorLog: log.New(io.Discard, "", 0)}
	h1 := newH1Listener(ln, srv)
	done := make(chan struct{})
	go func() { _ = srv.Serve(h1); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		go h1.shutdown(ctx)
		_ = srv.Shutdown(ctx)
		<-done
	})
	return ln.Addr().String()
}

// The watch's timer, armed and stopped by each request, still watches
// the next: after quick requests on one connection, a long one whose
// client goes away has its context ended.
func TestH1ClientGoneAfterQuickRequests(t *testing.T) {
	ended := make(chan error, 1)
	addr := startH1(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/wait" {
			io.WriteString(w, "quick")
			return
		}
		select {
		case <-r.Context().Done():
			ended <- r.Context().Err()
		case <-time.After(10 * time.Second):
			ended <- errors.New("the context did not end in 10 s")
		}
	}), time.Minute)
	c, br := sendRaw(t, addr, "")
	for range 5 {
		io.WriteString(c, "GET /quick HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(res.Body); string(b) != "quick" {
			t.Fatalf("quick response: %q", b)
		}
	}
	io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
	c.Close()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler's context: %v", err)
	}
}

// The idle deadline is moved lazily (idleDeadline), but a connection busy
// for longer than IdleTimeout stays open, and an idle one closes no sooner
// than IdleTimeout after its last response and no later than the slack
// after that.
func TestH1IdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	addr := startH1(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), idle)
	c, br := sendRaw(t, addr, "")
	// sent is when the last request was sent: the loop's wait for the
	// next one, whose deadline counts from its own clock reading, began
	// after it.
	var sent time.Time
	get := func() {
		t.Helper()
		sent = time.Now()
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("a request on a busy connection: %v", err)
		}
		io.Copy(io.Discard, res.Body)
	}
	// Busy for 2 s, well past IdleTimeout and the slack together, with
	// gaps of a third of IdleTimeout.
	tick := time.NewTicker(idle / 3)
	defer tick.Stop()
	for start := time.Now(); time.Since(start) < 2*time.Second; <-tick.C {
		get()
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	if waited := time.Since(sent); waited < idle || waited > idle+h1IdleSlack+2*time.Second {
		t.Fatalf("idle connection closed %v after its last request was sent, want %v to %v", waited, idle, idle+h1IdleSlack)
	}
}

// A write to a client that went away ends the request's context while the
// handler still runs; the watch's timer, armed for that request, fires
// later and must find nothing to watch, not the ended request.
func TestH1WatchAfterFailedWrite(t *testing.T) {
	failed := make(chan error, 1)
	addr := startH1(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		var err error
		for deadline := time.Now().Add(10 * time.Second); err == nil && time.Now().Before(deadline); {
			if _, err = w.Write(chunk); err == nil {
				err = http.NewResponseController(w).Flush()
			}
		}
		// A handler that goes on working past the watch's start.
		time.Sleep(3 * h1WatchAfter)
		failed <- err
	}), time.Minute)
	c, _ := sendRaw(t, addr, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	// Closed with a reset, so that devproxy's next write fails at once.
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	if err := <-failed; err == nil {
		t.Fatal("the handler's writes to a closed connection did not fail")
	}
}
