package devproxy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// configWith is a config routing /api to api and /extra to extra.
func configWith(api, extra string) string {
	return fmt.Sprintf("routes:\n  /api: %s\n  /extra:\n    respond: {body: %q}\n", api, extra)
}

// saveInPlace truncates path and writes content in chunks, as most editors
// and `echo >` do.
func saveInPlace(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for len(content) > 0 {
		n := min(len(content), 16)
		if _, err := f.WriteString(content[:n]); err != nil {
			t.Fatal(err)
		}
		content = content[n:]
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReloadEverySaveStyle(t *testing.T) {
	be := namedBackend(t, "api")
	styles := []struct {
		name string
		save func(t *testing.T, path, content string)
	}{
		{"in place, in chunks", saveInPlace},
		{"temp file renamed over", saveByRename},
		{"mv from elsewhere in the folder", func(t *testing.T, path, content string) {
			other := filepath.Join(filepath.Dir(path), "new.yaml")
			must(t, os.WriteFile(other, []byte(content), 0o644))
			if out, err := exec.Command("mv", other, path).CombinedOutput(); err != nil {
				t.Fatalf("mv: %v %s", err, out)
			}
		}},
		{"sed -i", func(t *testing.T, path, content string) {
			// sed -i writes a new file and renames it over the old one.
			old, err := os.ReadFile(path)
			must(t, err)
			oldExtra := strings.Split(strings.Split(string(old), `body: "`)[1], `"`)[0]
			newExtra := strings.Split(strings.Split(content, `body: "`)[1], `"`)[0]
			if out, err := exec.Command("sed", "-i", "s/"+oldExtra+"/"+newExtra+"/", path).CombinedOutput(); err != nil {
				t.Fatalf("sed -i: %v %s", err, out)
			}
		}},
		{"delete then recreate (git checkout)", func(t *testing.T, path, content string) {
			must(t, os.Remove(path))
			must(t, os.WriteFile(path, []byte(content), 0o644))
		}},
	}
	for _, st := range styles {
		t.Run(st.name, func(t *testing.T) {
			p := startProxy(t, configWith(be.URL, "v0"), nil)
			p.wantBody(t, "/extra", "v0")
			st.save(t, p.file, configWith(be.URL, "v1"))
			if err := p.waitReload(t); err != nil {
				t.Fatalf("reload after save: %v", err)
			}
			p.wantBody(t, "/extra", "v1")
			p.wantBody(t, "/api", "api")
			// The next reload must be the marker save: the first save made
			// exactly one.
			saveByRename(t, p.file, configWith(be.URL, "marker"))
			if err := p.waitReload(t); err != nil {
				t.Fatalf("a save made more than one reload, or a failed one: %v\nlog:\n%s", err, p.log)
			}
			p.wantBody(t, "/extra", "marker")
		})
	}
}

func TestReloadFiveRenamesInARow(t *testing.T) {
	be := namedBackend(t, "api")
	p := startProxy(t, configWith(be.URL, "v0"), nil)
	for i := 1; i <= 5; i++ {
		saveByRename(t, p.file, configWith(be.URL, fmt.Sprintf("v%d", i)))
		if err := p.waitReload(t); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
		p.wantBody(t, "/extra", fmt.Sprintf("v%d", i))
	}
	p.log.waitFor(t, `config reloaded: changed /extra options`)
}

func TestReloadSymlinkedConfig(t *testing.T) {
	be := namedBackend(t, "api")
	dir := t.TempDir()
	realDir := t.TempDir()
	a, b := filepath.Join(realDir, "a.yaml"), filepath.Join(realDir, "b.yaml")
	must(t, os.WriteFile(a, []byte(configWith(be.URL, "a")), 0o644))
	must(t, os.WriteFile(b, []byte(configWith(be.URL, "b")), 0o644))
	link := filepath.Join(dir, "devproxy.yaml")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	p := startProxyExisting(t, link)
	p.wantBody(t, "/extra", "a")

	// Editing the link's target reloads.
	saveInPlace(t, a, configWith(be.URL, "a2"))
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.wantBody(t, "/extra", "a2")

	// Re-pointing the link (ln -sfn: a new link renamed over) reloads.
	tmp := filepath.Join(dir, ".devproxy.yaml.new")
	must(t, os.Symlink(b, tmp))
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.wantBody(t, "/extra", "b")

	// The new target is watched too.
	saveByRename(t, b, configWith(be.URL, "b2"))
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.wantBody(t, "/extra", "b2")
}

func TestBrokenSavesKeepThePreviousConfig(t *testing.T) {
	be := namedBackend(t, "api")
	p := startProxy(t, configWith(be.URL, "good"), nil)

	broken := []struct{ name, content, wantErr string }{
		{"yaml syntax", "routes:\n  /api: [unclosed\n", "invalid YAML"},
		{"unknown key", configWith(be.URL, "x") + "  /bad:\n    tagret: http://x\n", `did you mean "target"?`},
		{"empty file", "", "the file is empty"},
		{"half written", "routes:\n  /api: htt", "has no scheme"},
	}
	for _, tt := range broken {
		saveInPlace(t, p.file, tt.content)
		err := p.waitReload(t)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Fatalf("%s: reload error %v, want one containing %q", tt.name, err, tt.wantErr)
		}
		p.wantBody(t, "/extra", "good")
		p.wantBody(t, "/api", "api")
		_, body := p.get(t, "/__devproxy/status")
		var st statusJSON
		json.Unmarshal([]byte(body), &st)
		if st.Reload.OK || !strings.Contains(st.Reload.Error, tt.wantErr) {
			t.Errorf("%s: status reload = %+v, want not ok with %q", tt.name, st.Reload, tt.wantErr)
		}
	}
	p.log.waitFor(t, "kept previous config", "devproxy.yaml:1: invalid YAML", "the file is empty")

	saveInPlace(t, p.file, configWith(be.URL, "fixed"))
	if err := p.waitReload(t); err != nil {
		t.Fatalf("reload of the fix: %v", err)
	}
	p.wantBody(t, "/extra", "fixed")
	_, body := p.get(t, "/__devproxy/status")
	var st statusJSON
	json.Unmarshal([]byte(body), &st)
	if !st.Reload.OK || st.Reload.Error != "" {
		t.Errorf("status after the fix: reload = %+v, want ok", st.Reload)
	}
}

func TestDeletedConfigKeepsServing(t *testing.T) {
	be := namedBackend(t, "api")
	p := startProxy(t, configWith(be.URL, "before"), nil)
	if err := os.Remove(p.file); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "was deleted; the last good config keeps serving")
	p.wantBody(t, "/extra", "before")
	must(t, os.WriteFile(p.file, []byte(configWith(be.URL, "after")), 0o644))
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.wantBody(t, "/extra", "after")
}

