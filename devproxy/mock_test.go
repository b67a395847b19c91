package devproxy

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMockRoutes(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "mocks"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "mocks", "user.json")
	if err := os.WriteFile(file, []byte(`{"name":"ada"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProxyIn(t, dir, `
routes:
  /api/hello:
    respond:
      json: {message: hello}
      headers: {X-Mock: "1"}
  /api/text:
    respond:
      status: 201
      body: created
  /api/user:
    respond:
      file: mocks/user.json
  /api/slow:
    respond:
      body: late
      delay: 150ms
`, nil)
	tests := []struct {
		path, wantCT, wantBody, wantHeader string
		wantStatus                         int
	}{
		{"/api/hello", "application/json", `{"message":"hello"}`, "1", 200},
		{"/api/text", "text/plain; charset=utf-8", "created", "", 201},
		{"/api/user", "application/json", `{"name":"ada"}`, "", 200},
	}
	for _, tt := range tests {
		res, body := p.get(t, tt.path)
		if res.StatusCode != tt.wantStatus || body != tt.wantBody {
			t.Errorf("GET %s: got %d %q, want %d %q", tt.path, res.StatusCode, body, tt.wantStatus, tt.wantBody)
		}
		if ct := res.Header.Get("Content-Type"); ct != tt.wantCT {
			t.Errorf("GET %s: Content-Type = %q, want %q", tt.path, ct, tt.wantCT)
		}
		if got := res.Header.Get("X-Mock"); got != tt.wantHeader {
			t.Errorf("GET %s: X-Mock = %q, want %q", tt.path, got, tt.wantHeader)
		}
	}
	p.log.waitFor(t, "/api/hello", "→ /api/hello mock")

	// The file is read on every request: an edit shows without a reload.
	if err := os.WriteFile(file, []byte(`{"name":"grace"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, body := p.get(t, "/api/user"); body != `{"name":"grace"}` {
		t.Errorf("GET /api/user after editing the file: got %q, want the new content", body)
	}
	// A file that went away is a clear 500, not a crash.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	res, body := p.get(t, "/api/user")
	if res.StatusCode != 500 || res.Header.Get("X-Devproxy-Error") != "1" {
		t.Errorf("GET /api/user with the file gone: got %d %q, want 500 from devproxy", res.StatusCode, body)
	}

	start := time.Now()
	if _, body := p.get(t, "/api/slow"); body != "late" {
		t.Errorf("GET /api/slow: got %q, want \"late\"", body)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("GET /api/slow answered after %s, want at least the 150ms delay", d)
	}

	res, body = p.do(t, http.MethodHead, "/api/hello", nil, nil)
	if res.StatusCode != 200 || body != "" {
		t.Errorf("HEAD /api/hello: got %d %q, want 200 and no body", res.StatusCode, body)
	}
}
