package inspect

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// reportCPU adds the process's CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	if cpu := processCPU(); cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkHooks is the capture's cost per small request: every hook the
// core calls, on a store that is full, so that each Begin also drops the
// oldest exchange.
func BenchmarkHooks(b *testing.B) {
	s := New(Options{})
	r := httptest.NewRequest("GET", "http://localhost:8080/api/items?page=2", nil)
	r.RequestURI = "/api/items?page=2" // as a server sets it
	r.Header = http.Header{
		"Accept":          {"application/json"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"Accept-Language": {"en-US,en;q=0.9"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"},
		"Cookie":          {"session=abc123"},
	}
	resp := http.Header{
		"Content-Type":   {"application/json"},
		"Content-Length": {"200"},
		"Date":           {"Tue, 01 Dec 2026 09:00:00 GMT"},
		"Vary":           {"Accept-Encoding"},
	}
	body := make([]byte, 200)
	where := Where{Kind: KindRoute, Route: "/api", Target: "http://127.0.0.1:5000"}
	for range DefaultMaxExchanges {
		ex := s.Begin(r, where)
		ex.Finish(0, nil)
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		ex := s.Begin(r, where)
		_ = ex.TeeRequestBody(http.NoBody)
		ex.ResponseHeader(200, resp)
		ex.ResponseBody(body)
		ex.Finish(int64(len(body)), nil)
	}
	reportCPU(b, cpu)
}

// BenchmarkProxy is a small GET through the test core over loopback, with
// capture on and off.
func BenchmarkProxy(b *testing.B) {
	for _, tc := range []struct {
		name string
		off  bool
	}{{"capture=off", true}, {"capture=on", false}} {
		b.Run(tc.name, func(b *testing.B) {
			c := startCore(b, coreOptions{off: tc.off})
			client := c.Client()
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				res, err := client.Get(c.URL + "/api/small")
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkProxyDownload is a 16 MiB download through the test core with
// capture on and off: past the first MiB the capture only counts.
func BenchmarkProxyDownload(b *testing.B) {
	const size = 16 << 20
	for _, tc := range []struct {
		name string
		off  bool
	}{{"capture=off", true}, {"capture=on", false}} {
		b.Run(tc.name, func(b *testing.B) {
			c := startCore(b, coreOptions{off: tc.off})
			client := c.Client()
			b.SetBytes(size)
			cpu := processCPU()
			for b.Loop() {
				res, err := client.Get(c.URL + "/api/big?n=16777216")
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if n != size {
					b.Fatalf("got %d bytes, want %d", n, size)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkModuleBody is the capture of a 10 KB module, as a page load of
// the page-load harness's Vite app has three hundred of: the body read
// into a buffer of the proxy's own and copied, against read into the
// capture's room (BodyBuffer) and kept where it is.
func BenchmarkModuleBody(b *testing.B) {
	const size = 10 << 10
	module := make([]byte, size)
	for i := range module {
		module[i] = 'a' + byte(i%26)
	}
	resp := http.Header{
		"Content-Type":   {"text/javascript"},
		"Content-Length": {strconv.Itoa(size)},
		"Etag":           {`W/"2800-abc"`},
		"Cache-Control":  {"no-cache"},
	}
	r := httptest.NewRequest("GET", "http://localhost:8080/src/components/c1.js", nil)
	where := Where{Kind: KindFrontend, Target: "http://127.0.0.1:5173"}
	for _, inPlace := range []bool{false, true} {
		b.Run(map[bool]string{false: "copied", true: "in-place"}[inPlace], func(b *testing.B) {
			s := New(Options{})
			own := make([]byte, 32<<10)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				ex := s.Begin(r, where)
				ex.ResponseHeader(200, resp)
				buf := own
				if inPlace {
					buf = ex.BodyBuffer()
				}
				n := copy(buf, module) // the read from the target
				ex.ResponseBody(buf[:n])
				ex.Finish(size, nil)
			}
		})
	}
}
