package devproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// readResponses reads the responses on c until it closes.
func readResponses(c net.Conn) (statuses []int, bodies []string) {
	br := bufio.NewReader(c)
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			return
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
		bodies = append(bodies, string(b))
		if err != nil {
			return
		}
	}
}

func TestMalformedRequestsAreRefused(t *testing.T) {
	be, seen := wireBackend(t)
	p := startProxy(t, "routes:\n  /api: "+be.url+"\n", nil)
	host := "Host: " + p.host + "\r\n"
	// Behind every bad request comes a good one on the same connection: it
	// must never be read as part of the bad one, and since the bad one
	// closes the connection, it is never served either.
	const next = "GET /api/next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	tests := []struct {
		name string
		req  string
		want int
	}{
		{"not a request line", "HELLO\r\n" + host + "\r\n", 400},
		{"extra field in the request line", "GET /api/x HTTP/1.1 extra\r\n" + host + "\r\n", 400},
		{"malformed version", "GET /api/x HTTP/1.x\r\n" + host + "\r\n", 400},
		{"invalid method", "G(T /api/x HTTP/1.1\r\n" + host + "\r\n", 400},
		{"space in the target", "GET /api/a b HTTP/1.1\r\n" + host + "\r\n", 400},
		{"NUL in the target", "GET /api/a\x00b HTTP/1.1\r\n" + host + "\r\n", 400},
		{"control character in the target", "GET /api/a\x01b HTTP/1.1\r\n" + host + "\r\n", 400},
		{"tab in the target", "GET /api/a\tb HTTP/1.1\r\n" + host + "\r\n", 400},
		{"DEL in the target", "GET /api/a\x7fb HTTP/1.1\r\n" + host + "\r\n", 400},
		{"CR in the target", "GET /api/a\rb HTTP/1.1\r\n" + host + "\r\n", 400},
		{"missing Host", "GET /api/x HTTP/1.1\r\n\r\n", 400},
		{"two Host headers", "GET /api/x HTTP/1.1\r\n" + host + host + "\r\n", 400},
		{"space in Host", "GET /api/x HTTP/1.1\r\nHost: local host\r\n\r\n", 400},
		{"control character in Host", "GET /api/x HTTP/1.1\r\nHost: local\x01host\r\n\r\n", 400},
		{"Content-Length not a number", "POST /api/x HTTP/1.1\r\n" + host + "Content-Length: abc\r\n\r\n", 400},
		{"negative Content-Length", "POST /api/x HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", 400},
		{"signed Content-Length", "POST /api/x HTTP/1.1\r\n" + host + "Content-Length: +3\r\n\r\nabc", 400},
		{"Content-Length list", "POST /api/x HTTP/1.1\r\n" + host + "Content-Length: 3, 4\r\n\r\nabcd", 400},
		{"two different Content-Lengths", "POST /api/x HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
		{"Content-Length beyond int64", "POST /api/x HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n", 400},
		{"space before the colon", "POST /api/x HTTP/1.1\r\n" + host + "Content-Length : 3\r\n\r\nabc", 400},
		{"invalid header name", "GET /api/x HTTP/1.1\r\n" + host + "Bad Header: x\r\n\r\n", 400},
		{"NUL in a header value", "GET /api/x HTTP/1.1\r\n" + host + "X-A: a\x00b\r\n\r\n", 400},
		{"bare CR in a header value", "GET /api/x HTTP/1.1\r\n" + host + "X-A: a\rb\r\n\r\n", 400},
		{"unknown transfer coding", "POST /api/x HTTP/1.1\r\n" + host + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501},
		{"two transfer codings", "POST /api/x HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
		{"two Transfer-Encoding headers", "POST /api/x HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rawRequest(t, p.host, tt.req+next)
			if want := fmt.Sprintf("HTTP/1.1 %d ", tt.want); !strings.HasPrefix(got, want) {
				t.Errorf("%q: got %q, want %d", tt.req, firstLine(got), tt.want)
			}
			if n := strings.Count(got, "HTTP/1.1 "); n != 1 {
				t.Errorf("%q: %d responses, want 1 (the request behind it must not be served):\n%s", tt.req, n, got)
			}
			if wrs := drain(seen); len(wrs) != 0 {
				t.Errorf("%q reached the upstream as %q", tt.req, wrs[0].line)
			}
		})
	}
}

func TestOversizedHeadersAre431(t *testing.T) {
	be, seen := wireBackend(t)
	p := startProxy(t, "routes:\n  /api: "+be.url+"\n", nil)
	c, err := net.Dial("tcp", p.host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	// devproxy stops reading at its limit and hangs up, so the rest of the
	// write may fail: the answer is read meanwhile.
	go func() {
		_, _ = io.WriteString(c, "GET /api/x HTTP/1.1\r\nHost: "+p.host+"\r\nX-Big: "+strings.Repeat("a", 2<<20)+"\r\n\r\n")
	}()
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET with 2 MiB of headers: %v, want a 431", err)
	}
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("GET with 2 MiB of headers: status %d, want 431", res.StatusCode)
	}
	if wrs := drain(seen); len(wrs) != 0 {
		t.Errorf("a request with 2 MiB of headers reached the upstream")
	}
	// Headers just under the limit pass.
	res, body := p.do(t, "GET", "/api/big", nil, http.Header{"X-Big": {strings.Repeat("a", 512<<10)}})
	if res.StatusCode != 200 || !strings.HasPrefix(body, "GET /api/big ") {
		t.Errorf("GET with 512 KiB of headers: got %d %q, want 200", res.StatusCode, firstLine(body))
	}
}

