package devproxy

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
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
// accepts is up, one on a closed port is down with the reason the banner
// shows, and a target that several rows name is probed once.
func TestProbeSaysWhichTargetsAreDown(t *testing.T) {
	up := namedBackend(t, "up")
	upURL, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	downURL, err := url.Parse("http://127.0.0.1:" + closedPort(t))
	if err != nil {
		t.Fatal(err)
	}
	rows := []routeRow{{path: "/a", target: upURL}, {path: "/b", target: upURL}, {path: "/c", target: downURL}, {path: "/m", kind: kindMock}}
	got := probe(context.Background(), rows)
	if len(got) != 2 {
		t.Errorf("probe: got %d targets %v, want 2", len(got), got)
	}
	if err := got[hostPort(upURL)]; err != nil {
		t.Errorf("probe %s: got %v, want up", upURL, err)
	}
	err = got[hostPort(downURL)]
	if err == nil {
		t.Fatalf("probe %s: got up, want down", downURL)
	}
	if reason := probeReason(downURL, err); !strings.Contains(reason, "nothing listens on "+hostPort(downURL)) {
		t.Errorf("probeReason(%s): got %q, want it to say nothing listens there", downURL, reason)
	}
}
