package devproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkServeHTTP sends one request at a time through Server.ServeHTTP,
// in process: routing, the proxy with its hooks, a keep-alive connection
// to a real backend on 127.0.0.1, and the log line.
func BenchmarkServeHTTP(b *testing.B) {
	small := `{"data":"` + strings.Repeat("x", 1024-11) + `"}`
	// A module of 10 KB, as a page load of the Vite app in the page-load
	// harness has three hundred of.
	module := "export const m = `" + strings.Repeat("x", 10<<10-20) + "`;\n"
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ct := small, "application/json"
		if strings.HasPrefix(r.URL.Path, "/src/") {
			body, ct = module, "text/javascript"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body)
	}))
	b.Cleanup(backend.Close)
	dir := b.TempDir()
	file := filepath.Join(dir, "devproxy.yaml")
	config := "frontend: " + backend.URL + "\nroutes:\n  /api: " + backend.URL + "\n  /mock:\n    respond:\n      json: {ok: true}\n"
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "devproxy.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logFile.Close() })

	for _, c := range []struct {
		name      string
		path      string
		log       io.Writer
		noInspect bool
	}{
		{"proxied", "/api/small", io.Discard, false},
		{"proxied,inspect-off", "/api/small", io.Discard, true},
		{"proxied,log-to-file", "/api/small", logFile, false},
		{"frontend", "/src/main.ts", io.Discard, false},
		{"frontend,inspect-off", "/src/main.ts", io.Discard, true},
		{"mock", "/mock", io.Discard, false},
		{"mock,inspect-off", "/mock", io.Discard, true},
	} {
		srv, err := New(Options{ConfigFile: file, Log: c.log, NoInspect: c.noInspect})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(srv.transports.retireAll)
		req := browserRequest(c.path)
		w := &discardResponse{h: make(http.Header)}
		srv.ServeHTTP(w, req)
		if w.status != http.StatusOK && w.status != 0 {
			b.Fatalf("GET %s: status = %d, want 200", c.path, w.status)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.status = 0
				srv.ServeHTTP(w, req)
			}
			if w.status != http.StatusOK && w.status != 0 {
				b.Fatalf("GET %s: status = %d, want 200", c.path, w.status)
			}
		})
	}
}

// discardResponse is a ResponseWriter that keeps the status and drops the
// body, so that a benchmark measures devproxy and not a recorder.
type discardResponse struct {
	h      http.Header
	status int
}

func (w *discardResponse) Header() http.Header { return w.h }

func (w *discardResponse) Write(p []byte) (int, error) { return len(p), nil }

func (w *discardResponse) WriteHeader(code int) { w.status = code }
