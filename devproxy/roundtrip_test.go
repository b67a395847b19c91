package devproxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestShortPathKeepsConnections: GETs one after another travel on one
// upstream connection, and every one arrives exactly once.
func TestShortPathKeepsConnections(t *testing.T) {
	var conns atomic.Int32
	seen := make(chan string, 100)
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		for {
			wr, err := readWireRequest(br)
			if err != nil {
				return
			}
			seen <- wr.line
			if answer(c, wr.line) != nil {
				return
			}
		}
	})
	p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	conns.Store(0)
	for i := range 20 {
		path := fmt.Sprintf("/api/n%d", i)
		res, body := p.get(t, path)
		if want := "GET " + path + " HTTP/1.1"; res.StatusCode != 200 || body != want {
			t.Fatalf("GET %s: got %d %q, want 200 %q", path, res.StatusCode, body, want)
		}
		if line := <-seen; line != "GET "+path+" HTTP/1.1" {
			t.Fatalf("backend saw %q for GET %s", line, path)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("20 GETs in a row opened %d upstream connections, want 1", n)
	}
	select {
	case line := <-seen:
		t.Errorf("backend saw an extra request %q", line)
	default:
	}
}

// TestShortPathTargetClosedIdleConnection: a target that closes kept-alive
// connections between requests (Node's keepAliveTimeout does after 5 s)
// costs nothing: the GET goes again on a new connection, once.
func TestShortPathTargetClosedIdleConnection(t *testing.T) {
	seen := make(chan string, 100)
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		wr, err := readWireRequest(br)
		if err != nil {
			return
		}
		seen <- wr.line
		_ = answer(c, "one per connection")
		// The response says keep-alive; the connection closes anyway.
	})
	p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	for i := range 5 {
		res, body := p.get(t, "/api/x")
		if res.StatusCode != 200 || body != "one per connection" {
			t.Fatalf("GET %d: got %d %q, want 200", i, res.StatusCode, body)
		}
		b.waitClosed(t, "the backend never closed its connection") // the one devproxy keeps
		if line := <-seen; line != "GET /api/x HTTP/1.1" {
			t.Fatalf("backend saw %q", line)
		}
	}
	select {
	case line := <-seen:
		t.Errorf("a request arrived twice: extra %q", line)
	default:
	}
}

// TestShortPathNoRetryAfterAnswer: a target that starts answering and then
// hangs up gets the request once; the client gets a 502 saying so.
func TestShortPathNoRetryAfterAnswer(t *testing.T) {
	var requests atomic.Int32
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			wr, err := readWireRequest(br)
			if err != nil {
				return
			}
			if strings.HasPrefix(wr.line, "GET /api/ok ") {
				if answer(c, "ok") != nil {
					return
				}
				continue
			}
			requests.Add(1)
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Le")
			return
		}
	})
	p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	if res, _ := p.get(t, "/api/ok"); res.StatusCode != 200 {
		t.Fatalf("GET /api/ok: %d", res.StatusCode)
	}
	// The next GET goes on the kept connection, which is answered halfway.
	res, body := p.get(t, "/api/broken")
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(body, "invalid HTTP response") {
		t.Errorf("GET /api/broken: got %d %q, want a 502 naming an invalid response", res.StatusCode, body)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the target got the request %d times, want 1", n)
	}
}

// TestShortPathClientGoesAway: a client that gives up while the target is
// still thinking closes the upstream connection, and is logged as 499.
func TestShortPathClientGoesAway(t *testing.T) {
	arrived := make(chan struct{}, 1)
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readWireRequest(br); err != nil {
			return
		}
		arrived <- struct{}{}
		_, _ = io.Copy(io.Discard, br) // never answers; returns when devproxy hangs up
	})
	p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/api/slow", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the canceled request succeeded")
	}
	b.waitClosed(t, "devproxy kept the upstream connection of a request nobody waits for")
	p.log.waitFor(t, "/api/slow", "499")
}

