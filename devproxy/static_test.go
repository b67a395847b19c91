package devproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// secretMarker is the content of a file planted next to the served folder;
// no response may ever contain it.
const secretMarker = "SECRET-OUTSIDE-THE-FOLDER"

// htmlAccept is what a browser sends when it navigates to a page.
const htmlAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// newStaticFixture builds base/dist with a small SPA build output, dotfiles,
// symbolic links inside and out, and base/secret.txt outside the folder. It
// returns the folder and a server for it.
func newStaticFixture(t *testing.T) (dir string, srv *httptest.Server) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "dist")
	writeFiles(t, base, map[string]string{"secret.txt": secretMarker, "secretdir/secret.txt": secretMarker})
	writeFiles(t, dir, map[string]string{
		"index.html":        "<!doctype html><title>root index</title>",
		"app.js":            "console.log('app')",
		"app.js.map":        `{"version":3}`,
		"mod.mjs":           "export default 1",
		"style.css":         "body{}",
		"icon.svg":          "<svg xmlns='http://www.w3.org/2000/svg'/>",
		"mod.wasm":          "\x00asm\x01\x00\x00\x00",
		"data.json":         `{"ok":true}`,
		"LICENSE":           "plain words",
		"nested/index.html": "<!doctype html><title>nested index</title>",
		"a/b.txt":           "0123456789abcdef",
		"a/.secret":         "dot file in a folder",
		"v1.2/page.txt":     "versioned",
		"empty/":            "",
		".env":              "API_KEY=dotenv",
		".git/config":       "[core] gitconfig",
	})
	links := map[string]string{
		"leak.txt":  filepath.Join("..", "secret.txt"),
		"leakabs":   filepath.Join(base, "secret.txt"),
		"leakdir":   filepath.Join("..", "secretdir"),
		"alias.js":  "app.js",
		"linked":    "nested",
		"a/back.js": filepath.Join("..", "app.js"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Skipf("cannot create symbolic links here: %v", err)
		}
	}
	srv = httptest.NewServer(alone(newStaticHandler(dir, true)))
	t.Cleanup(srv.Close)
	return dir, srv
}

// noRedirects returns a client for srv that reports redirects instead of
// following them.
func noRedirects(srv *httptest.Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// do sends method path with the given headers and returns the response with
// its body read.
func do(t *testing.T, c *http.Client, srv *httptest.Server, method, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	return fetch(t, c, method, srv.URL+path, nil, h)
}

// rawGet writes a GET request line with target exactly as given, so that no
// client cleans or re-escapes it, and returns the response.
func rawGet(t *testing.T, srv *httptest.Server, target, accept string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	req := "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
	if accept != "" {
		req += "Accept: " + accept + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", target, err)
	}
	return res, string(body)
}

func TestStaticServesFiles(t *testing.T) {
	_, srv := newStaticFixture(t)
	c := noRedirects(srv)
	tests := []struct {
		path     string
		wantType string
		wantBody string
	}{
		{"/", "text/html; charset=utf-8", "root index"},
		{"/index.html", "text/html; charset=utf-8", "root index"},
		{"/app.js", "text/javascript; charset=utf-8", "console.log('app')"},
		{"/mod.mjs", "text/javascript; charset=utf-8", "export default 1"},
		{"/app.js.map", "application/json", `{"version":3}`},
		{"/style.css", "text/css; charset=utf-8", "body{}"},
		{"/icon.svg", "image/svg+xml", "<svg"},
		{"/mod.wasm", "application/wasm", "asm"},
		{"/data.json", "application/json", `{"ok":true}`},
		{"/a/b.txt", "text/plain; charset=utf-8", "0123456789abcdef"},
		{"/LICENSE", "text/plain; charset=utf-8", "plain words"},
		{"/nested/", "text/html; charset=utf-8", "nested index"},
		{"/nested/index.html", "text/html; charset=utf-8", "nested index"},
		{"//app.js", "text/javascript; charset=utf-8", "console.log('app')"},
		{"/v1.2/page.txt", "text/plain; charset=utf-8", "versioned"},
		// Symbolic links that stay inside the folder are followed.
		{"/alias.js", "text/javascript; charset=utf-8", "console.log('app')"},
		{"/a/back.js", "text/javascript; charset=utf-8", "console.log('app')"},
		{"/linked/", "text/html; charset=utf-8", "nested index"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, body := do(t, c, srv, "GET", tt.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status = %d, want %d; body %q", tt.path, res.StatusCode, http.StatusOK, body)
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("GET %s: Content-Type = %q, want %q", tt.path, got, tt.wantType)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("GET %s: Cache-Control = %q, want %q", tt.path, got, "no-cache")
			}
			if got := res.Header.Get("ETag"); !strings.HasPrefix(got, `W/"`) {
				t.Errorf("GET %s: ETag = %q, want a weak tag", tt.path, got)
			}
			if res.Header.Get("Last-Modified") == "" {
				t.Errorf("GET %s: no Last-Modified", tt.path)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET %s: body = %q, want it to contain %q", tt.path, body, tt.wantBody)
			}
		})
	}
}

