package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain serves the page-load dev server when run sets pageBackendEnv:
// run starts the dev server as its own executable, which in a test is the
// test binary.
func TestMain(m *testing.M) {
	if os.Getenv(pageBackendEnv) != "" {
		os.Exit(servePageBackend())
	}
	os.Exit(m.Run())
}

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

// TestRunNginx runs the page-load scenarios with -nginx and -think, as
// go run ./bench does: nginx gets a row in both page-load scenarios with
// no errors and its CPU per load, every devproxy a line with its CPU ÷
// nginx's, the header says the think time, and nginx is stopped at the
// end.
func TestRunNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("builds devproxy and runs the page-load scenarios; not with -short")
	}
	path, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not on PATH; install it (Debian: apt-get install nginx) to test -nginx")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	version, err := nginxVersion(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"-only", "pageload", "-nginx", "-think", "1ms", "-duration", "1500ms", "-warmup", "200ms"}
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("run %v: exit %d, want 0; stderr:\n%s", args, code, stderr.String())
	}
	out := stdout.String()
	t.Logf("output:\n%s", out)

	if want := "page loads: 1ms think time after each response, per connection, nginx beside devproxy"; !strings.Contains(out, want) {
		t.Errorf("header does not say %q", want)
	}
	for _, kind := range []string{"cold", "warm"} {
		var found bool
		for line := range strings.Lines(out) {
			f := strings.Fields(line)
			if len(f) < 3 || f[0] != kind || !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(line, kind)), version+" ") {
				continue
			}
			found = true
			if errs := f[len(f)-1]; errs != "0" {
				t.Errorf("%s load via %s: %s errors, want 0: %s", kind, version, errs, line)
			}
			if strings.Contains(line, "–") {
				t.Errorf("%s load via %s: a cell is unknown (–), want CPU per load and every ratio: %s", kind, version, line)
			}
		}
		if !found {
			t.Errorf("no %s page-load row via %s", kind, version)
		}
	}
	if strings.Contains(out, " via "+version+": ") {
		t.Errorf("errors via %s in the output", version)
	}
	ratio := regexp.MustCompile(`(?m)^devproxy CPU ÷ nginx CPU per load, same run: cold \d+\.\d\d, warm \d+\.\d\d$`)
	if !ratio.MatchString(out) {
		t.Errorf("no line matching %s", ratio)
	}

	// Its folder and processes are gone: no child of this process is
	// still nginx.
	kids, err := children(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range kids {
		if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.TrimSpace(string(comm)) == "nginx" {
			t.Errorf("nginx (pid %d) still runs after run returned", pid)
		}
	}
}

// TestRunThinkInvalid pins -think's validation.
func TestRunThinkInvalid(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-think", "-1ms"}, "bench: error: -think -1ms: must not be negative"},
		{[]string{"-think", "soon"}, `invalid value "soon" for flag -think`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stdout, &stderr); code != 2 {
			t.Errorf("run %v: exit %d, want 2", tt.args, code)
		}
		if !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("run %v: stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.want)
		}
	}
}