// TestContentLengthWithTransferEncoding pins RFC 9112 §6.1: a request with
// both is framed by Transfer-Encoding alone, the upstream never sees both
// headers, and what follows the chunked body is a request of its own that
// devproxy parses, answers and logs, never bytes smuggled to the upstream.
func TestContentLengthWithTransferEncoding(t *testing.T) {
	be, seen := wireBackend(t)
	p := startProxy(t, "routes:\n  /api: "+be.url+"\n", nil)
	host := "Host: " + p.host + "\r\n"
	const hidden = "GET /api/hidden HTTP/1.1\r\nHost: localhost\r\n\r\n"
	tests := []struct {
		name  string
		req   string
		paths []string // the requests the upstream must see, in order
		body  string   // the first request's body as the upstream reads it
	}{
		{
			name:  "CL.TE: a request hidden after a chunked body",
			req:   "POST /api/first HTTP/1.1\r\n" + host + "Content-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/second HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n",
			paths: []string{"/api/first", "/api/second"},
			body:  "",
		},
		{
			name:  "TE.CL: a request hidden inside the chunks",
			req:   "POST /api/first HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n", len(hidden), hidden) + "0\r\n\r\nGET /api/second HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n",
			paths: []string{"/api/first", "/api/second"},
			body:  hidden,
		},
		{
			name:  "chunked in capitals",
			req:   "POST /api/first HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /api/second HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n",
			paths: []string{"/api/first", "/api/second"},
			body:  "hello",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", p.host)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(waitTimeout))
			if _, err := io.WriteString(c, tt.req); err != nil {
				t.Fatal(err)
			}
			statuses, bodies := readResponses(c)
			if len(statuses) == 1 && statuses[0] == 400 {
				// Refusing the request outright is the other answer RFC
				// 9112 allows; then nothing may reach the upstream.
				if wrs := drain(seen); len(wrs) != 0 {
					t.Errorf("refused with 400, yet %q reached the upstream", wrs[0].line)
				}
				return
			}
			if len(statuses) != len(tt.paths) {
				t.Fatalf("got %d responses %v %q, want %d", len(statuses), statuses, bodies, len(tt.paths))
			}
			for i, path := range tt.paths {
				wantLine := fmt.Sprintf("%s %s HTTP/1.1", map[bool]string{true: "POST", false: "GET"}[i == 0], path)
				if statuses[i] != 200 || !strings.HasPrefix(bodies[i], wantLine+"\n") {
					t.Errorf("response %d: %d %q, want 200 answering %q", i, statuses[i], bodies[i], wantLine)
				}
			}
			wrs := drain(seen)
			if len(wrs) != len(tt.paths) {
				var lines []string
				for _, wr := range wrs {
					lines = append(lines, wr.line)
				}
				t.Fatalf("the upstream saw %q, want exactly %d requests", lines, len(tt.paths))
			}
			for _, wr := range wrs {
				if wr.header.Get("Content-Length") != "" && wr.header.Get("Transfer-Encoding") != "" {
					t.Errorf("the upstream saw %q with both Content-Length %q and Transfer-Encoding %q", wr.line, wr.header.Get("Content-Length"), wr.header.Get("Transfer-Encoding"))
				}
				if len(wr.header["Content-Length"]) > 1 || len(wr.header["Transfer-Encoding"]) > 1 {
					t.Errorf("the upstream saw %q with repeated framing headers %v", wr.line, wr.header)
				}
			}
			if wrs[0].body != tt.body {
				t.Errorf("the upstream read the first body as %q, want %q", wrs[0].body, tt.body)
			}
			// Every request the upstream saw is one devproxy logged.
			for _, path := range tt.paths {
				p.log.waitFor(t, path)
			}
			if strings.Contains(p.log.String(), "/api/hidden") {
				t.Errorf("the log shows a request that was only body bytes:\n%s", p.log)
			}
		})
	}
}