// TestReloadProbesNewTargets pins that a reload probes the targets it adds
// or changes and says in its line whether they answer: a half-written save
// that applied http://127.0.0.1:5 used to say nothing.
func TestReloadProbesNewTargets(t *testing.T) {
	a := namedBackend(t, "a")
	aAddr := strings.TrimPrefix(a.URL, "http://")
	closed := "127.0.0.1:" + closedPort(t)
	p := startTunedProxy(t, "routes:\n  /api: "+a.URL+"\n", func(s *Server) { s.connectProbe = false })
	saveByRename(t, p.file, "routes:\n  /api: https://"+aAddr+"\n  /b: http://"+closed+"\n  /c: "+a.URL+"\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "config reloaded: changed /api: "+a.URL+" → https://"+aAddr+"; added /b → http://"+closed+"; added /c → "+a.URL+
		"; https://"+aAddr+" down: the target does not speak TLS on "+aAddr+
		"; http://"+closed+" down: connection refused: nothing listens on "+closed)
}

func TestReloadLogSaysWhatChanged(t *testing.T) {
	a, b := namedBackend(t, "a"), namedBackend(t, "b")
	p := startProxy(t, "routes:\n  /api: "+a.URL+"\n  /old: "+a.URL+"\n", nil)
	saveByRename(t, p.file, "frontend: "+b.URL+"\nroutes:\n  /api: "+b.URL+"\n  /new:\n    respond: {body: hi}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "config reloaded: changed /api: "+a.URL+" → "+b.URL+"; added /new → mock; removed /old; frontend none → "+b.URL+"; "+b.URL+" up")
	p.wantBody(t, "/api", "b")
	p.wantBody(t, "/", "b")

	// The same config with a comment changes nothing.
	saveByRename(t, p.file, "# a comment\nfrontend: "+b.URL+"\nroutes:\n  /api: "+b.URL+"\n  /new:\n    respond: {body: hi}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "config reloaded: nothing changed")
}

func TestTouchDoesNotReload(t *testing.T) {
	be := namedBackend(t, "api")
	p := startProxy(t, configWith(be.URL, "v0"), nil)
	now := time.Now().Add(time.Minute)
	must(t, os.Chtimes(p.file, now, now))
	must(t, os.Chmod(p.file, 0o600))
	saveByRename(t, p.file, configWith(be.URL, "marker"))
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.wantBody(t, "/extra", "marker") // the first reload seen is the marker's
	select {
	case err := <-p.reloads:
		t.Errorf("touch and chmod made a reload: %v", err)
	default:
	}
}

func TestReloadKeepsPoolsOfUnchangedTargets(t *testing.T) {
	var opened atomic.Int32
	closed := make(chan struct{}, 10)
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	be.Config.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed:
			closed <- struct{}{}
		}
	}
	be.Start()
	defer be.Close()
	p := startProxy(t, configWith(be.URL, "v0"), nil)
	p.wantBody(t, "/api", "ok")
	before := opened.Load() // the startup probe's connection and the request's
	saveByRename(t, p.file, configWith(be.URL, "v1"))
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.wantBody(t, "/api", "ok")
	if n := opened.Load(); n != before {
		t.Errorf("upstream connections after a reload that kept /api: %d, want the %d before, reused", n, before)
	}
	// Removing the route closes its idle connection.
	saveByRename(t, p.file, "routes:\n  /extra:\n    respond: {body: x}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(waitTimeout):
		t.Error("the idle connection of a removed target was not closed")
	}
}