func TestStaticHead(t *testing.T) {
	_, srv := newStaticFixture(t)
	res, body := do(t, srv.Client(), srv, "HEAD", "/a/b.txt", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HEAD /a/b.txt: status = %d, want %d", res.StatusCode, http.StatusOK)
	}
	if res.ContentLength != 16 {
		t.Errorf("HEAD /a/b.txt: Content-Length = %d, want 16", res.ContentLength)
	}
	if body != "" {
		t.Errorf("HEAD /a/b.txt: body = %q, want none", body)
	}
}

func TestStaticDirectoryRedirect(t *testing.T) {
	_, srv := newStaticFixture(t)
	c := noRedirects(srv)
	tests := []struct {
		path, wantLocation string
	}{
		{"/nested", "/nested/"},
		{"/nested?tab=2&x=y", "/nested/?tab=2&x=y"},
		{"/linked", "/linked/"},
		// The location is built from the cleaned path, never from the
		// double slash that would make it protocol-relative.
		{"//nested", "/nested/"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, _ := do(t, c, srv, "GET", tt.path, map[string]string{"Accept": htmlAccept})
			if res.StatusCode != http.StatusMovedPermanently {
				t.Fatalf("GET %s: status = %d, want %d", tt.path, res.StatusCode, http.StatusMovedPermanently)
			}
			if got := res.Header.Get("Location"); got != tt.wantLocation {
				t.Errorf("GET %s: Location = %q, want %q", tt.path, got, tt.wantLocation)
			}
		})
	}
}

func TestStaticRange(t *testing.T) {
	_, srv := newStaticFixture(t)
	tests := []struct {
		rng, wantRange, wantBody string
	}{
		{"bytes=0-4", "bytes 0-4/16", "01234"},
		{"bytes=10-", "bytes 10-15/16", "abcdef"},
		{"bytes=-3", "bytes 13-15/16", "def"},
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			res, body := do(t, srv.Client(), srv, "GET", "/a/b.txt", map[string]string{"Range": tt.rng})
			if res.StatusCode != http.StatusPartialContent {
				t.Fatalf("GET /a/b.txt Range %s: status = %d, want %d", tt.rng, res.StatusCode, http.StatusPartialContent)
			}
			if got := res.Header.Get("Content-Range"); got != tt.wantRange {
				t.Errorf("GET /a/b.txt Range %s: Content-Range = %q, want %q", tt.rng, got, tt.wantRange)
			}
			if body != tt.wantBody {
				t.Errorf("GET /a/b.txt Range %s: body = %q, want %q", tt.rng, body, tt.wantBody)
			}
		})
	}
}