// TestShortPathClientGoesAwayMidBody: the same while the body streams.
func TestShortPathClientGoesAwayMidBody(t *testing.T) {
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readWireRequest(br); err != nil {
			return
		}
		// More than devproxy buffers, so that the client sees a part.
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"+strings.Repeat("a", 100<<10))
		_, _ = io.Copy(io.Discard, br)
	})
	p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/api/big", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10<<10)
	if _, err := io.ReadFull(res.Body, buf); err != nil || buf[0] != 'a' {
		t.Fatalf("first part: %q, %v", buf[:10], err)
	}
	cancel()
	res.Body.Close()
	b.waitClosed(t, "devproxy kept the upstream connection of a body nobody reads")
}

// TestShortPathOversizedHeaders: a target whose headers never end gets a
// 502 that says so, not devproxy's memory.
func TestShortPathOversizedHeaders(t *testing.T) {
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readWireRequest(br); err != nil {
			return
		}
		w := bufio.NewWriter(c)
		_, _ = w.WriteString("HTTP/1.1 200 OK\r\n")
		line := "X-Big: " + strings.Repeat("a", 1000) + "\r\n"
		for range (maxResponseHeaderBytes / len(line)) + 100 {
			if _, err := w.WriteString(line); err != nil {
				return
			}
		}
		_ = w.Flush()
		_, _ = io.Copy(io.Discard, br)
	})
	p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	res, body := p.get(t, "/api/x")
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(body, "exceed 10 MiB") {
		t.Errorf("got %d %q, want 502 naming the header limit", res.StatusCode, body)
	}
	b.waitClosed(t, "devproxy kept the connection of the oversized response")
}

// TestShortPathTimeoutIsForHeadersOnly: a route's timeout bounds the wait
// for response headers, never a body that takes longer, nor a kept
// connection that sat idle past it.
func TestShortPathTimeoutIsForHeadersOnly(t *testing.T) {
	const timeout = 200 * time.Millisecond
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			wr, err := readWireRequest(br)
			if err != nil {
				return
			}
			if strings.Contains(wr.line, "/slow-body") {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst")
				time.Sleep(2 * timeout) // the target is slow, not the test
				_, _ = io.WriteString(c, "-last")
				continue
			}
			if answer(c, "quick") != nil {
				return
			}
		}
	})
	p := startProxy(t, "routes:\n  /api:\n    target: "+b.url+"\n    timeout: "+timeout.String()+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	if res, body := p.get(t, "/api/slow-body"); res.StatusCode != 200 || body != "first-last" {
		t.Errorf("body slower than the timeout: got %d %q, want 200 first-last", res.StatusCode, body)
	}
	if res, body := p.get(t, "/api/quick"); res.StatusCode != 200 || body != "quick" {
		t.Fatalf("GET /api/quick: got %d %q", res.StatusCode, body)
	}
	// The kept connection now idles past the timeout of its last request.
	<-time.After(2 * timeout)
	if res, body := p.get(t, "/api/quick"); res.StatusCode != 200 || body != "quick" {
		t.Errorf("after an idle longer than the timeout: got %d %q, want 200 quick", res.StatusCode, body)
	}
}

// TestShortPathResponsesThatEndTheConnection: bodies ended by the target
// closing the connection (HTTP/1.0, no length, Connection: close) arrive
// whole, and the next request gets a new connection.
func TestShortPathResponsesThatEndTheConnection(t *testing.T) {
	responses := map[string]string{
		"/api/http10":   "HTTP/1.0 200 OK\r\n\r\nuntil close",
		"/api/nolength": "HTTP/1.1 200 OK\r\n\r\nuntil close",
		"/api/close":    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 11\r\n\r\nuntil close",
	}
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		wr, err := readWireRequest(br)
		if err != nil {
			return
		}
		path := strings.Fields(wr.line)[1]
		_, _ = io.WriteString(c, responses[path])
	})
	p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	for range 2 {
		for path := range responses {
			if res, body := p.get(t, path); res.StatusCode != 200 || body != "until close" {
				t.Errorf("GET %s: got %d %q, want 200 \"until close\"", path, res.StatusCode, body)
			}
			b.waitClosed(t, "the backend never closed the connection after "+path)
		}
	}
}

