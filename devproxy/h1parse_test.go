package devproxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"testing"
)

// chromiumHead is a module request as Chromium sends it over HTTP/1.1.
const chromiumHead = "GET /src/components/c042.jsx?t=1764590000000 HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"Connection: keep-alive\r\n" +
	"sec-ch-ua-platform: \"Linux\"\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"156\", \"Not_A Brand\";v=\"24\"\r\n" +
	"sec-ch-ua-mobile: ?0\r\n" +
	"Accept: */*\r\n" +
	"Origin: http://localhost:8080\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Sec-Fetch-Mode: cors\r\n" +
	"Sec-Fetch-Dest: script\r\n" +
	"Referer: http://localhost:8080/src/main.jsx\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Cookie: session=abc123; theme=dark\r\n" +
	"If-None-Match: W/\"2aab-18ed14c963c5425a\"\r\n" +
	"Pragma: no-cache\r\n" +
	"\r\n"

// sameRequest reports how parseRequestHead's request differs from
// ReadRequest's (with Host taken out of the header, as the server does),
// or "".
func sameRequest(fast *http.Request, raw []byte) string {
	std, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return "ReadRequest refuses it: " + err.Error()
	}
	type view struct {
		Method, RequestURI, URL, Proto, Host string
		Major, Minor                         int
		Header                               http.Header
		Close, NoBody                        bool
		ContentLength                        int64
	}
	v := func(r *http.Request) view {
		return view{r.Method, r.RequestURI, r.URL.String(), r.Proto, r.Host, r.ProtoMajor, r.ProtoMinor,
			r.Header, r.Close, r.Body == http.NoBody, r.ContentLength}
	}
	if a, b := v(fast), v(std); !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("fast:        %+v\n  ReadRequest: %+v", a, b)
	}
	return ""
}

