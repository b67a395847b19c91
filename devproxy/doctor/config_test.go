package doctor

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devproxy/devproxy/internal/testnet"

	"github.com/devproxy/devproxy/devproxy/config"
)

// TestCheckConfigAsksForHTTP pins that doctor's config check asks for an
// HTTP answer: a port that accepts was "ok … answers" even when it served
// plain HTTP to an https target or never answered.
func TestCheckConfigAsksForHTTP(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	upHost := strings.TrimPrefix(up.URL, "http://")
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts into its backlog, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	cfg := load(t, file, "listen: 127.0.0.1:0\nroutes:\n  /tls: https://"+upHost+"\n  /hang: http://"+silent.Addr().String()+"\n")
	want := map[string]string{
		"route /tls":  "https://" + upHost + " does not answer: " + upHost + " (IPv4) the server does not speak TLS",
		"route /hang": "http://" + silent.Addr().String() + " does not answer: " + silent.Addr().String() + " (IPv4) no answer within 2s",
	}
	for _, f := range CheckConfig(context.Background(), cfg) {
		if w, ok := want[f.What]; ok && (f.OK || f.Detail != w) {
			t.Errorf("CheckConfig %s: ok %t, %q; want a problem: %q", f.What, f.OK, f.Detail, w)
		}
	}
}

// TestCheckConfig checks each finding of the config check: a route whose
// target answers, one whose target does not, a mock, a frontend, a port held
// by another program, and the same port held by devproxy.
func TestCheckConfig(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	down := testnet.ClosedPort(t)
	upHost := strings.TrimPrefix(up.URL, "http://")
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	cfg := load(t, file, "listen: "+busy.Addr().String()+"\nfrontend: "+up.URL+"\nroutes:\n  /api: "+up.URL+
		"\n  /auth: http://127.0.0.1:"+down+"\n  /hello: {respond: {json: hi}}\n")
	want := []Finding{
		{What: "route /api", OK: true, Detail: up.URL + " answers on " + upHost + " (IPv4)"},
		{What: "route /auth", Detail: "http://127.0.0.1:" + down + " does not answer: 127.0.0.1:" + down + " (IPv4) refused",
			Hint: "start it, or fix routes./auth.target in " + file},
		{What: "route /hello", OK: true, Detail: "a mock, answered by devproxy itself"},
		{What: "frontend", OK: true, Detail: up.URL + " answers on " + upHost + " (IPv4)"},
		{What: "listen", Detail: "something else listens on " + busy.Addr().String() + ", so devproxy cannot start there (it did not answer devproxy's status request: no answer in time)",
			Hint: "stop that program, or pick another address with listen: or -listen"},
	}
	got := CheckConfig(context.Background(), cfg)
	if len(got) != len(want) {
		t.Fatalf("CheckConfig: %d findings %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("CheckConfig finding %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	// devproxy itself on the port is no problem.
	p := startDevproxy(t, "routes:\n  /api: "+up.URL+"\n", nil)
	cfg = load(t, file, "listen: "+p.host+"\nroutes:\n  /api: "+up.URL+"\n")
	got = CheckConfig(context.Background(), cfg)
	last := got[len(got)-1]
	if wantL := (Finding{What: "listen", OK: true, Detail: "devproxy devel already runs on " + p.host}); last != wantL {
		t.Errorf("CheckConfig with devproxy running: listen finding %+v, want %+v", last, wantL)
	}

	// A folder frontend is checked for its index.html.
	dist := t.TempDir()
	cfg = load(t, file, "listen: 127.0.0.1:0\nfrontend: "+dist+"\n")
	if got := CheckConfig(context.Background(), cfg); got[0].OK || got[0].Detail != "folder "+dist+" has no index.html" {
		t.Errorf("CheckConfig with an empty folder: %+v, want a problem: no index.html", got[0])
	}
}

func load(t *testing.T, file, yaml string) *config.Config {
	t.Helper()
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	return cfg
}
