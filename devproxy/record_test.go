package devproxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// sessionBackend is an API with one of each kind of answer a recording
// must hold: JSON, text, binary, a redirect, a cookie, POSTs with bodies.
func sessionBackend(t *testing.T) *httptest.Server {
	t.Helper()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/users":
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Query().Get("page") == "2" {
				io.WriteString(w, `{"users":[{"id":3,"name":"Grace"}],"page":2}`)
				return
			}
			io.WriteString(w, `{"users":[{"id":1,"name":"Ada","tags":["a","b"]}],"total":1}`)
		case "/api/pretty":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, "{\n    \"kept\": \"as sent\"\n}\n")
		case "/api/readme":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Custom", "one")
			w.Header().Add("X-Custom", "two")
			io.WriteString(w, "hello\nworld")
		case "/api/logo":
			w.Header().Set("Content-Type", "image/png")
			w.Write(png)
		case "/api/old":
			http.Redirect(w, r, srv.URL+"/api/new?x=1", http.StatusFound)
		case "/api/login":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Path: "/api", HttpOnly: true, Domain: "127.0.0.1"})
			w.WriteHeader(http.StatusNoContent)
		case "/api/items":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(map[string]string{"created": string(b)})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// exchange is one request of a session and what came back.
type exchange struct {
	method, path, body string
	header             http.Header
	status             int
	got                http.Header
	gotBody            []byte
}