// TestParseRequestHeadMatchesReadRequest: wherever the fast parser takes a
// header block, ReadRequest takes it too and gives the same request. Each
// case is also mutated a few thousand times at random (seeded, so a
// failure repeats).
func TestParseRequestHeadMatchesReadRequest(t *testing.T) {
	cases := []struct {
		head string
		fast bool // the fast parser takes it
	}{
		{chromiumHead, true},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"HEAD /a?b=c HTTP/1.1\r\nhost: x:1\r\nconnection: Close\r\n\r\n", true},
		{"GET /%7Euser/a%20b HTTP/1.1\r\nHost: [::1]:8080\r\nX-Empty:\r\nX-Two: a\r\nx-two: b\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: x\r\nPragma: no-cache\r\nCache-Control: max-age=0\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-Obs: caf\xc3\xa9\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-Tab: \ta\tb \t\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", false},
		{"GET / HTTP/1.1\r\n\r\n", false},
		{"GET / HTTP/1.1\nHost: x\n\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nHost: x\r\n\r\n", false},
		{"POST / HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n", false},
	}
	rng := rand.New(rand.NewPCG(22, 1))
	alphabet := []byte(" \t:\r\n\x00\x7f\x80,;=\"/?%Aa0-")
	checked := 0
	for _, tc := range cases {
		req, ok := parseRequestHead([]byte(tc.head))
		if ok != tc.fast {
			t.Errorf("%q: fast parser takes it %v, want %v", tc.head, ok, tc.fast)
		}
		if ok {
			if d := sameRequest(req, []byte(tc.head)); d != "" {
				t.Errorf("%q:\n  %s", tc.head, d)
			}
		}
		for range 3000 {
			m := []byte(tc.head)
			for range 1 + rng.IntN(3) {
				i := rng.IntN(len(m))
				switch rng.IntN(3) {
				case 0: // replace
					m[i] = alphabet[rng.IntN(len(alphabet))]
				case 1: // insert
					m = append(m[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, m[i:]...)...)
				default: // delete
					m = append(m[:i], m[i+1:]...)
				}
			}
			// the caller hands over a block that ends the headers
			end := bytes.Index(m, []byte("\r\n\r\n"))
			if end < 0 {
				continue
			}
			m = m[:end+4]
			req, ok := parseRequestHead(m)
			if !ok {
				continue
			}
			checked++
			if d := sameRequest(req, m); d != "" {
				t.Fatalf("mutated %q:\n  %s", m, d)
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d mutated blocks taken by the fast parser: the test checks too little", checked)
	}
}

func BenchmarkParseRequestHead(b *testing.B) {
	raw := []byte(chromiumHead)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := parseRequestHead(raw); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("ReadRequest", func(b *testing.B) {
		b.ReportAllocs()
		var r bytes.Reader
		br := bufio.NewReader(&r)
		for b.Loop() {
			r.Reset(raw)
			br.Reset(&r)
			if _, err := http.ReadRequest(br); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// viteHead is a module response as Vite's dev server sends it.
const viteHead = "HTTP/1.1 200 OK\r\n" +
	"Vary: Origin\r\n" +
	"Content-Type: text/javascript\r\n" +
	"Cache-Control: no-cache\r\n" +
	"Etag: W/\"2aab-18ed14c963c5425a\"\r\n" +
	"Date: Tue, 01 Dec 2026 14:00:00 GMT\r\n" +
	"Connection: keep-alive\r\n" +
	"Keep-Alive: timeout=5\r\n" +
	"Content-Length: 12\r\n" +
	"\r\n"

// sameResponse reports how parseResponseHead's response to method differs
// from ReadResponse's, body included (raw holds the head, then the body
// and more), or "".
func sameResponse(head, raw []byte, method string) string {
	req := &http.Request{Method: method}
	fastBR := bufio.NewReader(bytes.NewReader(raw))
	if _, err := fastBR.Peek(len(head)); err != nil {
		return err.Error()
	}
	fast, ok := parseResponseHead(head, req, fastBR)
	if !ok {
		return "not taken"
	}
	_, _ = fastBR.Discard(len(head))
	stdBR := bufio.NewReader(bytes.NewReader(raw))
	std, err := http.ReadResponse(stdBR, req)
	if err != nil {
		return "ReadResponse refuses it: " + err.Error()
	}
	type view struct {
		Status, Proto                  string
		Code, Major, Minor             int
		Header                         http.Header
		ContentLength                  int64
		Close, NoBody                  bool
		TransferEncoding               []string
		Body, BodyErr, After, AfterErr string
	}
	v := func(r *http.Response, br *bufio.Reader) view {
		b, err := io.ReadAll(r.Body)
		after, err2 := io.ReadAll(br)
		return view{r.Status, r.Proto, r.StatusCode, r.ProtoMajor, r.ProtoMinor, r.Header, r.ContentLength,
			r.Close, r.Body == http.NoBody, r.TransferEncoding, string(b), fmt.Sprint(err), string(after), fmt.Sprint(err2)}
	}
	if a, b := v(fast, fastBR), v(std, stdBR); !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("fast:         %+v\n  ReadResponse: %+v", a, b)
	}
	return ""
}

// TestParseResponseHeadMatchesReadResponse: wherever the fast parser takes
// a response head, ReadResponse reads the same response, and the same
// body up to the same byte.
func TestParseResponseHeadMatchesReadResponse(t *testing.T) {
	cases := []struct {
		head   string
		method string
		fast   bool
	}{
		{viteHead, "GET", true},
		{viteHead, "HEAD", true},
		{"HTTP/1.1 304 Not Modified\r\nEtag: W/\"1\"\r\nDate: x\r\n\r\n", "GET", true},
		{"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", "GET", true},
		{"HTTP/1.1 204 No Content\r\n\r\n", "GET", true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", true},
		{"HTTP/1.1 404\r\nContent-Length: 3\r\nConnection: close\r\n\r\n", "GET", true},
		{"HTTP/1.1 200  OK\r\nContent-Length: 5\r\nPragma: no-cache\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n", "GET", true},
		{"HTTP/1.1 599 Whatever Else\r\nContent-Length: 1\r\nX-Obs: \xc3\xa9\r\n\r\n", "GET", true},
		{"HTTP/1.1 200 OK\r\n\r\n", "GET", false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", "GET", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", "GET", false},
		{"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", "GET", false},
		{"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n", "GET", false},
		{"HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 5\r\n\r\n", "GET", false},
		{"HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 5\r\n\r\n", "GET", false},
		{"HTTP/1.1 200 OK\r\nHEAD: no\r\n\r\n", "HEAD", false},
	}
	const body = "0123456789abcdefghij" // more than any Content-Length above: the rest is the next response
	rng := rand.New(rand.NewPCG(22, 2))
	alphabet := []byte(" \t:\r\n\x00\x7f\x80,;=\"/?%Aa0-9")
	checked := 0
	for _, tc := range cases {
		if d := sameResponse([]byte(tc.head), []byte(tc.head+body), tc.method); (d != "not taken") != tc.fast || tc.fast && d != "" {
			t.Errorf("%s %q: %s (fast parser should take it: %v)", tc.method, tc.head, d, tc.fast)
		}
		for range 3000 {
			m := []byte(tc.head)
			for range 1 + rng.IntN(3) {
				i := rng.IntN(len(m))
				switch rng.IntN(3) {
				case 0:
					m[i] = alphabet[rng.IntN(len(alphabet))]
				case 1:
					m = append(m[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, m[i:]...)...)
				default:
					m = append(m[:i], m[i+1:]...)
				}
			}
			end := bytes.Index(m, []byte("\r\n\r\n"))
			if end < 0 {
				continue
			}
			head := m[:end+4]
			d := sameResponse(head, append(append([]byte(nil), head...), body...), tc.method)
			if d == "not taken" {
				continue
			}
			checked++
			if d != "" {
				t.Fatalf("%s, mutated %q:\n  %s", tc.method, head, d)
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d mutated heads taken by the fast parser: the test checks too little", checked)
	}
}

func BenchmarkParseResponseHead(b *testing.B) {
	raw := []byte(viteHead + "0123456789ab")
	req := &http.Request{Method: http.MethodGet}
	var r bytes.Reader
	br := bufio.NewReader(&r)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Reset(raw)
			br.Reset(&r)
			_, _ = br.Peek(len(viteHead))
			if _, ok := parseResponseHead(raw[:len(viteHead)], req, br); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("ReadResponse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Reset(raw)
			br.Reset(&r)
			if _, err := http.ReadResponse(br, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestCanonicalNameAsCanonicalHeaderKey(t *testing.T) {
	for _, name := range []string{"sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "Sec-Ch-Ua", "SEC-CH-UA",
		"sec-ch-ua-arch", "accept", "Accept", "x_y", "a b", "\u212aeep-alive", ""} {
		if got, want := canonicalName(name), http.CanonicalHeaderKey(name); got != want {
			t.Errorf("canonicalName(%q) = %q, want %q", name, got, want)
		}
	}
}

// headerKey is validHeaderName and http.CanonicalHeaderKey in one pass:
// the browser's names, the odd ones, and 100 000 seeded random names
// from letters of both cases, digits, '-', token symbols and bytes no
// token holds.
func TestHeaderKeyAsValidAndCanonical(t *testing.T) {
	names := []string{"Accept", "accept", "ACCEPT", "sec-ch-ua", "Sec-Fetch-Mode", "sec-fetch-MODE", "If-None-Match",
		"X-Forwarded-For", "x-forwarded-for", "-", "--a", "a-", "A-b-C", "Te", "TE", "te", "x_y", "a b", "a:b",
		"\u212aeep-alive", "é", "a\x7f", "", "Content-Length", "content-length", "WWW-Authenticate", "Www-Authenticate"}
	const alphabet = "aAzZkKmM09-_!#$%&'*+.^`|~ \t:\x00\x7f\x80\xff"
	rnd := rand.New(rand.NewPCG(22, 5))
	for range 100000 {
		b := make([]byte, 1+rnd.IntN(12))
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		names = append(names, string(b))
	}
	for _, name := range names {
		key, ok := headerKey(name)
		if want := validHeaderName(name); ok != want {
			t.Fatalf("headerKey(%q) ok = %v, validHeaderName says %v", name, ok, want)
		}
		if !ok {
			continue
		}
		if want := http.CanonicalHeaderKey(name); key != want {
			t.Fatalf("headerKey(%q) = %q, want %q", name, key, want)
		}
	}
}

// TestPlainValue: the eight-bytes-at-a-time check of a field value says
// what the byte-by-byte one says, for every byte at every place of a word
// and of the tail after the words, and for random values.
func TestPlainValue(t *testing.T) {
	for c := range 256 {
		for at := range 19 {
			v := []byte("abcdefgh\tjklmnopqrs")
			v[at] = byte(c)
			if got, want := plainValue(string(v)), plainBytes(string(v)); got != want {
				t.Fatalf("plainValue(%q) = %t, want %t", v, got, want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(22, 2))
	for range 20000 {
		v := make([]byte, rng.IntN(40))
		for i := range v {
			// mostly printable, some controls, tabs, DELs and high bytes
			switch rng.IntN(8) {
			case 0:
				v[i] = byte(rng.IntN(256))
			case 1:
				v[i] = "\t\x7f\x00\x1f\x80\xff"[rng.IntN(6)]
			default:
				v[i] = byte(' ' + rng.IntN(95))
			}
		}
		if got, want := plainValue(string(v)), plainBytes(string(v)); got != want {
			t.Fatalf("plainValue(%q) = %t, want %t", v, got, want)
		}
	}
}
