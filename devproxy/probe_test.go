package devproxy

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/testnet"
)

func TestNonLoopbackListenWarns(t *testing.T) {
	for _, tt := range []struct {
		listen  string
		exposed bool
	}{
		{"127.0.0.1:8080", false},
		{"localhost:8080", false},
		{"[::1]:8080", false},
		{"0.0.0.0:8080", true},
		{":8080", true},
		{"[::]:8080", true},
		{"192.168.1.20:8080", true},
	} {
		if got := exposed(tt.listen); (got != nil) != tt.exposed {
			t.Errorf("exposed(%q) = %v, want exposed %t", tt.listen, got, tt.exposed)
		}
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"devproxy.yaml": "routes: {}\n"})
	file := filepath.Join(dir, "devproxy.yaml")
	lb := newLogBuffer()
	srv, err := New(Options{ConfigFile: file, Log: lb})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx, ln) }()
	lb.waitFor(t, "warning: listening on "+ln.Addr().String()+": your dev stack is reachable from the network at ")
	cancel()
	<-done
}

// TestProbeSaysWhichTargetsAreDown checks the start-up probe: a target that
// answers HTTP is up, and one that only accepts is not: a closed port, plain
// HTTP behind an https target, a server that never answers and one that
// answers garbage are down with the reason the banner shows. A target that
// several rows name is probed once.
func TestProbeSaysWhichTargetsAreDown(t *testing.T) {
	up := namedBackend(t, "up")
	upAddr := strings.TrimPrefix(up.URL, "http://")
	silent := make(chan struct{})
	defer close(silent)
	hang := testnet.RawServer(t, func(c net.Conn) { <-silent; c.Close() })
	garbage := testnet.RawServer(t, func(c net.Conn) {
		defer c.Close()
		_, _ = c.Read(make([]byte, 512))
		_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
	})
	closed := "127.0.0.1:" + closedPort(t)
	tests := []struct {
		target string
		reason string // "" when up
	}{
		{up.URL, ""},
		{"http://" + closed, "connection refused: nothing listens on " + closed},
		{"https://" + upAddr, "the target does not speak TLS on " + upAddr},
		{"http://" + hang, "no response headers within " + probeTimeout.String()},
		{"http://" + garbage, "the target does not speak HTTP on " + garbage},
	}
	var rows []routeRow
	for i, tt := range tests {
		u, err := url.Parse(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, routeRow{path: fmt.Sprintf("/r%d", i), target: u})
	}
	rows = append(rows, routeRow{path: "/again", target: rows[0].target}, routeRow{path: "/m", kind: kindMock})
	got := (&Server{}).probeTargets(context.Background(), rows)
	if len(got) != len(tests) {
		t.Errorf("probe: got %d targets %v, want %d", len(got), got, len(tests))
	}
	for i, tt := range tests {
		err := got[probeKey(rows[i])]
		switch {
		case tt.reason == "" && err != nil:
			t.Errorf("probe %s: got %v, want up", tt.target, err)
		case tt.reason != "" && err == nil:
			t.Errorf("probe %s: got up, want down: %s", tt.target, tt.reason)
		case tt.reason != "":
			if r := probeReason(rows[i].target, err); r != tt.reason {
				t.Errorf("probe %s: reason %q, want %q", tt.target, r, tt.reason)
			}
		}
	}
}

// TestBannerSaysReadyIn pins the banner's start-up time, measured with the
// injected clock from Options.Started to listening.
func TestBannerSaysReadyIn(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"devproxy.yaml": "routes: {}\n"})
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		json bool
		want string
	}{
		{false, "devproxy devel  ready in 15 ms\n"},
		{true, `"msg":"devproxy listening","duration_ms":15,`},
	} {
		lb := newLogBuffer()
		srv, err := New(Options{
			ConfigFile: filepath.Join(dir, "devproxy.yaml"), Log: lb, LogJSON: tt.json,
			Started: start, Now: func() time.Time { return start.Add(15 * time.Millisecond) },
		})
		if err != nil {
			t.Fatal(err)
		}
		testnet.Serve(t, srv)
		lb.waitFor(t, tt.want)
	}
}

// TestRestartProbesAgain pins what the r key does: every target probed
// again, one line each (the commands' restart is TestRestartCommands').
func TestRestartProbesAgain(t *testing.T) {
	up := namedBackend(t, "up")
	closed := "127.0.0.1:" + closedPort(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"devproxy.yaml": "frontend: " + up.URL + "\nroutes:\n  /api: " + up.URL + "\n  /b: http://" + closed + "\n"})
	lb := newLogBuffer()
	srv, err := New(Options{ConfigFile: filepath.Join(dir, "devproxy.yaml"), Log: lb})
	if err != nil {
		t.Fatal(err)
	}
	addr := testnet.Serve(t, srv)
	lb.waitFor(t, "→ http://"+closed+"  down: connection refused")
	if got, want := srv.OpenURL(), URL(addr); got != want {
		t.Errorf("OpenURL() = %q, want %q", got, want)
	}
	srv.Restart(context.Background())
	lb.waitFor(t, "warning: http://"+closed+" is down: connection refused: nothing listens on "+closed)
	lb.waitFor(t, up.URL+" is up")
	if n := strings.Count(lb.String(), up.URL+" is up"); n != 1 {
		t.Errorf("Restart: %d lines say %s is up, want 1 (probed once)", n, up.URL)
	}
}