func TestStaticConditional(t *testing.T) {
	dir, srv := newStaticFixture(t)
	modtime := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "app.js"), modtime, modtime); err != nil {
		t.Fatal(err)
	}
	res, _ := do(t, srv.Client(), srv, "GET", "/app.js", nil)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("GET /app.js: no ETag")
	}
	if got, want := res.Header.Get("Last-Modified"), modtime.Format(http.TimeFormat); got != want {
		t.Errorf("GET /app.js: Last-Modified = %q, want %q", got, want)
	}

	tests := []struct {
		name       string
		path       string
		header     map[string]string
		wantStatus int
	}{
		{"If-None-Match same tag", "/app.js", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"If-None-Match list", "/app.js", map[string]string{"If-None-Match": `W/"other", ` + etag}, http.StatusNotModified},
		{"If-None-Match other tag", "/app.js", map[string]string{"If-None-Match": `W/"other"`}, http.StatusOK},
		{"If-Modified-Since modtime", "/app.js", map[string]string{"If-Modified-Since": modtime.Format(http.TimeFormat)}, http.StatusNotModified},
		{"If-Modified-Since later", "/app.js", map[string]string{"If-Modified-Since": modtime.Add(time.Hour).Format(http.TimeFormat)}, http.StatusNotModified},
		{"If-Modified-Since earlier", "/app.js", map[string]string{"If-Modified-Since": modtime.Add(-time.Hour).Format(http.TimeFormat)}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := do(t, srv.Client(), srv, "GET", tt.path, tt.header)
			if res.StatusCode != tt.wantStatus {
				t.Errorf("GET %s %v: status = %d, want %d", tt.path, tt.header, res.StatusCode, tt.wantStatus)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("GET %s %v: Cache-Control = %q, want %q", tt.path, tt.header, got, "no-cache")
			}
		})
	}

	// Changing the file changes the tag, so a stale copy is sent again.
	if err := os.WriteFile(filepath.Join(dir, "app.js"), []byte("console.log('rebuilt')"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, body := do(t, srv.Client(), srv, "GET", "/app.js", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusOK || body != "console.log('rebuilt')" {
		t.Errorf("GET /app.js after rebuild with old ETag: status = %d, body %q; want %d with the new content", res.StatusCode, body, http.StatusOK)
	}
}

func TestStaticMethods(t *testing.T) {
	_, srv := newStaticFixture(t)
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		for _, path := range []string{"/app.js", "/users/42", "/missing.js"} {
			t.Run(method+" "+path, func(t *testing.T) {
				res, _ := do(t, srv.Client(), srv, method, path, map[string]string{"Accept": htmlAccept})
				if res.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("%s %s: status = %d, want %d", method, path, res.StatusCode, http.StatusMethodNotAllowed)
				}
				if got := res.Header.Get("Allow"); got != "GET, HEAD" {
					t.Errorf("%s %s: Allow = %q, want %q", method, path, got, "GET, HEAD")
				}
			})
		}
	}
}

