package devproxy

import (
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