func (p *testProxy) send(t *testing.T, x *exchange) {
	t.Helper()
	var body io.Reader
	if x.body != "" {
		body = strings.NewReader(x.body)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, b := fetch(t, c, x.method, p.url+x.path, body, x.header)
	x.status, x.got, x.gotBody = res.StatusCode, res.Header, []byte(b)
}

func TestRecordThenReplay(t *testing.T) {
	backend := sessionBackend(t)
	dir := t.TempDir()
	p := startProxyIn(t, dir, "routes:\n  /api:\n    target: "+backend.URL+"\n    record: ./mocks/api\n", nil)
	session := []*exchange{
		{method: "GET", path: "/api/users"},
		{method: "GET", path: "/api/users?page=2&sort=name"},
		{method: "GET", path: "/api/pretty"},
		{method: "GET", path: "/api/readme", header: http.Header{"Authorization": {"Bearer tok-123"}, "Cookie": {"id=c00kie"}}},
		{method: "GET", path: "/api/logo"},
		{method: "GET", path: "/api/old"},
		{method: "GET", path: "/api/login"},
		{method: "POST", path: "/api/items", body: `{"name":"first"}`, header: http.Header{"Content-Type": {"application/json"}}},
		{method: "POST", path: "/api/items", body: `{"name":"second"}`, header: http.Header{"Content-Type": {"application/json"}}},
		{method: "HEAD", path: "/api/readme"},
	}
	for _, x := range session {
		p.send(t, x)
		if x.status >= 400 {
			t.Fatalf("%s %s: status = %d while recording", x.method, x.path, x.status)
		}
	}
	p.log.waitLines(t, len(session), "recorded")

	files := map[string]string{
		"users/GET.http":                   "# body: json, compacted when replayed\n",
		"users/GET__page=2&sort=name.http": `"name": "Grace"`,
		"pretty/GET.http":                  "{\n    \"kept\": \"as sent\"\n}\n",
		"readme/GET.http":                  "Authorization: " + masked + "\nCookie: " + masked + "\n",
		"readme/HEAD.http":                 "HTTP/1.1 200 OK\n",
		"logo/GET.http":                    "# body: file GET.png\n",
		"old/GET.http":                     "Location: " + p.url + "/api/new?x=1\n",
		"login/GET.http":                   "Set-Cookie: session=" + masked + "; Path=/api; HttpOnly\n",
	}
	for name, want := range files {
		b, err := os.ReadFile(filepath.Join(dir, "mocks", "api", filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("recording %s: %v", name, err)
			continue
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("recording %s:\n%s\nwant it to contain %q", name, b, want)
		}
		for _, secret := range []string{"tok-123", "c00kie", "s3cret"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("recording %s holds the secret %q:\n%s", name, secret, b)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "mocks/api/users/GET.http")); err == nil && !strings.Contains(string(b), "\n{\n  \"users\": [\n") {
		t.Errorf("JSON recording is not formatted:\n%s", b)
	}
	posts, _ := filepath.Glob(filepath.Join(dir, "mocks/api/items/POST__body-*.http"))
	if len(posts) != 2 {
		t.Errorf("POST recordings: got %q, want one per body", posts)
	}

	// The backend goes away; the recordings answer.
	backend.Close()
	saveByRename(t, p.file, "routes:\n  /api:\n    target: "+backend.URL+"\n    replay: ./mocks/api\n")
	if err := p.waitReload(t); err != nil {
		t.Fatalf("reload: %v", err)
	}
	for _, x := range session {
		again := &exchange{method: x.method, path: x.path, body: x.body, header: x.header}
		p.send(t, again)
		if again.status != x.status {
			t.Errorf("%s %s: replayed status = %d, want %d", x.method, x.path, again.status, x.status)
		}
		if !bytes.Equal(again.gotBody, x.gotBody) {
			t.Errorf("%s %s: replayed body = %q, want %q", x.method, x.path, again.gotBody, x.gotBody)
		}
		for name := range mergeKeys(x.got, again.got) {
			want := x.got[name]
			if name == "Set-Cookie" {
				want = []string{"session=" + masked + "; Path=/api; HttpOnly"}
			}
			if !slices.Equal(again.got[name], want) {
				t.Errorf("%s %s: replayed %s = %q, want %q", x.method, x.path, name, again.got[name], want)
			}
		}
	}
	p.log.waitLines(t, 2, "/api/readme", "/api replay", "replayed")

	// The query's order does not matter.
	res, body := p.get(t, "/api/users?sort=name&page=2")
	if res.StatusCode != 200 || !strings.Contains(body, "Grace") {
		t.Errorf("GET /api/users?sort=name&page=2: got %d %q, want the page=2&sort=name recording", res.StatusCode, body)
	}

	// A miss names the file and how to record it.
	res, body = p.do(t, "GET", "/api/nothing?id=7", nil, http.Header{"Accept": {"application/json"}})
	var miss struct{ Error, Route, Hint, File string }
	if err := json.Unmarshal([]byte(body), &miss); err != nil {
		t.Fatalf("miss: %v in %q", err, body)
	}
	if res.StatusCode != 404 || miss.File != "./mocks/api/nothing/GET__id=7.http" ||
		!strings.Contains(miss.Error, "looked for ./mocks/api/nothing/GET__id=7.http") || !strings.Contains(miss.Hint, "record: ./mocks/api") {
		t.Errorf("miss: got %d %+v, want 404 naming the file and record:", res.StatusCode, miss)
	}

	// An edit shows on the next request, with no reload.
	readme := filepath.Join(dir, "mocks/api/readme/GET.http")
	b, err := os.ReadFile(readme)
	must(t, err)
	must(t, os.WriteFile(readme, bytes.Replace(b, []byte("hello\nworld"), []byte("edited by hand"), 1), 0o644))
	p.wantBody(t, "/api/readme", "edited by hand")
}

// mergeKeys is the set of header names of a and b.
func mergeKeys(a, b http.Header) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func TestRecordSecretsKept(t *testing.T) {
	backend := sessionBackend(t)
	dir := t.TempDir()
	p := startProxyIn(t, dir, "routes:\n  /api:\n    target: "+backend.URL+"\n    record: ./mocks\n    record_secrets: true\n", nil)
	first := &exchange{method: "GET", path: "/api/login", header: http.Header{"Authorization": {"Bearer tok-123"}}}
	p.send(t, first)
	p.log.waitLines(t, 1, "/api/login", "recorded")
	b, err := os.ReadFile(filepath.Join(dir, "mocks/login/GET.http"))
	must(t, err)
	for _, want := range []string{"Authorization: Bearer tok-123\n", "Set-Cookie: session=s3cret; Path=/api; HttpOnly\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("recording with record_secrets:\n%s\nwant it to contain %q", b, want)
		}
	}
	backend.Close()
	saveByRename(t, p.file, "routes:\n  /api:\n    replay: ./mocks\n")
	must(t, p.waitReload(t))
	again := &exchange{method: "GET", path: "/api/login"}
	p.send(t, again)
	if got, want := again.got.Values("Set-Cookie"), first.got.Values("Set-Cookie"); !slices.Equal(got, want) {
		t.Errorf("replayed Set-Cookie = %q, want %q", got, want)
	}
}

func TestRecordReplacesAndSkipsFailures(t *testing.T) {
	n := 0
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		io.WriteString(w, strings.Repeat("v", n))
	}))
	defer backend.Close()
	dir := t.TempDir()
	p := startProxyIn(t, dir, "routes:\n  /api:\n    target: "+backend.URL+"\n    record: ./rec\n", nil)
	file := filepath.Join(dir, "rec/GET.http")
	for i, want := range []string{"v", "vv"} {
		p.wantBody(t, "/api", want)
		p.log.waitLines(t, i+1, "recorded")
		b, err := os.ReadFile(file)
		must(t, err)
		if !strings.HasSuffix(string(b), "\n\n"+want) {
			t.Errorf("recording after answer %q:\n%s", want, b)
		}
	}
	// A failure of the target is not a recording: the last good one stays.
	backend.Close()
	res, _ := p.get(t, "/api")
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("GET /api with the backend down: status = %d, want 502", res.StatusCode)
	}
	b, err := os.ReadFile(file)
	must(t, err)
	if !strings.HasSuffix(string(b), "\n\nvv") {
		t.Errorf("recording after a 502:\n%s\nwant the last answer kept", b)
	}
}