func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test; skipped with -short")
	}
	api := namedBackend(t, "api")
	release := make(chan struct{})
	stream := streamBackend(t, func(r *http.Request) bool {
		select {
		case <-release:
			return true
		case <-r.Context().Done():
			return false
		}
	})
	cfgA := fmt.Sprintf("routes:\n  /api: %s\n  /stream: %s\n  /extra:\n    respond: {body: A}\n", api.URL, stream.URL)
	cfgB := fmt.Sprintf("routes:\n  /api: %s\n  /stream: %s\n  /other:\n    respond: {body: B}\n", api.URL, stream.URL)
	p := startProxy(t, cfgA, nil)

	// A WebSocket and an SSE stream on an unchanged route stay open across
	// every reload.
	ws, _, err := wsDial(t, p.host, "/stream/ws", nil)
	if err != nil || ws == nil {
		t.Fatalf("WebSocket: %v", err)
	}
	defer ws.close()
	ws.SetDeadline(time.Time{})
	sse, err := http.Get(p.url + "/stream/events")
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	sseR := bufio.NewReader(sse.Body)
	if line, _ := sseR.ReadString('\n'); line != "data: first\n" {
		t.Fatalf("SSE first line %q", line)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var requests, failures atomic.Int64
	var firstFailure atomic.Value
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer client.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, path := range []string{"/api/x", "/extra", "/other"} {
					res, err := client.Get(p.url + path)
					requests.Add(1)
					if err != nil {
						failures.Add(1)
						firstFailure.CompareAndSwap(nil, err.Error())
						continue
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					body := string(b)
					ok := (path == "/api/x" && res.StatusCode == 200 && body == "api") ||
						(path == "/extra" && (body == "A" || res.StatusCode == 404 && res.Header.Get("X-Devproxy-Error") == "1")) ||
						(path == "/other" && (body == "B" || res.StatusCode == 404 && res.Header.Get("X-Devproxy-Error") == "1"))
					if !ok {
						failures.Add(1)
						firstFailure.CompareAndSwap(nil, fmt.Sprintf("GET %s: %d %q", path, res.StatusCode, body))
					}
				}
			}
		}()
	}

	for i := range 50 {
		content := cfgA
		if i%2 == 0 {
			content = cfgB
		}
		if i%10 == 5 {
			saveInPlace(t, p.file, "routes:\n  /api: [broken\n")
			if err := p.waitReload(t); err == nil {
				t.Fatal("a broken save was applied")
			}
		}
		saveByRename(t, p.file, content)
		if err := p.waitReload(t); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	if f := failures.Load(); f != 0 || requests.Load() == 0 {
		t.Errorf("%d of %d requests failed during 50 reloads; first: %v", f, requests.Load(), firstFailure.Load())
	}
	t.Logf("%d requests during 50 reloads and 5 broken saves", requests.Load())

	if err := ws.send([]byte("still here")); err != nil {
		t.Fatalf("WebSocket after the reloads: %v", err)
	}
	if msg, err := ws.recv(); err != nil || string(msg) != "still here" {
		t.Errorf("WebSocket after the reloads: %q %v, want the echo", msg, err)
	}
	close(release)
	if line, _ := sseR.ReadString('\n'); line != "\n" {
		t.Errorf("SSE after the reloads: %q", line)
	}
	if line, _ := sseR.ReadString('\n'); line != "data: last\n" {
		t.Errorf("SSE after the reloads: %q, want the last event", line)
	}
}

