//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// commandProcess is a devproxy binary run with a command after --, its
// log kept.
type commandProcess struct {
	cmd  *exec.Cmd
	done chan error

	mu      sync.Mutex
	log     strings.Builder
	changed chan struct{}
}

// startWithCommand starts bin with args in dir.
func startWithCommand(t *testing.T, bin, dir string, args ...string) *commandProcess {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	p := &commandProcess{cmd: cmd, done: make(chan error, 1), changed: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	// Wait closes the pipe: it runs once the output is read to its end,
	// so that done never comes before the last lines are in the log.
	go func() {
		<-read
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitFor waits until the log has a line containing s and returns the text
// after s on that line.
func (p *commandProcess) waitFor(t *testing.T, s string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		log, changed := p.log.String(), p.changed
		p.mu.Unlock()
		for line := range strings.SplitSeq(log, "\n") {
			if _, after, ok := strings.Cut(line, s); ok {
				return after
			}
		}
		select {
		case <-changed:
		case err := <-p.done:
			t.Fatalf("devproxy exited (%v) before printing %q; log:\n%s", err, s, log)
		case <-deadline:
			t.Fatalf("devproxy never printed %q; log:\n%s", s, log)
		}
	}
}

func (p *commandProcess) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// descendants returns the PIDs of every process below pid.
func descendants(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		_, after, _ := strings.Cut(string(b), ") ")
		fields := strings.Fields(after)
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		children[ppid] = append(children[ppid], n)
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(after, "Z")
}

// waitProcessesGone waits until none of pids is left, and says how long
// that took.
func waitProcessesGone(t *testing.T, pids []int, timeout time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	for _, pid := range pids {
		for processAlive(pid) {
			if time.Since(began) > timeout {
				t.Fatalf("process %d survived devproxy", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return time.Since(began)
}

// waitPage polls url until it answers 200 with a body containing want.
func waitPage(t *testing.T, url, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		res, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 && strings.Contains(string(b), want) {
				return string(b)
			}
			if res.StatusCode != http.StatusServiceUnavailable && res.StatusCode != 200 {
				t.Fatalf("GET %s during start-up: status %d, want 503 until it answers; body %s", url, res.StatusCode, b)
			}
		} else {
			t.Fatalf("GET %s during start-up: %v, want no connection error", url, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s never answered 200 with %q", url, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func buildCmdServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cmdserver")
	if out, err := exec.Command("go", "build", "-o", bin, "./devproxy/testdata/cmdserver").CombinedOutput(); err != nil {
		t.Fatalf("go build cmdserver: %v\n%s", err, out)
	}
	return bin
}

// TestBinaryCommandLeavesNoProcess runs devproxy -- cmdserver without a
// config, and ends devproxy with Ctrl-C's SIGINT and with SIGKILL: no
// process of the command's tree may outlive it.
func TestBinaryCommandLeavesNoProcess(t *testing.T) {
	bin := buildBinary(t)
	server := buildCmdServer(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			began := time.Now()
			p := startWithCommand(t, bin, dir, "-listen", "127.0.0.1:0", "--", server)
			open := strings.TrimSpace(p.waitFor(t, "➜ open ", 30*time.Second))
			base := strings.Replace(open, "localhost", "127.0.0.1", 1)
			if body := waitPage(t, base+"/", "cmdserver", 30*time.Second); body != "cmdserver NAME= path=/\n" {
				t.Errorf("GET /: body %q, want cmdserver's", body)
			}
			t.Logf("from the command to the first page: %v", time.Since(began).Round(time.Millisecond))
			p.waitFor(t, "pid child ", 10*time.Second)
			tree := descendants(t, p.cmd.Process.Pid)
			if len(tree) < 3 {
				t.Fatalf("processes below devproxy = %v, want cmdserver, its child and the watcher", tree)
			}
			began = time.Now()
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := <-p.done
			if sig == syscall.SIGINT && err != nil {
				t.Errorf("devproxy after SIGINT: %v, want exit 0; log:\n%s", err, p)
			}
			exited := time.Since(began)
			gone := waitProcessesGone(t, tree, 15*time.Second)
			t.Logf("%v: devproxy exited after %v, its commands' processes were gone after %v", sig, exited.Round(time.Millisecond), (exited + gone).Round(time.Millisecond))
			if sig == syscall.SIGINT && gone > 100*time.Millisecond {
				t.Errorf("after SIGINT a process of the tree outlived devproxy by %v, want none", gone)
			}
		})
	}
}

// TestBinaryViteCommand runs devproxy -- npx vite in a copy of the e2e app:
// the port is injected, the URL discovered, the page served through
// devproxy.
func TestBinaryViteCommand(t *testing.T) {
	bin := buildBinary(t)
	modules, err := filepath.Abs(filepath.Join("e2e", "app", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "vite", "package.json")); err != nil {
		t.Skip("e2e/app/node_modules/vite missing: run (cd e2e/app && npm ci)")
	}
	if _, err := exec.LookPath("npx"); err != nil {
		t.Skip("npx not installed")
	}
	dir := t.TempDir()
	files := map[string]string{
		"package.json":   `{"name": "app", "private": true, "type": "module", "scripts": {"dev": "vite"}}`,
		"vite.config.js": `export default { cacheDir: ".vite", clearScreen: false }`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	app, err := os.ReadDir(filepath.Join("e2e", "app", "vite"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range app {
		b, err := os.ReadFile(filepath.Join("e2e", "app", "vite", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Links to the shared packages: Vite writes into the project's own
	// node_modules, never into the shared one.
	entries, err := os.ReadDir(modules)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join(modules, e.Name()), filepath.Join(dir, "node_modules", e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	for _, command := range [][]string{{"npx", "vite"}, {"npm", "run", "dev"}} {
		t.Run(strings.Join(command, " "), func(t *testing.T) {
			began := time.Now()
			p := startWithCommand(t, bin, dir, append([]string{"-listen", "127.0.0.1:0", "--"}, command...)...)
			open := strings.TrimSpace(p.waitFor(t, "➜ open ", 30*time.Second))
			base := strings.Replace(open, "localhost", "127.0.0.1", 1)
			page := waitPage(t, base+"/", "<script type=\"module\"", 90*time.Second)
			t.Logf("%s: from the command to the first page: %v", command, time.Since(began).Round(time.Millisecond))
			if !strings.Contains(page, "/@vite/client") {
				t.Errorf("GET /: the page has no Vite client: %s", page)
			}
			ready := p.waitFor(t, "vite │ ready at ", 30*time.Second)
			if !strings.Contains(ready, "(port passed as PORT and as a flag)") {
				t.Errorf("ready line %q, want the port passed as a flag", ready)
			}
			local := p.waitFor(t, "Local:", 10*time.Second)
			if !strings.Contains(ready, strings.TrimSuffix(strings.TrimSpace(local), "/")) {
				t.Errorf("vite announced %q, devproxy says ready at %q", local, ready)
			}
			tree := descendants(t, p.cmd.Process.Pid)
			began = time.Now()
			if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			if err := <-p.done; err != nil {
				t.Errorf("devproxy after SIGINT: %v, want exit 0", err)
			}
			t.Logf("%s: shutdown took %v", command, time.Since(began).Round(time.Millisecond))
			waitProcessesGone(t, tree, time.Second)
		})
	}
}