// TestShortPathBytesBeyondTheResponse: a target that sends a body with a
// response that has none (HEAD, 304) does not poison the next request on
// that connection.
func TestShortPathBytesBeyondTheResponse(t *testing.T) {
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			wr, err := readWireRequest(br)
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(wr.line, "HEAD "):
				_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
			case strings.Contains(wr.line, "/not-modified"):
				_, err = io.WriteString(c, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello")
			default:
				err = answer(c, "fine")
			}
			if err != nil {
				return
			}
		}
	})
	p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	for _, first := range []struct{ method, path string }{{http.MethodHead, "/api/x"}, {http.MethodGet, "/api/not-modified"}} {
		if res, _ := p.do(t, first.method, first.path, nil, nil); res.StatusCode >= 400 {
			t.Fatalf("%s %s: %d", first.method, first.path, res.StatusCode)
		}
		if res, body := p.get(t, "/api/y"); res.StatusCode != 200 || body != "fine" {
			t.Errorf("GET after %s %s: got %d %q, want 200 fine", first.method, first.path, res.StatusCode, body)
		}
	}
}

// TestShortPathTimeoutIsNotRetried: a target that takes the request on a
// kept connection and never answers gets it once, and the client a 504
// after the route's timeout.
func TestShortPathTimeoutIsNotRetried(t *testing.T) {
	var stuck atomic.Int32
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			wr, err := readWireRequest(br)
			if err != nil {
				return
			}
			if strings.Contains(wr.line, "/stuck") {
				stuck.Add(1)
				_, _ = io.Copy(io.Discard, br) // never answers
				return
			}
			if answer(c, "ok") != nil {
				return
			}
		}
	})
	p := startProxy(t, "routes:\n  /api:\n    target: "+b.url+"\n    timeout: 200ms\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	if res, _ := p.get(t, "/api/ok"); res.StatusCode != 200 {
		t.Fatalf("GET /api/ok: %d", res.StatusCode)
	}
	res, body := p.get(t, "/api/stuck") // on the connection /api/ok left
	if res.StatusCode != http.StatusGatewayTimeout || !strings.Contains(body, "no response headers within 200ms") {
		t.Errorf("GET /api/stuck: got %d %q, want 504", res.StatusCode, body)
	}
	if n := stuck.Load(); n != 1 {
		t.Errorf("the target got the request %d times, want 1", n)
	}
}

// TestShortPathIdlePastTimeoutKeepsConnection: a kept connection that idled
// longer than its route's timeout is still reused: the check for bytes that
// arrived while it idled must not mistake the passed header deadline for
// them.
func TestShortPathIdlePastTimeoutKeepsConnection(t *testing.T) {
	const timeout = 100 * time.Millisecond
	var conns atomic.Int32
	b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		for {
			if _, err := readWireRequest(br); err != nil {
				return
			}
			if answer(c, "quick") != nil {
				return
			}
		}
	})
	p := startProxy(t, "routes:\n  /api:\n    target: "+b.url+"\n    timeout: "+timeout.String()+"\n", nil)
	b.waitClosed(t, "the start-up probe never came")
	conns.Store(0)
	for i := range 3 {
		if res, body := p.get(t, "/api/quick"); res.StatusCode != 200 || body != "quick" {
			t.Fatalf("GET %d: got %d %q, want 200 quick", i, res.StatusCode, body)
		}
		<-time.After(2 * timeout) // the idle time is what is tested
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("3 GETs with idle pauses past the timeout opened %d upstream connections, want 1", n)
	}
}