func TestInFlightRequestOnRemovedRouteFinishes(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		io.WriteString(w, "finished on the old target")
	}))
	defer old.Close()
	p := startProxy(t, "routes:\n  /old: "+old.URL+"\n", nil)
	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get(p.url + "/old/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		got <- result{res.StatusCode, string(b), err}
	}()
	<-arrived
	saveByRename(t, p.file, "routes:\n  /new:\n    respond: {body: new}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.wantBody(t, "/new", "new")
	if res, _ := p.get(t, "/old/next"); res.StatusCode != 404 {
		t.Errorf("GET /old/next after the route was removed: status %d, want 404", res.StatusCode)
	}
	close(release)
	if r := <-got; r.err != nil || r.status != 200 || r.body != "finished on the old target" {
		t.Errorf("in-flight GET /old/slow across the reload: %d %q %v, want it finished by the old target", r.status, r.body, r.err)
	}
}

// statusReload returns the reload state the status endpoint reports.
func (p *testProxy) statusReload(t *testing.T) reloadStatus {
	t.Helper()
	_, body := p.get(t, "/__devproxy/status")
	var st statusJSON
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("GET /__devproxy/status: %v in %q", err, body)
	}
	return st.Reload
}

// TestSaveOfAnAliasBombIsRefused pins that a save whose aliases would
// expand to hundreds of megabytes is refused quickly, without the memory,
// and the last good config keeps serving.
func TestSaveOfAnAliasBombIsRefused(t *testing.T) {
	p := startProxy(t, "routes:\n  /x:\n    respond: {body: good}\n", nil)
	// The same bomb as the first case of the config package's
	// TestParseConfigExpansionBoundedBySize.
	big := strings.Repeat("A", 1<<20)
	bomb := "routes:\n  /a:\n    respond:\n      json: &s \"" + big + "\"\n  /b:\n    respond:\n      json: [" +
		strings.TrimSuffix(strings.Repeat("*s, ", 300), ", ") + "]\n"
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	saveByRename(t, p.file, bomb)
	err := p.waitReload(t)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "routes./b.respond.json") || !strings.Contains(err.Error(), "expands to more than 16 MiB") {
		t.Fatalf("reload of an alias bomb: got %v, want it refused as expanding to more than 16 MiB", firstBytes(fmt.Sprint(err), 2000))
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 160<<20 {
		t.Errorf("the refused reload allocated %d MiB, want at most 160", grown>>20)
	}
	p.wantBody(t, "/x", "good")
	if st := p.statusReload(t); st.OK || !strings.Contains(st.Error, "expands to more than 16 MiB") {
		t.Errorf("status after the bomb: %+v, want the refusal", st)
	}
}

// TestRefusedSaveAppliedWhenItBecomesValid pins that a config refused
// because a file or folder it names did not exist yet is applied when the
// same bytes are saved again once it does.
func TestRefusedSaveAppliedWhenItBecomesValid(t *testing.T) {
	tests := []struct {
		name   string
		config string
		create func(dir string) error
		path   string
		want   string
	}{
		{"mock file", "routes:\n  /x:\n    respond: {file: later.json}\n",
			func(dir string) error {
				return os.WriteFile(filepath.Join(dir, "later.json"), []byte(`{"later":true}`), 0o644)
			},
			"/x", `{"later":true}`},
		{"frontend folder", "frontend: ./dist\nroutes:\n  /x:\n    respond: {body: x}\n",
			func(dir string) error {
				if err := os.Mkdir(filepath.Join(dir, "dist"), 0o755); err != nil {
					return err
				}
				return os.WriteFile(filepath.Join(dir, "dist", "index.html"), []byte("built"), 0o644)
			},
			"/", "built"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, "routes:\n  /x:\n    respond: {body: before}\n", nil)
			saveByRename(t, p.file, tt.config)
			if err := p.waitReload(t); err == nil || !strings.Contains(err.Error(), "does not exist") {
				t.Fatalf("save naming a missing file: got %v, want it refused", err)
			}
			if err := tt.create(p.dir); err != nil {
				t.Fatal(err)
			}
			saveByRename(t, p.file, tt.config)
			if err := p.waitReload(t); err != nil {
				t.Fatalf("the same save once the file exists: %v", err)
			}
			p.wantBody(t, tt.path, tt.want)
			if st := p.statusReload(t); !st.OK || st.Error != "" {
				t.Errorf("status after the applied save: %+v, want ok", st)
			}
		})
	}
}

