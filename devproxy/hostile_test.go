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
	"unicode/utf8"
)

// TestLeftoverBytesNeverAnswerAnotherRequest pins the bug where a target
// that writes past the end of its response (a body longer than its
// Content-Length, a body on a HEAD as Python's do_HEAD = do_GET sends, a
// Content-Length counted in characters, an unsolicited 408 before it closes
// an idle connection) made the next request on that kept connection read
// those bytes as its answer. Each request must get its own response, many
// times in a row.
func TestLeftoverBytesNeverAnswerAnotherRequest(t *testing.T) {
	const rounds = 200
	// Each misbehaviour answers the request whose id is id, and writes what
	// it writes beyond the response before it returns.
	cases := []struct {
		name string
		head bool // a HEAD goes before each GET
		// misbehave answers one request; it returns false to close the
		// connection.
		misbehave func(c net.Conn, method, id string) bool
	}{
		{"body longer than Content-Length", false, func(c net.Conn, _, id string) bool {
			body := "id=" + id
			if _, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body); err != nil {
				return false
			}
			_, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nsomeone else!")
			return err == nil
		}},
		{"body on a HEAD", true, func(c net.Conn, method, id string) bool {
			body := "id=" + id
			if _, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", len(body)); err != nil {
				return false
			}
			// Python writes the headers and the body in two writes, and
			// the body also on a HEAD.
			_, err := io.WriteString(c, body)
			return err == nil
		}},
		{"Content-Length in characters", false, func(c net.Conn, _, id string) bool {
			// Long enough that the end of the counted length is read
			// straight into the copy's buffer, past devproxy's own: the
			// rest stays on the connection.
			body := "id=" + id + " " + strings.Repeat("a", 8000) + strings.Repeat("é", 2000)
			_, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", utf8.RuneCountInString(body), body)
			return err == nil
		}},
		{"unsolicited 408 before closing", false, func(c net.Conn, _, id string) bool {
			body := "id=" + id
			if _, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body); err != nil {
				return false
			}
			_, _ = io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
			return false
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// done receives a value once the target wrote everything it
			// writes for a request, so that the next request starts after
			// the stray bytes arrived, as they do in a browser's page load.
			done := make(chan struct{}, 2*rounds+10)
			b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
				for {
					wr, err := readWireRequest(br)
					if err != nil {
						return
					}
					f := strings.Fields(wr.line)
					if len(f) < 2 || !strings.HasPrefix(f[1], "/api/id/") {
						_ = answer(c, "probe")
						done <- struct{}{}
						continue
					}
					ok := tc.misbehave(c, f[0], strings.TrimPrefix(f[1], "/api/id/"))
					done <- struct{}{}
					if !ok {
						return
					}
				}
			})
			p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
			b.waitClosed(t, "the start-up probe never came")
			wait := func() {
				t.Helper()
				select {
				case <-done:
				case <-time.After(waitTimeout):
					t.Fatal("the target never answered")
				}
			}
			for i := range rounds {
				id := fmt.Sprint(i)
				if tc.head {
					res, _ := p.do(t, http.MethodHead, "/api/id/"+id, nil, nil)
					if res.StatusCode != 200 {
						t.Fatalf("round %d: HEAD: status = %d, want 200", i, res.StatusCode)
					}
					wait()
				}
				res, body := p.get(t, "/api/id/"+id)
				if res.StatusCode != 200 || !strings.HasPrefix(body, "id="+id) || (len(body) > 3+len(id) && body[3+len(id)] != ' ') {
					t.Fatalf("round %d: GET /api/id/%s: got %d %.60q, want 200 \"id=%s\"; log:\n%s", i, id, res.StatusCode, body, id, p.log)
				}
				wait()
			}
		})
	}
}

