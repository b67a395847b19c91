package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// sseInterval is the time between two events of /api/sse; the first event
// comes one interval after the response headers.
const sseInterval = 100 * time.Millisecond

// backend is the API devproxy forwards to, in this process:
//
//	GET  /api/small  1 KiB JSON
//	GET  /api/big    1 MiB
//	POST /api/echo   reads the body, replies its length
//	GET  /api/sse    text/event-stream, 10 events 100 ms apart, each flushed
//	GET  /api/ws     WebSocket echo
//	GET  /api/user, /api/config, /api/items, /api/notifications
//	                 the page-load app's API calls, small JSON, no-store
type backend struct {
	srv *http.Server
	url string // http://127.0.0.1:PORT
	// accepted counts the TCP connections accepted, to see how many
	// connections devproxy opens upstream.
	accepted atomic.Int64
}

func startBackend() (*backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	prefix, suffix := `{"data":"`, `"}`
	small := []byte(prefix + strings.Repeat("x", 1024-len(prefix)-len(suffix)) + suffix)
	big := bytes.Repeat([]byte("0123456789abcdef"), mib/16)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/small", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(small)))
		_, _ = w.Write(small)
	})
	mux.HandleFunc("GET /api/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		_, _ = w.Write(big)
	})
	mux.HandleFunc("POST /api/echo", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%d\n", n)
	})
	mux.HandleFunc("GET /api/sse", serveSSE)
	mux.HandleFunc("GET /api/ws", wsEcho)
	for _, wave := range pageAPIs {
		for _, p := range wave {
			mux.HandleFunc("GET "+p, pageAPI)
		}
	}

	b := &backend{url: "http://" + ln.Addr().String()}
	b.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				b.accepted.Add(1)
			}
		},
	}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *backend) close() { _ = b.srv.Close() }

func serveSSE(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	t := time.NewTicker(sseInterval)
	defer t.Stop()
	for i := 1; i <= 10; i++ {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		fmt.Fprintf(w, "id: %d\ndata: tick %d\n\n", i, i)
		if rc.Flush() != nil {
			return
		}
	}
}