// TestReloadAfterConfigFolderRecreated pins that deleting the config's
// folder and creating it again (a branch switch, a regenerated checkout)
// does not stop reloads.
func TestReloadAfterConfigFolderRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "project")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := startProxyIn(t, dir, "routes:\n  /x:\n    respond: {body: v0}\n", nil)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "was deleted")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(p.file, []byte("routes:\n  /x:\n    respond: {body: v1}\n"), 0o644))
	if err := p.waitReload(t); err != nil {
		t.Fatalf("reload after the folder came back: %v", err)
	}
	p.wantBody(t, "/x", "v1")
	p.log.waitFor(t, "watching "+dir+" again")
	// And it stays watched.
	saveByRename(t, p.file, "routes:\n  /x:\n    respond: {body: v2}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.wantBody(t, "/x", "v2")
}

// TestReloadKeepsPoolOfCORSRoute pins that a reload leaving a route in cors
// mode unchanged keeps its upstream pool: the next request reuses the
// connection.
func TestReloadKeepsPoolOfCORSRoute(t *testing.T) {
	var opened atomic.Int32
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	be.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	be.Start()
	defer be.Close()
	config := func(extra string) string {
		return "routes:\n  /api:\n    target: " + be.URL + "\n    cors: {origins: [http://localhost:3000]}\n  /extra:\n    respond: {body: " + extra + "}\n"
	}
	p := startProxy(t, config("v0"), nil)
	p.wantBody(t, "/api", "ok")
	p.wantBody(t, "/api", "ok")
	before := opened.Load()
	saveByRename(t, p.file, config("v1"))
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.wantBody(t, "/api", "ok")
	p.wantBody(t, "/api", "ok")
	if n := opened.Load(); n != before {
		t.Errorf("backend connections after a reload that kept the cors route /api: %d, want the %d before, reused", n, before)
	}
}

// firstBytes is s cut to n bytes, for a message that may be huge.
func firstBytes(s string, n int) string {
	if len(s) > n {
		return s[:n] + "[…]"
	}
	return s
}

// TestShadowingRouteWarns pins that a route over the dev server's own
// paths is logged as a warning with file:line at start-up and on reload,
// and that the config still serves.
func TestShadowingRouteWarns(t *testing.T) {
	fe, api := namedBackend(t, "fe"), namedBackend(t, "api")
	p := startProxy(t, "frontend: "+fe.URL+"\nroutes:\n  /sockjs-node: "+api.URL+"\n", nil)
	p.log.waitFor(t, "warning: "+p.file+`:3: routes./sockjs-node: "/sockjs-node" shadows /sockjs-node`)
	p.wantBody(t, "/sockjs-node/info", "api")
	saveByRename(t, p.file, "frontend: "+fe.URL+"\nroutes:\n  /api: "+api.URL+"\n  /ng-cli-ws: "+api.URL+"\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "warning: "+p.file+`:4: routes./ng-cli-ws: "/ng-cli-ws" shadows /ng-cli-ws, the Angular CLI's hot-reload socket`)
}

// TestReloadKeepsTheFrontendWebSocket pins that a save which adds and
// removes routes leaves a WebSocket to the frontend open and passing
// messages both ways: a dev server's hot-reload socket must outlive every
// reload (the e2e scenes check the same in a browser).
func TestReloadKeepsTheFrontendWebSocket(t *testing.T) {
	dev := streamBackend(t, func(*http.Request) bool { return true })
	api := namedBackend(t, "api")
	p := startProxy(t, fmt.Sprintf("frontend: %s\nroutes:\n  /api: %s\n", dev.URL, api.URL), nil)
	ws, _, err := wsDial(t, p.host, "/ws", nil)
	if err != nil || ws == nil {
		t.Fatalf("WebSocket to the frontend: %v", err)
	}
	defer ws.close()
	saves := []string{
		fmt.Sprintf("frontend: %s\nroutes:\n  /api: %s\n  /reports: %s\n", dev.URL, api.URL, api.URL),
		fmt.Sprintf("frontend: %s\nroutes:\n  /reports:\n    respond: {body: none}\n", dev.URL),
	}
	for i, cfg := range saves {
		saveByRename(t, p.file, cfg)
		if err := p.waitReload(t); err != nil {
			t.Fatalf("save %d: %v", i+1, err)
		}
		msg := fmt.Sprintf("after save %d", i+1)
		if err := ws.send([]byte(msg)); err != nil {
			t.Fatalf("WebSocket to the frontend, %s: send: %v", msg, err)
		}
		if got, err := ws.recv(); err != nil || string(got) != msg {
			t.Errorf("WebSocket to the frontend, %s: got %q (%v), want the echo %q", msg, got, err, msg)
		}
	}
}