// TestTargetSpeaksBadHTTP: whatever status, header or framing a target
// sends, devproxy never panics and never relays nonsense: a response it
// cannot forward is a 502 that says the target is not speaking HTTP
// correctly, on the short path (GET) and through http.Transport (POST).
// Status codes below 100 used to panic the handler.
func TestTargetSpeaksBadHTTP(t *testing.T) {
	huge := "<html>" + strings.Repeat("someone-else's-page;", 500)
	cases := []struct {
		name     string
		response string
		status   int    // what the client gets
		body     string // part of the body the client gets
	}{
		{"status 000", "HTTP/1.1 000 Nothing\r\nContent-Length: 2\r\n\r\nok", 502, "status 000"},
		{"status 042", "HTTP/1.1 042 Odd\r\nContent-Length: 2\r\n\r\nok", 502, "status 042"},
		{"status 099", "HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok", 502, "status 099"},
		{"status of four digits", "HTTP/1.1 1000 Big\r\nContent-Length: 2\r\n\r\nok", 502, "malformed HTTP status code"},
		{"negative status", "HTTP/1.1 -42 Neg\r\nContent-Length: 2\r\n\r\nok", 502, "malformed HTTP status code"},
		{"status not a number", "HTTP/1.1 abc Words\r\nContent-Length: 2\r\n\r\nok", 502, "malformed HTTP status code"},
		{"no status", "HTTP/1.1\r\nContent-Length: 2\r\n\r\nok", 502, "malformed HTTP response"},
		{"not HTTP at all", "SSH-2.0-OpenSSH_9.6\r\n", 502, "malformed HTTP"},
		{"negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nok", 502, "Content-Length"},
		{"Content-Length not a number", "HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok", 502, "Content-Length"},
		{"conflicting Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", 502, "Content-Length"},
		{"Transfer-Encoding gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok", 502, "transfer encoding"},
		{"Transfer-Encoding twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 502, "transfer encoding"},
		{"Transfer-Encoding identity", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok", 502, "transfer encoding"},
		{"Trailer naming a framing header", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n2\r\nok\r\n0\r\n\r\n", 502, "trailer key"},
		// net/http drops a header whose name it cannot write.
		{"header name with a space", "HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 2\r\n\r\nok", 200, "ok"},
		{"header value with a NUL", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok", 502, "malformed MIME header"},
		{"header value with an escape", "HTTP/1.1 200 OK\r\nX-A: \x1b[31mred\r\nContent-Length: 2\r\n\r\nok", 502, "malformed MIME header"},
		{"header value with a tab", "HTTP/1.1 200 OK\r\nX-A: a\tb\r\nContent-Length: 2\r\n\r\nok", 200, "ok"},
		{"header line without colon", "HTTP/1.1 200 OK\r\nX-Broken\r\nContent-Length: 2\r\n\r\nok", 502, "malformed MIME header"},
		{"a page where the status line goes", huge + "\r\n\r\n", 502, "malformed HTTP"},
		{"same Content-Length twice", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", 200, "ok"},
		{"chunked wins over Content-Length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n2\r\nok\r\n0\r\n\r\n", 200, "ok"},
	}
	for _, tc := range cases {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				b := startRawBackend(t, func(c net.Conn, br *bufio.Reader) {
					wr, err := readWireRequest(br)
					if err != nil {
						return
					}
					if strings.Contains(wr.line, "/api/x") {
						_, _ = io.WriteString(c, tc.response)
					}
				})
				p := startProxy(t, "routes:\n  /api: "+b.url+"\n", nil)
				b.waitClosed(t, "the start-up probe never came")
				var body io.Reader
				if method == http.MethodPost {
					body = strings.NewReader("payload")
				}
				res, got := p.do(t, method, "/api/x", body, http.Header{"Accept": {"application/json"}})
				if res.StatusCode != tc.status || !strings.Contains(got, tc.body) {
					t.Fatalf("%s /api/x: got %d %.300q, want %d with %q; log:\n%s", method, res.StatusCode, got, tc.status, tc.body, p.log)
				}
				if tc.status != 502 {
					return
				}
				if res.Header.Get("X-Devproxy-Error") != "1" || !strings.Contains(got, "not speaking HTTP correctly") {
					t.Errorf("%s /api/x: body %q, want devproxy's 502 saying the target is not speaking HTTP correctly", method, got)
				}
				if len(got) > 1000 || strings.Contains(got, strings.Repeat("someone-else's-page;", 10)) {
					t.Errorf("%s /api/x: the 502 quotes %d bytes of what the target sent, want a short excerpt: %.200q", method, len(got), got)
				}
				log := p.log.waitFor(t, "/api/x", "502")
				if strings.Contains(log, "panic") || strings.Contains(log, "bug in devproxy") {
					t.Errorf("log shows a panic:\n%s", log)
				}
			})
		}
	}
}
