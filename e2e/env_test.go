package e2e

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/syncbuf"
)

// installHint says how to get what the suite needs on Debian.
const installHint = "run: apt-get install -y chromium, then npm ci in e2e/app and in each e2e/testdata/NAME"

// appDir is the node app's folder, relative to this package's folder, where
// go test runs the tests.
const appDir = "app"

// startTimeout bounds how long a dev server may take to start, generous for
// webpack's first build on a slow machine.
const startTimeout = 90 * time.Second

// requireChromium returns the path of Chromium or skips the test.
func requireChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not found; " + installHint)
	return ""
}

// requireNode skips the test unless node is there.
func requireNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found; install Node 20.19 or newer, then " + installHint)
	}
}

// requireModules skips the test unless the npm project in dir has the
// packages installed.
func requireModules(t *testing.T, dir string, pkgs ...string) {
	t.Helper()
	for _, pkg := range pkgs {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Skipf("e2e/%s/node_modules/%s missing; run: (cd e2e/%s && npm ci)", filepath.ToSlash(dir), pkg, filepath.ToSlash(dir))
		}
	}
}

// freePort returns a loopback port that nothing listens on at the moment.
// Dev servers are given a fixed port (with strictPort) because that is how
// people run them, and because webpack-dev-server's default socket URL
// names it.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// nodeProcess is a node program started by a test, in its own process group
// so that stopping it also stops whatever it spawned.
type nodeProcess struct {
	out  *syncbuf.Buffer
	done chan struct{} // closed when the process exited
}

// startNode runs `node serve.mjs args...` in the app folder and waits for
// its "ready" line. The process group is killed when the test ends.
func startNode(t *testing.T, args ...string) *nodeProcess {
	t.Helper()
	p, ready := startProcess(t, appDir, nil, "node", append([]string{"serve.mjs"}, args...)...)
	name := "node serve.mjs " + strings.Join(args, " ")
	select {
	case <-ready:
	case <-p.done:
		// A build prints "ready" and exits: both may have happened.
		select {
		case <-ready:
		default:
			t.Fatalf("%s exited before it was ready:\n%s", name, p.out)
		}
	case <-time.After(startTimeout):
		t.Fatalf("%s: not ready after %s:\n%s", name, startTimeout, p.out)
	}
	return p
}

// startProcess runs the program in dir with env added to the test's own,
// and returns it and a channel closed when it prints a line starting with
// "ready ". Its output goes to p.out. The process group is killed when the
// test ends.
func startProcess(t *testing.T, dir string, env []string, name string, args ...string) (p *nodeProcess, ready chan struct{}) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1", "FORCE_COLOR=0", "BROWSER=none"), env...)
	setProcessGroup(cmd)
	p = &nodeProcess{out: &syncbuf.Buffer{}, done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.out
	line := name + " " + strings.Join(args, " ")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", line, err)
	}
	ready = make(chan struct{})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			io.WriteString(p.out, line+"\n")
			if !seen && strings.HasPrefix(line, "ready ") {
				seen = true
				close(ready)
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		killProcessGroup(cmd)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: still running 10s after kill", line)
		}
	})
	return p, ready
}

// waitHTTP waits until url answers at all, as a dev server does once it
// listens; the first answer may take a first build. It fails the test when
// the process exits first or the deadline passes.
func waitHTTP(t *testing.T, p *nodeProcess, url string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: startTimeout}
	for {
		res, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return
		}
		select {
		case <-p.done:
			t.Fatalf("dev server exited before it answered %s:\n%s", url, p.out)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev server: %s did not answer within %s: %v\n%s", url, startTimeout, err, p.out)
		}
	}
}

// withTimeout returns a context that ends after d or when the test ends.
func withTimeout(t *testing.T, parent context.Context, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(parent, d)
	t.Cleanup(cancel)
	return ctx
}
