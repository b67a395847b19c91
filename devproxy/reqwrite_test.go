package devproxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestWriteRequestAsRequestWrite pins that the short path's request writer
// sends the bytes Request.Write sends, for what a browser and devproxy put
// on a request and for the odd cases Request.Write is left to.
func TestWriteRequestAsRequestWrite(t *testing.T) {
	browser := func(r *http.Request) {
		r.Header.Set("sec-ch-ua", `"Chromium";v="140", "Not=A?Brand";v="24"`)
		r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0.0.0 Safari/537.36")
		r.Header.Set("Accept", "*/*")
		r.Header.Set("Sec-Fetch-Mode", "cors")
		r.Header.Set("Referer", "http://localhost:8080/src/main.js")
		r.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
		r.Header.Set("Cookie", "a=1; b=2")
		r.Header.Set("If-None-Match", `W/"2a3f-abc"`)
		r.Header.Set("X-Forwarded-For", "127.0.0.1")
		r.Header.Add("X-Devproxy-Hop", "abc")
	}
	tests := []struct {
		name   string
		method string
		url    string
		host   string
		edit   func(*http.Request)
	}{
		{"browser module request", "GET", "http://127.0.0.1:5173/src/c001.js", "", browser},
		{"HEAD with a query", "HEAD", "http://localhost:5173/a?b=c&d", "", browser},
		{"opaque path keeps %2F", "GET", "http://localhost:5173/x", "", func(r *http.Request) { r.URL.Opaque = "/a%2Fb"; r.URL.RawQuery = "q=1" }},
		{"preserved Host", "GET", "http://127.0.0.1:5173/", "app.localhost:8080", browser},
		{"no User-Agent: Go's default", "GET", "http://127.0.0.1:5173/", "", nil},
		{"empty User-Agent: none", "GET", "http://127.0.0.1:5173/", "", func(r *http.Request) { r.Header["User-Agent"] = []string{""} }},
		{"User-Agent with a newline", "GET", "http://127.0.0.1:5173/", "", func(r *http.Request) { r.Header.Set("User-Agent", " a\r\nb ") }},
		{"values with newlines, spaces and tabs", "GET", "http://127.0.0.1:5173/", "", func(r *http.Request) {
			r.Header["X-A"] = []string{" one ", "two\nthree", "\tfour\r"}
		}},
		{"invalid names dropped", "GET", "http://127.0.0.1:5173/", "", func(r *http.Request) {
			r.Header["Bad Name"] = []string{"x"}
			r.Header["Bad:Colon"] = []string{"x"}
			r.Header[""] = []string{"x"}
			r.Header["Ok-Name"] = []string{"y"}
		}},
		{"excluded headers", "GET", "http://127.0.0.1:5173/", "", func(r *http.Request) {
			r.Header.Set("Host", "other")
			r.Header.Set("Content-Length", "5")
			r.Header.Set("Transfer-Encoding", "chunked")
			r.Header.Set("Trailer", "X")
		}},
		{"many headers", "GET", "http://127.0.0.1:5173/", "", func(r *http.Request) {
			for i := range 40 {
				r.Header.Set("X-H"+strings.Repeat("z", i), "v")
			}
		}},
		{"OPTIONS (Request.Write)", "OPTIONS", "http://127.0.0.1:5173/", "", browser},
		{"zone in Host (Request.Write)", "GET", "http://[fe80::1%25eth0]:5173/", "", nil},
		{"unicode Host (Request.Write)", "GET", "http://127.0.0.1:5173/", "bücher.localhost", nil},
		{"Host with a space (Request.Write)", "GET", "http://127.0.0.1:5173/", "a b", nil},
		{"trailer (Request.Write)", "GET", "http://127.0.0.1:5173/", "", func(r *http.Request) { r.Trailer = http.Header{"X": nil} }},
		{"close (Request.Write)", "GET", "http://127.0.0.1:5173/", "", func(r *http.Request) { r.Close = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			build := func() *http.Request {
				u, err := url.Parse(tt.url)
				if err != nil {
					t.Fatal(err)
				}
				r := &http.Request{Method: tt.method, URL: u, Host: tt.host, Header: http.Header{}, Body: http.NoBody}
				if tt.edit != nil {
					tt.edit(r)
				}
				return r
			}
			var want, got bytes.Buffer
			wantErr := build().Write(&want)
			bw := bufio.NewWriter(&got)
			gotErr := writeRequest(bw, build())
			_ = bw.Flush()
			if (gotErr != nil) != (wantErr != nil) {
				t.Fatalf("error = %v, want %v", gotErr, wantErr)
			}
			if got.String() != want.String() {
				t.Errorf("wrote\n%q\nwant (Request.Write)\n%q", got.String(), want.String())
			}
		})
	}
	t.Run("control character in the path", func(t *testing.T) {
		r := &http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: "127.0.0.1", Opaque: "/a\x01"}, Header: http.Header{}}
		var b bytes.Buffer
		bw := bufio.NewWriter(&b)
		if err := writeRequest(bw, r); err == nil {
			t.Errorf("no error for a control character in the request target")
		}
	})
	t.Run("ReverseProxy's trace keeps the short writer", func(t *testing.T) {
		// ReverseProxy adds a trace with Got1xxResponse to every request;
		// only Request.Write allocates (its sorter, its formatted lines).
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			Got1xxResponse: func(int, textproto.MIMEHeader) error { return nil },
		})
		r, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:5173/src/main.js", nil)
		r.Header.Set("Accept", "*/*")
		r.Header.Set("User-Agent", "Mozilla/5.0")
		bw := bufio.NewWriter(io.Discard)
		if n := testing.AllocsPerRun(100, func() { _ = writeRequest(bw, r) }); n != 0 {
			t.Errorf("writeRequest allocates %v times with a Got1xxResponse trace, want 0 (it went to Request.Write)", n)
		}
	})
	t.Run("client trace goes to Request.Write", func(t *testing.T) {
		var wrote []string
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			WroteHeaderField: func(k string, _ []string) { wrote = append(wrote, k) },
		})
		r, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:5173/", nil)
		r.Header.Set("Accept", "*/*")
		var b bytes.Buffer
		bw := bufio.NewWriter(&b)
		if err := writeRequest(bw, r); err != nil {
			t.Fatal(err)
		}
		if len(wrote) == 0 {
			t.Errorf("the trace saw no header: the request did not go through Request.Write")
		}
	})
}

