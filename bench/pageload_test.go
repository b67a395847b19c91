package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestPageLoad replays a cold load and a warm reload against the dev
// server and API of the page-load scenarios, directly: every request gets
// the status it should (200 cold, 304 for the revalidated modules warm), and
// the counts are those of the harness's app.
func TestPageLoad(t *testing.T) {
	var modules, notModified atomic.Int64
	vite := viteLike()
	dev := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Counted before the response goes out, so that a load's counts
		// are complete when its last response arrives.
		modules.Add(1)
		vite.ServeHTTP(&statusWriter{ResponseWriter: w, notModified: &notModified}, r)
	}))
	defer dev.Close()
	mux := http.NewServeMux()
	for _, wave := range pageAPIs {
		for _, p := range wave {
			mux.HandleFunc("GET "+p, pageAPI)
		}
	}
	api := httptest.NewServer(mux)
	defer api.Close()

	if got := len(pageWaves()); got != 9 {
		t.Errorf("waves = %d, want 9 (the harness's app needs about 8 round trips after index.html)", got)
	}
	tests := []struct {
		name                    string
		cold                    bool
		requests, dev, revalids int
	}{
		{"cold", true, 308, 304, 0},
		{"warm", false, 307, 303, 302},
	}
	pc := newPageClient(dev.URL, api.URL)
	defer pc.client.CloseIdleConnections()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			modules.Store(0)
			notModified.Store(0)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			n, err := pc.load(ctx, tt.cold)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if tt.cold && n < pageModules*moduleSize+vendorSize {
				t.Errorf("cold load read %d bytes, want at least %d", n, pageModules*moduleSize+vendorSize)
			}
			if got := pageRequests(tt.cold); got != tt.requests {
				t.Errorf("pageRequests(%v) = %d, want %d", tt.cold, got, tt.requests)
			}
			if got := modules.Load(); got != int64(tt.dev) {
				t.Errorf("dev server requests = %d, want %d", got, tt.dev)
			}
			if got := notModified.Load(); got != int64(tt.revalids) {
				t.Errorf("304s = %d, want %d", got, tt.revalids)
			}
		})
	}
}

// statusWriter counts the 304s a handler sends, before they are sent.
type statusWriter struct {
	http.ResponseWriter
	notModified *atomic.Int64
}

func (w *statusWriter) WriteHeader(code int) {
	if code == http.StatusNotModified {
		w.notModified.Add(1)
	}
	w.ResponseWriter.WriteHeader(code)
}
