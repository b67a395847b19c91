package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// installHint says how to get what the suite needs on Debian.
const installHint = "run: apt-get install -y chromium && (cd e2e/app && npm ci)"

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

// requireNode skips the test unless node and the app's node_modules are
// there.
func requireNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found; install Node 20.19 or newer, then " + installHint)
	}
	for _, pkg := range []string{"vite", "webpack", "webpack-dev-server"} {
		if _, err := os.Stat(filepath.Join(appDir, "node_modules", pkg, "package.json")); err != nil {
			t.Skipf("e2e/app/node_modules/%s missing; %s", pkg, installHint)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers: the
// devproxy log and the dev servers' output are written by other goroutines
// while the test reads them.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
	out  *syncBuffer
	done chan struct{} // closed when the process exited
}

// startNode runs `node serve.mjs args...` in the app folder and waits for
// its "ready" line. The process group is killed when the test ends.
func startNode(t *testing.T, args ...string) *nodeProcess {
	t.Helper()
	cmd := exec.Command("node", append([]string{"serve.mjs"}, args...)...)
	cmd.Dir = appDir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "BROWSER=none")
	setProcessGroup(cmd)
	p := &nodeProcess{out: &syncBuffer{}, done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", strings.Join(args, " "), err)
	}
	ready := make(chan struct{})
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
			t.Errorf("node %s: still running 10s after kill", strings.Join(args, " "))
		}
	})
	select {
	case <-ready:
	case <-p.done:
		// A build prints "ready" and exits: both may have happened.
		select {
		case <-ready:
		default:
			t.Fatalf("node %s exited before it was ready:\n%s", strings.Join(args, " "), p.out)
		}
	case <-time.After(startTimeout):
		t.Fatalf("node %s: not ready after %s:\n%s", strings.Join(args, " "), startTimeout, p.out)
	}
	return p
}

// startDevServer copies the app in app/<kind> to a temporary folder, which
// the test may edit, and serves it with the dev server of that kind on a
// free port. It returns the folder and the port.
func startDevServer(t *testing.T, kind string) (root string, port int, p *nodeProcess) {
	t.Helper()
	root = filepath.Join(t.TempDir(), kind)
	if err := os.CopyFS(root, os.DirFS(filepath.Join(appDir, kind))); err != nil {
		t.Fatal(err)
	}
	port = freePort(t)
	p = startNode(t, kind, root, strconv.Itoa(port))
	return root, port, p
}

// withTimeout returns a context that ends after d or when the test ends.
func withTimeout(t *testing.T, parent context.Context, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(parent, d)
	t.Cleanup(cancel)
	return ctx
}