// TestKeepAliveStaysInStep sends well-formed requests of every framing down
// one connection and checks that each response answers its own request.
func TestKeepAliveStaysInStep(t *testing.T) {
	be, seen := wireBackend(t)
	p := startProxy(t, "routes:\n  /api: "+be.url+"\n", nil)
	host := "Host: " + p.host + "\r\n"
	reqs := []string{
		"GET /api/1 HTTP/1.1\r\n" + host + "\r\n",
		"POST /api/2 HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello",
		"POST /api/3 HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
		"POST /api/4 HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nxyz",
		"HEAD /api/5 HTTP/1.1\r\n" + host + "\r\n",
		"GET /api/6 HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n",
	}
	want := []string{"GET /api/1 HTTP/1.1\n", "POST /api/2 HTTP/1.1\nhello", "POST /api/3 HTTP/1.1\nabcde", "POST /api/4 HTTP/1.1\nxyz", "", "GET /api/6 HTTP/1.1\n"}
	c, err := net.Dial("tcp", p.host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	br := bufio.NewReader(c)
	// One at a time, since a HEAD response has no body to frame it by.
	for i, req := range reqs {
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		method, _, _ := strings.Cut(req, " ")
		res, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(b) != want[i] {
			t.Errorf("request %d %q: got %d %q, want 200 %q", i+1, firstLine(req), res.StatusCode, b, want[i])
		}
	}
	if n := len(drain(seen)); n != len(reqs) {
		t.Errorf("the upstream saw %d requests, want %d", n, len(reqs))
	}
}

// TestMalformedChunkedBodyIsTheClients: a chunked body that breaks off in
// nonsense is the client's mistake: devproxy answers 400 and says so, never
// a 502 that blames the target, and the upstream never gets a whole request.
func TestMalformedChunkedBodyIsTheClients(t *testing.T) {
	be, seen := wireBackend(t)
	p := startProxy(t, "routes:\n  /api: "+be.url+"\n", nil)
	for _, chunks := range []string{"zz\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n\r\n0\r\n\r\n", "5\r\nhelloXX\r\n0\r\n\r\n"} {
		got := rawRequest(t, p.host, "POST /api/x HTTP/1.1\r\nHost: "+p.host+"\r\nTransfer-Encoding: chunked\r\n\r\n"+chunks)
		if !strings.HasPrefix(got, "HTTP/1.1 400 ") || !strings.Contains(got, "request body") {
			t.Errorf("POST with chunks %q: got %q, want 400 saying the request body is malformed", chunks, got)
		}
		if strings.Contains(got, "target") {
			t.Errorf("POST with chunks %q: the answer blames the target: %q", chunks, got)
		}
		if wrs := drain(seen); len(wrs) != 0 {
			t.Errorf("POST with chunks %q: the upstream read a whole request %q", chunks, wrs[0].line)
		}
	}
	p.log.waitFor(t, "POST", "/api/x", "400")
}

// TestMalformedUpstreamResponses: whatever bytes come back, the client gets
// a 502 naming the route, and the next request on a healthy route is
// served.
func TestMalformedUpstreamResponses(t *testing.T) {
	healthy, _ := wireBackend(t)
	tests := []struct {
		name, response string
		want           string // in the 502's error
		hangUp         bool   // close the connection after the response
	}{
		{"garbage", "this is not HTTP at all\r\n\r\n", "invalid HTTP response", false},
		{"binary garbage", "\x00\x01\x02\xff\xfe\r\n\r\n", "invalid HTTP response", false},
		{"invalid status code", "HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n", "invalid HTTP response", false},
		{"status code out of range", "HTTP/1.1 1000 Big\r\nContent-Length: 0\r\n\r\n", "invalid HTTP response", false},
		{"invalid header line", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "invalid HTTP response", false},
		{"invalid Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "Content-Length", false},
		{"two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "Content-Length", false},
		{"closed without a response", "", "closed the connection without a response", true},
		{"headers cut off", "HTTP/1.1 200 OK\r\nContent-Le", "invalid HTTP response", true},
		{"unsolicited 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "switched protocols to", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
				if _, err := readWireRequest(br); err != nil {
					return // devproxy's start-up probe
				}
				_, _ = io.WriteString(c, tt.response)
				if tt.hangUp {
					return
				}
				// Hold the connection until devproxy lets go of it, so
				// that the test sees whether it does.
				_, _ = io.Copy(io.Discard, br)
			})
			p := startProxy(t, "routes:\n  /bad: "+bad.url+"\n  /good: "+healthy.url+"\n", nil)
			<-bad.closed // the probe
			res, body := p.get(t, "/bad/x")
			if res.StatusCode != http.StatusBadGateway || res.Header.Get("X-Devproxy-Error") != "1" {
				t.Fatalf("GET /bad/x: got %d %q, want 502 from devproxy", res.StatusCode, body)
			}
			if !strings.Contains(body, `"route":"/bad"`) || !strings.Contains(body, tt.want) {
				t.Errorf("GET /bad/x: body %q, want the route /bad and %q", body, tt.want)
			}
			if res, body := p.get(t, "/good/y"); res.StatusCode != 200 || !strings.HasPrefix(body, "GET /good/y ") {
				t.Errorf("GET /good/y after a bad response: got %d %q, want 200", res.StatusCode, body)
			}
			p.log.waitFor(t, "/bad/x", "502", tt.want)
			// devproxy closes the connection a bad response came on.
			bad.waitClosed(t, fmt.Sprintf("devproxy kept the upstream connection after %q", tt.response))
		})
	}
}