func TestStaticSPAFallback(t *testing.T) {
	_, srv := newStaticFixture(t)
	c := noRedirects(srv)
	const index = "root index"
	tests := []struct {
		method, path, accept string
		wantStatus           int
	}{
		{"GET", "/users/42", htmlAccept, http.StatusOK},
		{"GET", "/users/42", "text/html", http.StatusOK},
		{"GET", "/users/42?tab=1", htmlAccept, http.StatusOK},
		{"GET", "/settings/", htmlAccept, http.StatusOK},
		{"GET", "/v1.2/page", htmlAccept, http.StatusOK},
		{"GET", "/empty/", htmlAccept, http.StatusOK},
		{"GET", "/empty", htmlAccept, http.StatusOK},
		{"HEAD", "/users/42", htmlAccept, http.StatusOK},
		{"GET", "/users/42", "*/*", http.StatusNotFound},
		{"GET", "/users/42", "", http.StatusNotFound},
		{"GET", "/users/42", "application/json", http.StatusNotFound},
		{"GET", "/users/42", "text/html;q=0, */*", http.StatusNotFound},
		{"HEAD", "/users/42", "*/*", http.StatusNotFound},
		{"GET", "/empty/", "*/*", http.StatusNotFound},
		{"GET", "/missing.js", htmlAccept, http.StatusNotFound},
		{"GET", "/missing.js", "*/*", http.StatusNotFound},
		{"GET", "/img/x.png", htmlAccept, http.StatusNotFound},
		{"GET", "/v1.2/missing.txt", htmlAccept, http.StatusNotFound},
		{"GET", "/app.js/extra", "*/*", http.StatusNotFound},
		{"GET", "/app.js/", htmlAccept, http.StatusNotFound},
		{"GET", "/LICENSE/", htmlAccept, http.StatusOK},
		{"GET", "/LICENSE/", "*/*", http.StatusNotFound},
		{"POST", "/users/42", htmlAccept, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s Accept %q", tt.method, tt.path, tt.accept), func(t *testing.T) {
			header := map[string]string{}
			if tt.accept != "" {
				header["Accept"] = tt.accept
			}
			res, body := do(t, c, srv, tt.method, tt.path, header)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s: status = %d, want %d; body %q", tt.method, tt.path, res.StatusCode, tt.wantStatus, body)
			}
			// A file is revalidated; devproxy's own error answers are never
			// stored at all.
			wantCC := "no-cache"
			if tt.wantStatus >= 400 {
				wantCC = "no-store"
			}
			if got := res.Header.Get("Cache-Control"); got != wantCC {
				t.Errorf("%s %s: Cache-Control = %q, want %q", tt.method, tt.path, got, wantCC)
			}
			if tt.wantStatus != http.StatusOK {
				if strings.Contains(body, index) {
					t.Errorf("%s %s: body is the index page, want an error", tt.method, tt.path)
				}
				return
			}
			if got, want := res.Header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
				t.Errorf("%s %s: Content-Type = %q, want %q", tt.method, tt.path, got, want)
			}
			if tt.method == "GET" && !strings.Contains(body, index) {
				t.Errorf("%s %s: body = %q, want the root index.html", tt.method, tt.path, body)
			}
		})
	}
}

func TestStaticSPAOff(t *testing.T) {
	dir, _ := newStaticFixture(t)
	srv := httptest.NewServer(alone(newStaticHandler(dir, false)))
	defer srv.Close()
	for _, path := range []string{"/users/42", "/settings/"} {
		res, _ := do(t, srv.Client(), srv, "GET", path, map[string]string{"Accept": htmlAccept})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without spa: status = %d, want %d", path, res.StatusCode, http.StatusNotFound)
		}
	}
}

func TestStaticDotfiles(t *testing.T) {
	_, srv := newStaticFixture(t)
	paths := []string{"/.env", "/.git/config", "/.git/", "/.git", "/a/.secret", "/.missing", "/.well-known/x"}
	for _, path := range paths {
		for _, accept := range []string{htmlAccept, "*/*"} {
			t.Run(path+" "+accept, func(t *testing.T) {
				res, body := do(t, srv.Client(), srv, "GET", path, map[string]string{"Accept": accept})
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: status = %d, want %d", path, res.StatusCode, http.StatusNotFound)
				}
				for _, leak := range []string{"dotenv", "gitconfig", "dot file", "root index"} {
					if strings.Contains(body, leak) {
						t.Errorf("GET %s: body = %q, must not contain %q", path, body, leak)
					}
				}
			})
		}
	}
}

