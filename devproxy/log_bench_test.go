package devproxy

import (
	"io"
	"testing"
	"time"
)

func BenchmarkLogRequest(b *testing.B) {
	start := time.Date(2026, 11, 28, 14, 2, 11, 0, time.UTC)
	// Verbose, so that the frontend line is formatted, not filtered.
	l := newLogger(io.Discard, nil, false, true, 0, func() time.Time { return start })
	for _, c := range []struct {
		name string
		e    logEntry
	}{
		{"ok", logEntry{start: start, method: "GET", uri: "/api/users?page=2&sort=name", route: "/api", dest: "localhost:5000", duration: 412 * time.Microsecond, outcome: outcome{status: 200, bytes: 1024}}},
		{"frontend", logEntry{start: start, method: "GET", uri: "/src/components/App.tsx?t=1732802531", kind: kindFrontend, route: "frontend", dest: "localhost:5173", duration: 1800 * time.Microsecond, outcome: outcome{status: 304}}},
		{"error", logEntry{start: start, method: "POST", uri: "/api/orders", route: "/api", dest: "localhost:5000", duration: 380 * time.Microsecond, outcome: outcome{status: 502, bytes: 171, err: &proxyError{
			Status: 502, Err: "connection refused: nothing listens on 127.0.0.1:5000 or [::1]:5000",
			Route: "/api", Hint: "is the API running? start it, or fix routes./api.target in the config"}}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.request(&c.e)
			}
		})
	}
}
