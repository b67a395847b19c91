package devproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
)

// BenchmarkRoundTrip is one GET of a 1 KiB body from a loopback target,
// through the short path and through http.Transport with the same
// settings, on one kept-alive connection.
func BenchmarkRoundTrip(b *testing.B) {
	body := strings.Repeat("x", 1024)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	b.Cleanup(be.Close)
	target, err := url.Parse(be.URL)
	if err != nil {
		b.Fatal(err)
	}
	short := newUpstreamTransport(target, false, config.DefaultTimeout)
	b.Cleanup(short.retire)
	for _, c := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"short", short},
		{"http.Transport", short.std},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := browserRequest(be.URL + "/api/items")
			req.RequestURI = ""
			buf := make([]byte, 32<<10)
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, res.Body, buf); err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
			}
		})
	}
}