// BenchmarkWriteRequest writes a browser's module request as it goes
// upstream, with Request.Write and with the short path's writer.
func BenchmarkWriteRequest(b *testing.B) {
	r := browserRequest("/src/components/c001.js")
	r.Header.Set("If-None-Match", `W/"2a3f-9c1d2e"`)
	r.Header.Set("sec-ch-ua", `"Chromium";v="140", "Not=A?Brand";v="24", "Google Chrome";v="140"`)
	r.Header.Set("sec-ch-ua-mobile", "?0")
	r.Header.Set("sec-ch-ua-platform", `"Linux"`)
	r.Header.Set("X-Forwarded-For", "127.0.0.1")
	r.Header.Set("X-Forwarded-Host", "localhost:8080")
	r.Header.Set("X-Forwarded-Proto", "http")
	r.Header.Set("X-Forwarded-Port", "8080")
	r.Header.Set("X-Devproxy-Hop", "0123456789abcdef")
	r.Header.Del("Connection")
	out := &http.Request{Method: r.Method, URL: &url.URL{Scheme: "http", Host: "127.0.0.1:5173", Opaque: r.URL.Path}, Header: r.Header, Body: http.NoBody}
	bw := bufio.NewWriter(io.Discard)
	for _, c := range []struct {
		name  string
		write func() error
	}{
		{"Request.Write", func() error { return out.Write(bw) }},
		{"writeRequest", func() error { return writeRequest(bw, out) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.write(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSortFieldsAsSlicesSort pins sortFields to slices.Sort's order of
// the names, each keeping its values: the names of a browser's request,
// and random names that share long prefixes, are shorter than eight
// bytes, hold zero bytes or are longer than the prefix array.
func TestSortFieldsAsSlicesSort(t *testing.T) {
	browser := []string{"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "User-Agent", "Accept", "Sec-Fetch-Site",
		"Sec-Fetch-Mode", "Sec-Fetch-Dest", "Referer", "Accept-Encoding", "Accept-Language", "Cookie", "If-None-Match",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Devproxy-Hop", "Te", "A"}
	rng := rand.New(rand.NewPCG(22, 3))
	alphabet := "AaBb-\x00Zz"
	cases := [][]string{nil, {"X"}, browser}
	for range 2000 {
		n := rng.IntN(60)
		keys := make([]string, n)
		for i := range keys {
			b := make([]byte, rng.IntN(12))
			for j := range b {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			}
			keys[i] = string(b)
		}
		cases = append(cases, keys)
	}
	for _, keys := range cases {
		fields := make([]namedValues, len(keys))
		for i, k := range keys {
			fields[i] = namedValues{k, []string{k + "=" + strconv.Itoa(i)}}
		}
		rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
		sortFields(fields)
		got := make([]string, len(fields))
		for i, f := range fields {
			got[i] = f.name
			if len(f.values) != 1 || !strings.HasPrefix(f.values[0], f.name+"=") {
				t.Fatalf("sortFields(%q): %q has the values %q", keys, f.name, f.values)
			}
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("sortFields(%q)\n= %q\nwant %q", keys, got, want)
		}
	}
}

func BenchmarkSortFields(b *testing.B) {
	browser := []string{"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "User-Agent", "Accept", "Sec-Fetch-Site",
		"Sec-Fetch-Mode", "Sec-Fetch-Dest", "Referer", "Accept-Encoding", "Accept-Language", "Cookie", "If-None-Match",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Devproxy-Hop", "Connection"}
	rng := rand.New(rand.NewPCG(22, 4))
	fields := make([]namedValues, len(browser))
	for _, c := range []struct {
		name string
		sort func([]namedValues)
	}{{"sortFields", sortFields}, {"slices.SortFunc", func(f []namedValues) { slices.SortFunc(f, compareNames) }}, {"shuffle only", func([]namedValues) {}}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				for i, k := range browser {
					fields[i] = namedValues{name: k}
				}
				rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
				c.sort(fields)
			}
		})
	}
}