func TestStaticTraversal(t *testing.T) {
	dir, srv := newStaticFixture(t)
	base := filepath.Dir(dir)
	targets := []string{
		"/../secret.txt",
		"/../../secret.txt",
		"/nested/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/..%2fsecret.txt",
		"/%2e%2e%2fsecret.txt",
		"/..%5csecret.txt",
		"/%5c..%5csecret.txt",
		"/a%5c..%5c..%5csecret.txt",
		"/secret.txt%00",
		"/..%00/secret.txt",
		"//etc/passwd",
		"/" + filepath.ToSlash(base) + "/secret.txt",
		"/%2f" + strings.TrimPrefix(filepath.ToSlash(base), "/") + "/secret.txt",
		"/leak.txt",
		"/leakabs",
		"/leakdir/secret.txt",
		"/leakdir/",
		"/./../secret.txt",
	}
	for _, target := range targets {
		for _, accept := range []string{"", htmlAccept} {
			t.Run(target+" "+accept, func(t *testing.T) {
				res, body := rawGet(t, srv, target, accept)
				if strings.Contains(body, secretMarker) {
					t.Fatalf("GET %s: body contains the file outside the folder: %q", target, body)
				}
				ok := res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusBadRequest
				// A page navigation to an extensionless path that is not a
				// file in the folder gets index.html; that leaks nothing.
				if accept != "" && res.StatusCode == http.StatusOK && strings.Contains(body, "root index") {
					ok = true
				}
				if !ok {
					t.Errorf("GET %s: status = %d, want %d or %d; body %q", target, res.StatusCode, http.StatusNotFound, http.StatusBadRequest, body)
				}
			})
		}
	}
}

func TestStaticNotFoundMessage(t *testing.T) {
	dir, srv := newStaticFixture(t)
	tests := []struct {
		name   string
		header map[string]string
		ct     string
		body   string
	}{
		{"fetch", nil, "application/json",
			`{"error":"/missing.js is not in ` + dir + `","route":"frontend","target":"` + dir + `","hint":"check the path, or build the frontend into ` + dir + ` again"}` + "\n"},
		{"script tag", map[string]string{"Sec-Fetch-Dest": "script", "Accept": "*/*"}, "text/plain; charset=utf-8",
			"404 Not Found: /missing.js is not in " + dir + "\nroute: frontend → " + dir + "\nhint: check the path, or build the frontend into " + dir + " again\n"},
		{"text/plain client", map[string]string{"Accept": "text/plain"}, "text/plain; charset=utf-8",
			"404 Not Found: /missing.js is not in " + dir + "\nroute: frontend → " + dir + "\nhint: check the path, or build the frontend into " + dir + " again\n"},
	}
	for _, tt := range tests {
		res, body := do(t, srv.Client(), srv, "GET", "/missing.js", tt.header)
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: GET /missing.js: status = %d, want %d", tt.name, res.StatusCode, http.StatusNotFound)
		}
		if got := res.Header.Get("Content-Type"); got != tt.ct {
			t.Errorf("%s: GET /missing.js: Content-Type = %q, want %q", tt.name, got, tt.ct)
		}
		if body != tt.body {
			t.Errorf("%s: GET /missing.js: body = %q, want %q", tt.name, body, tt.body)
		}
		if res.Header.Get("X-Devproxy-Error") != "1" {
			t.Errorf("%s: GET /missing.js: no X-Devproxy-Error", tt.name)
		}
	}
}

func TestStaticFolderRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dist")
	writeFiles(t, dir, map[string]string{"index.html": "first build", "app.js": "v1"})
	srv := httptest.NewServer(alone(newStaticHandler(dir, true)))
	defer srv.Close()

	get := func(path string, wantStatus int, wantBody string) {
		t.Helper()
		res, body := do(t, srv.Client(), srv, "GET", path, map[string]string{"Accept": htmlAccept})
		if res.StatusCode != wantStatus {
			t.Fatalf("GET %s: status = %d, want %d", path, res.StatusCode, wantStatus)
		}
		if wantBody != "" && body != wantBody {
			t.Errorf("GET %s: body = %q, want %q", path, body, wantBody)
		}
	}
	get("/app.js", http.StatusOK, "v1")
	get("/users/42", http.StatusOK, "first build")

	// A build tool deletes the folder, and the proxy answers while it is gone.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	get("/app.js", http.StatusNotFound, "")
	get("/users/42", http.StatusNotFound, "")

	writeFiles(t, dir, map[string]string{"index.html": "second build", "app.js": "v2 is longer", "new.css": "a{}"})
	get("/app.js", http.StatusOK, "v2 is longer")
	get("/new.css", http.StatusOK, "a{}")
	get("/", http.StatusOK, "second build")
	get("/users/42", http.StatusOK, "second build")
}