func TestReplayAuto(t *testing.T) {
	backend := sessionBackend(t)
	dir := t.TempDir()
	p := startProxyIn(t, dir, "routes:\n  /api:\n    target: "+backend.URL+"\n    record: ./mocks\n    replay: auto\n", nil)
	first := &exchange{method: "POST", path: "/api/items", body: `{"name":"x"}`}
	p.send(t, first)
	if first.status != http.StatusCreated {
		t.Fatalf("POST /api/items: status = %d, want 201", first.status)
	}
	p.log.waitLines(t, 1, "POST", "recorded")
	backend.Close()
	again := &exchange{method: "POST", path: "/api/items", body: `{"name":"x"}`}
	p.send(t, again)
	if again.status != http.StatusCreated || !bytes.Equal(again.gotBody, first.gotBody) {
		t.Errorf("POST /api/items with the backend down: got %d %q, want the recording %q", again.status, again.gotBody, first.gotBody)
	}
	p.log.waitLines(t, 1, "POST", "/api replay", "replayed")

	res, body := p.do(t, "POST", "/api/items", strings.NewReader(`{"name":"never sent"}`), http.Header{"Accept": {"application/json"}})
	var miss struct{ Error, Hint, File string }
	must(t, json.Unmarshal([]byte(body), &miss))
	if res.StatusCode != 404 || !strings.HasPrefix(miss.File, "./mocks/items/POST__body-") ||
		!strings.Contains(miss.Error, "the target is down: connection refused") || !strings.Contains(miss.Hint, "start the target") {
		t.Errorf("miss with the backend down: got %d %+v", res.StatusCode, miss)
	}
}

func TestReplayFileErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"mocks/by-hand/GET.http":   "HTTP/1.1 202 Accepted\nContent-Type: text/plain\n\nwritten by hand",
		"mocks/bad-json/GET.http":  "GET /api/bad-json\n\nHTTP/1.1 200 OK\n# body: json, compacted when replayed\nContent-Type: application/json\n\n{\"a\": ",
		"mocks/no-status/GET.http": "GET /api/no-status\n\nContent-Type: text/plain\n\nx",
		"mocks/escape/GET.http":    "HTTP/1.1 200 OK\n# body: file ../../devproxy.yaml\n\n",
	})
	p := startProxyIn(t, dir, "routes:\n  /api:\n    replay: ./mocks\n", nil)
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/api/by-hand", 202, "written by hand"},
		{"/api/bad-json", 500, `cannot replay ./mocks/bad-json/GET.http:4: the body is not valid JSON`},
		{"/api/no-status", 500, `cannot replay ./mocks/no-status/GET.http:3: want the status line`},
		{"/api/escape", 500, `the body file \"../../devproxy.yaml\" is not a file name in the recording's folder`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, body := p.do(t, "GET", tt.path, nil, http.Header{"Accept": {"application/json"}})
			if res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("GET %s: got %d %s, want %d containing %q", tt.path, res.StatusCode, body, tt.status, tt.want)
			}
		})
	}
}

func TestRecordingName(t *testing.T) {
	tests := []struct {
		method, target, hash, want string
	}{
		{"GET", "/api", "", "d/GET.http"},
		{"GET", "/api/", "", "d/GET.http"},
		{"GET", "/api/users/42", "", "d/users/42/GET.http"},
		{"GET", "/api/users?b=2&a=1", "", "d/users/GET__a=1&b=2.http"},
		{"GET", "/api/a%20b/c:d", "", "d/a%20b/c%3Ad/GET.http"},
		{"GET", "/api/x?q=a/b*c", "", "d/x/GET__q=a%2Fb%2Ac.http"},
		{"POST", "/api/items", "3fa9c2d10b7e", "d/items/POST__body-3fa9c2d10b7e.http"},
		{"GET", "/api/x?" + strings.Repeat("k=v&", 30), "", "d/x/GET__q-"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			got := filepath.ToSlash(recordingName("d", "/api", r, tt.hash))
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("recordingName(%s %s) = %q, want %q", tt.method, tt.target, got, tt.want)
			}
		})
	}
}

// waitLines waits until n lines of the log contain every one of subs,
// and returns those lines.
func (l *logBuffer) waitLines(t *testing.T, n int, subs ...string) []string {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		l.mu.Lock()
		s, ch := l.buf.String(), l.changed
		l.mu.Unlock()
		var found []string
		for line := range strings.SplitSeq(s, "\n") {
			ok := true
			for _, sub := range subs {
				ok = ok && strings.Contains(line, sub)
			}
			if ok {
				found = append(found, line)
			}
		}
		if len(found) >= n {
			return found
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("log showed %d lines with %q, want %d; log:\n%s", len(found), subs, n, s)
		}
	}
}
