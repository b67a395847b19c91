package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/wsframe"
)

// sseGap is the pause between two server-sent events: long enough that a
// proxy which buffers the stream shows up as events arriving together.
const sseGap = 300 * time.Millisecond

// backend is the API behind devproxy's /api route. It listens on 127.0.0.1
// and can be stopped and started again on the same port.
type backend struct {
	addr string // 127.0.0.1:port, fixed by the first start

	mu   sync.Mutex
	srv  *http.Server
	done chan struct{}
}

// startBackend starts the API on a free port; it stops when the test ends.
func startBackend(t *testing.T) *backend {
	b := &backend{addr: "127.0.0.1:0"}
	b.start(t)
	t.Cleanup(b.stop)
	return b
}

// origin is the backend's own origin, which the browser must never be sent
// to.
func (b *backend) origin() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return "http://" + b.addr
}

// start listens on the backend's address and serves.
func (b *backend) start(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	addr := b.addr
	b.mu.Unlock()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	srv := &http.Server{Handler: b.handler()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	b.mu.Lock()
	b.addr, b.srv, b.done = ln.Addr().String(), srv, done
	b.mu.Unlock()
}

// stop closes the listener and every connection, so that nothing listens
// on the port any more.
func (b *backend) stop() {
	b.mu.Lock()
	srv, done := b.srv, b.done
	b.srv = nil
	b.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	<-done
}

func (b *backend) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/echo", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{
			"path":              r.URL.RequestURI(),
			"host":              r.Host,
			"x_forwarded_for":   r.Header.Get("X-Forwarded-For"),
			"x_forwarded_host":  r.Header.Get("X-Forwarded-Host"),
			"x_forwarded_proto": r.Header.Get("X-Forwarded-Proto"),
		})
	})
	mux.HandleFunc("GET /api/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		for i := 1; i <= 3; i++ {
			if i > 1 {
				select {
				case <-time.After(sseGap):
				case <-r.Context().Done():
					return
				}
			}
			fmt.Fprintf(w, "data: tick %d\n\n", i)
			if err := rc.Flush(); err != nil {
				return
			}
		}
		fmt.Fprint(w, "event: done\ndata: end\n\n")
	})
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		// The Domain names the backend's host, as an API that does not
		// know it is proxied would write it.
		host := "127.0.0.1"
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Domain: host, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		writeJSON(w, map[string]string{"login": "ok"})
	})
	mux.HandleFunc("POST /api/login-secure", func(w http.ResponseWriter, r *http.Request) {
		// A cookie only an https page keeps and sends, as an app that
		// is embedded or called cross-site sets it.
		http.SetCookie(w, &http.Cookie{Name: "secure_session", Value: "t0ken", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
		writeJSON(w, map[string]string{"login": "ok"})
	})
	mux.HandleFunc("GET /api/whoami", func(w http.ResponseWriter, r *http.Request) {
		got := map[string]string{"session": "", "secure_session": ""}
		for name := range got {
			if c, err := r.Cookie(name); err == nil {
				got[name] = c.Value
			}
		}
		writeJSON(w, got)
	})
	mux.HandleFunc("GET /api/redirect", func(w http.ResponseWriter, r *http.Request) {
		// An absolute Location to the backend itself, as a framework
		// that builds URLs from its own address writes it.
		http.Redirect(w, r, b.origin()+"/api/landed", http.StatusFound)
	})
	mux.HandleFunc("GET /api/landed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>landed</title><p id=landed>landed</p>")
	})
	mux.HandleFunc("POST /api/upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]any{"bytes": n, "sha256": hex.EncodeToString(h.Sum(nil))})
	})
	mux.HandleFunc("POST /api/form", serveForm)
	mux.HandleFunc("GET /api/ws", serveEcho)
	mux.HandleFunc("GET /reports/summary", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"report": "summary"})
	})
	return mux
}

// serveForm reads a multipart/form-data body part by part, as a form's
// file upload arrives, and says what each part held: a field's value, a
// file's name, type, size and SHA-256.
func serveForm(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		http.Error(w, "want a multipart/form-data body: "+err.Error(), http.StatusBadRequest)
		return
	}
	parts := map[string]map[string]any{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			http.Error(w, "reading the multipart body: "+err.Error(), http.StatusBadRequest)
			return
		}
		h := sha256.New()
		var value strings.Builder
		n, err := io.Copy(io.MultiWriter(h, &limitedWriter{w: &value, n: 1 << 10}), part)
		if err != nil {
			http.Error(w, "reading part "+part.FormName()+": "+err.Error(), http.StatusBadRequest)
			return
		}
		got := map[string]any{"bytes": n}
		if part.FileName() != "" {
			got["filename"], got["type"], got["sha256"] = part.FileName(), part.Header.Get("Content-Type"), hex.EncodeToString(h.Sum(nil))
		} else {
			got["value"] = value.String()
		}
		parts[part.FormName()] = got
	}
	writeJSON(w, parts)
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if k := min(len(p), l.n); k > 0 {
		l.n -= k
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// serveEcho is a WebSocket endpoint (RFC 6455, text messages without
// fragmentation, which is all a browser sends for short strings): it greets
// first, so both directions are proven, then echoes each message.
func serveEcho(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Header.Get("Upgrade") != "websocket" || key == "" {
		http.Error(w, "websocket upgrade expected", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		wsframe.Accept(key))
	f := wsframe.Framer{Max: 1 << 20}
	send := func(op byte, msg []byte) error {
		if err := f.Write(brw.Writer, op, msg, false); err != nil {
			return err
		}
		return brw.Flush()
	}
	if err := send(wsframe.OpText, []byte("welcome")); err != nil {
		return
	}
	for {
		op, msg, err := f.Read(brw.Reader)
		if err != nil {
			return
		}
		switch op {
		case wsframe.OpText:
			err = send(wsframe.OpText, append([]byte("echo: "), msg...))
		case wsframe.OpPing:
			err = send(wsframe.OpPong, msg)
		case wsframe.OpClose:
			_ = send(wsframe.OpClose, msg)
			return
		}
		if err != nil {
			return
		}
	}
}