func TestStaticIndexMissing(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"app.js": "v1", "sub/": ""})
	srv := httptest.NewServer(alone(newStaticHandler(dir, true)))
	defer srv.Close()
	for _, path := range []string{"/", "/users/42", "/index.html", "/sub/", "/sub"} {
		res, body := do(t, srv.Client(), srv, "GET", path, map[string]string{"Accept": htmlAccept})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status = %d, want %d; body %q", path, res.StatusCode, http.StatusNotFound, body)
		}
	}
}

func TestStaticUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.html": "index", "locked.js": "x"})
	if err := os.Chmod(filepath.Join(dir, "locked.js"), 0); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(alone(newStaticHandler(dir, true)))
	defer srv.Close()
	res, body := do(t, srv.Client(), srv, "GET", "/locked.js", nil)
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("GET /locked.js: status = %d, want %d", res.StatusCode, http.StatusInternalServerError)
	}
	if want := "500 internal server error: cannot read /locked.js from " + dir + ": permission denied\n"; body != want {
		t.Errorf("GET /locked.js: body = %q, want %q", body, want)
	}
}

// TestStaticSymlinkToDotfile pins a hole: a symbolic link inside the folder
// that points at a dotfile (env.txt -> .env) served the dotfile. A link is
// followed to where it leads, and a dotfile or dot folder there is a 404
// like the dotfile itself, never the SPA fallback.
func TestStaticSymlinkToDotfile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"index.html":  "root index",
		"app.js":      "app",
		".env":        "API_KEY=dotenv",
		".git/config": "[core] gitconfig",
		"a/b.txt":     "b",
	})
	for name, target := range map[string]string{
		"env.txt":      ".env",
		"envfile":      ".env",
		"cfg":          ".git",
		"a/up.txt":     filepath.Join("..", ".env"),
		"sneaky.txt":   filepath.Join("a", "..", ".env"),
		"chain.txt":    "env.txt",
		"a/gitcfg.txt": filepath.Join("..", "cfg", "config"),
		"ok.js":        "app.js",
		"a/back.js":    filepath.Join("..", "app.js"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Skipf("cannot create symbolic links here: %v", err)
		}
	}
	srv := httptest.NewServer(alone(newStaticHandler(dir, true)))
	defer srv.Close()
	for _, tt := range []struct {
		path string
		code int
		body string
	}{
		{"/env.txt", 404, "names starting with a dot"},
		{"/envfile", 404, "names starting with a dot"},
		{"/cfg/config", 404, "names starting with a dot"},
		{"/a/up.txt", 404, "names starting with a dot"},
		{"/sneaky.txt", 404, "names starting with a dot"},
		{"/chain.txt", 404, "names starting with a dot"},
		{"/a/gitcfg.txt", 404, "names starting with a dot"},
		{"/ok.js", 200, "app"},
		{"/a/back.js", 200, "app"},
	} {
		for _, accept := range []string{"", htmlAccept} {
			res, body := rawGet(t, srv, tt.path, accept)
			if res.StatusCode != tt.code || !strings.Contains(body, tt.body) {
				t.Errorf("GET %s (Accept %q): got %d %q, want %d with %q", tt.path, accept, res.StatusCode, body, tt.code, tt.body)
			}
			if strings.Contains(body, "dotenv") || strings.Contains(body, "gitconfig") {
				t.Errorf("GET %s: body %q leaks a dotfile", tt.path, body)
			}
		}
	}
}
