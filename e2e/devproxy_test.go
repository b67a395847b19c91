package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/devproxy/devproxy/devproxy"
	"github.com/devproxy/devproxy/internal/syncbuf"
)

// reloadTimeout bounds how long devproxy may take to apply a saved config:
// a guard, sized for -race on a loaded machine (see evalTimeout). The save
// waits for devproxy's own report of the reload, not for the time.
const reloadTimeout = 60 * time.Second

// logTimeout bounds a wait for a line of devproxy's log.
const logTimeout = 30 * time.Second

// proxy is devproxy running in the test's process, on 127.0.0.1 with a
// port of its own, as `devproxy -config FILE -listen 127.0.0.1:PORT` runs.
type proxy struct {
	origin  string // http(s)://localhost:PORT, the origin the browser uses
	config  string // the config file's path
	log     *syncbuf.Buffer
	reloads chan error // one value per reload of the config file
}

// startDevproxy writes config to a devproxy.yaml in dir and serves it until
// the test ends.
func startDevproxy(t *testing.T, dir, config string) *proxy {
	t.Helper()
	return startDevproxyWith(t, dir, config, nil)
}

// startDevproxyWith is startDevproxy with set, when not nil, adjusting the
// options (the local CA's folder and home for https).
func startDevproxyWith(t *testing.T, dir, config string, set func(*devproxy.Options)) *proxy {
	t.Helper()
	p := &proxy{
		config:  filepath.Join(dir, "devproxy.yaml"),
		log:     &syncbuf.Buffer{},
		reloads: make(chan error, 16),
	}
	if err := os.WriteFile(p.config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := devproxy.Options{
		ConfigFile: p.config,
		Listen:     ln.Addr().String(),
		Log:        p.log,
		OnReload: func(err error) {
			select {
			case p.reloads <- err:
			default:
			}
		},
	}
	if set != nil {
		set(&opts)
	}
	srv, err := devproxy.New(opts)
	if err != nil {
		ln.Close()
		t.Fatalf("devproxy.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("devproxy Serve: %v", err)
		}
	})
	// http://localhost:PORT, or https:// when the config says https.
	p.origin = srv.OpenURL()
	return p
}

// save replaces the config the way editors save: a new file renamed over
// the old one. It waits until devproxy has applied it.
func (p *proxy) save(t *testing.T, config string) {
	t.Helper()
	for len(p.reloads) > 0 {
		<-p.reloads
	}
	tmp := p.config + ".tmp"
	if err := os.WriteFile(tmp, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p.config); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.reloads:
		if err != nil {
			t.Fatalf("reload of the saved config: %v", err)
		}
	case <-time.After(reloadTimeout):
		t.Fatalf("saved config not applied after %s; log:\n%s", reloadTimeout, p.log)
	}
}

// waitLog waits until ok is true of devproxy's log, or logTimeout has
// passed, and reports whether it became true.
func (p *proxy) waitLog(ok func(log string) bool) bool {
	deadline := time.Now().Add(logTimeout)
	for {
		if ok(p.log.String()) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
