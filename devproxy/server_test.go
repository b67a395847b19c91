package devproxy

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFolderFrontendThroughServer(t *testing.T) {
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	must(t, os.MkdirAll(filepath.Join(dist, "assets"), 0o755))
	must(t, os.WriteFile(filepath.Join(dist, "index.html"), []byte("<!doctype html><p>spa</p>"), 0o644))
	must(t, os.WriteFile(filepath.Join(dist, "assets", "app.js"), []byte("console.log(1)"), 0o644))
	must(t, os.WriteFile(filepath.Join(dist, ".env"), []byte("SECRET=1"), 0o644))
	p := startProxyIn(t, dir, "frontend: ./dist\nroutes:\n  /api:\n    respond: {json: {ok: true}}\n", nil)
	html := http.Header{"Accept": {"text/html,*/*"}}
	tests := []struct {
		path       string
		header     http.Header
		wantStatus int
		wantBody   string
		wantCT     string
	}{
		{"/", html, 200, "<p>spa</p>", "text/html"},
		{"/users/42", html, 200, "<p>spa</p>", "text/html"},
		{"/assets/app.js", nil, 200, "console.log(1)", "text/javascript"},
		{"/assets/missing.js", html, 404, "", ""},
		{"/users/42", nil, 404, "", ""},
		{"/.env", html, 404, "", ""},
		{"/api", nil, 200, `{"ok":true}`, "application/json"},
	}
	for _, tt := range tests {
		res, body := p.do(t, "GET", tt.path, nil, tt.header)
		if res.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantBody) || !strings.HasPrefix(res.Header.Get("Content-Type"), tt.wantCT) {
			t.Errorf("GET %s: got %d %q %q, want %d with %q, type %q", tt.path, res.StatusCode, res.Header.Get("Content-Type"), body, tt.wantStatus, tt.wantBody, tt.wantCT)
		}
		if strings.Contains(body, "SECRET") {
			t.Errorf("GET %s: served the dotfile", tt.path)
		}
	}
	p.log.waitFor(t, "/users/42", "→ static ", "(folder, SPA fallback)")
}

func TestShutdownEndsStreamsCleanly(t *testing.T) {
	// A stream that never ends by itself.
	be := streamBackend(t, func(r *http.Request) bool { <-r.Context().Done(); return false })
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)

	ws, _, err := wsDial(t, p.host, "/api/ws", nil)
	if err != nil || ws == nil {
		t.Fatalf("WebSocket: %v", err)
	}
	defer ws.Close()
	res, err := http.Get(p.url + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	if line, _ := br.ReadString('\n'); line != "data: first\n" {
		t.Fatalf("first event: %q", line)
	}

	p.stop()

	// The event stream ended as a complete response, which an EventSource
	// answers by reconnecting, not as a broken one.
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Errorf("event stream at shutdown: %v after %q, want a clean end", err, rest)
	}
	if _, err := ws.recv(); err == nil {
		t.Error("WebSocket still open after shutdown")
	}
	p.log.waitFor(t, "shutting down", "WS      /api/ws", "closed", "/api/events")
}
