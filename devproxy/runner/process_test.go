//go:build unix

package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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

// buildHelper builds testdata/helper, the program these tests run.
func buildHelper(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "helper")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/helper").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./testdata/helper: %v\n%s", err, out)
	}
	return bin
}

// recorder keeps what a command reported and wakes waiters on each report.
type recorder struct {
	mu      sync.Mutex
	lines   []Line
	exits   []Exit
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) wake() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) output(l Line) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, l)
	r.wake()
}

func (r *recorder) exited(e Exit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exits = append(r.exits, e)
	r.wake()
}

// waitLine waits for a line that contains s and returns it.
func (r *recorder) waitLine(t *testing.T, s string) Line {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		for _, l := range r.lines {
			if strings.Contains(StripANSI(l.Text), s) {
				r.mu.Unlock()
				return l
			}
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no line with %q in 30s; lines: %q", s, texts(r.lines))
		}
	}
}

// pids returns the PIDs the helper printed as "pid NAME N", by name.
func (r *recorder) pids(t *testing.T, names ...string) map[string]int {
	t.Helper()
	pids := map[string]int{}
	for _, name := range names {
		l := r.waitLine(t, "pid "+name+" ")
		pid, err := strconv.Atoi(strings.TrimPrefix(l.Text, "pid "+name+" "))
		if err != nil {
			t.Fatalf("line %q: %v", l.Text, err)
		}
		pids[name] = pid
	}
	return pids
}

func texts(lines []Line) []string {
	var s []string
	for _, l := range lines {
		s = append(s, l.Text)
	}
	return s
}

// alive reports whether pid is a process that has not exited; a zombie
// waiting for its parent counts as gone.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	i := strings.LastIndexByte(string(stat), ')')
	state := strings.Fields(string(stat[i+1:]))[0]
	return state != "Z" && state != "X"
}

// groupPIDs lists the processes of process group pgid, from /proc.
func groupPIDs(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to list a process group: %v", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// start starts a command with a recorder and stops it when the test ends.
func start(t *testing.T, opts Options) (*Command, *recorder) {
	t.Helper()
	rec := newRecorder()
	opts.Output, opts.Exited = rec.output, rec.exited
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(ctxTimeout(t, 30*time.Second)); err != nil {
			t.Errorf("Stop at cleanup: %v", err)
		}
	})
	return c, rec
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestPortInjectedAndRead(t *testing.T) {
	helper := buildHelper(t)
	dir := t.TempDir()
	// A program named vite gets the flag; one with another name only PORT.
	vite := filepath.Join(dir, "vite")
	if err := os.Symlink(helper, vite); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		command  string
		source   URLSource
		wantArgs string
	}{
		{"PORT", helper + " serve", URLPortEnv, `args=""`},
		{"flag", vite + " serve", URLPortFlag, `args="--port $PORT --strictPort"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := start(t, Options{Command: tt.command, Dir: dir})
			p := c.Plan()
			if p.Source != tt.source {
				t.Errorf("Plan.Source = %v, want %v", p.Source, tt.source)
			}
			rec.waitLine(t, strings.ReplaceAll(tt.wantArgs, "$PORT", strconv.Itoa(p.Port)))
			rec.waitLine(t, fmt.Sprintf("BROWSER=none PORT=%d", p.Port))
			if err := c.WaitReady(ctxTimeout(t, 30*time.Second)); err != nil {
				t.Fatalf("WaitReady: %v", err)
			}
			// The helper answers 503: any answer means the server is up.
			if code, _ := get(t, p.URL); code != http.StatusServiceUnavailable {
				t.Errorf("GET %s: status = %d, want 503", p.URL, code)
			}
			st := c.Status()
			want := fmt.Sprintf("http://localhost:%d/", p.Port)
			if st.State != Ready || st.URL != p.URL || st.Source != tt.source || st.Announced != want || st.PID == 0 {
				t.Errorf("Status = %+v, want ready at %s by %v, announced %s", st, p.URL, tt.source, want)
			}
		})
	}
}

func TestPortFlagThroughNpmScript(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not installed")
	}
	helper := buildHelper(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", ".bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(helper, filepath.Join(dir, "node_modules", ".bin", "vite")); err != nil {
		t.Fatal(err)
	}
	pkg := `{"name": "app", "private": true, "scripts": {"dev": "vite serve"}}`
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(pkg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, rec := start(t, Options{Command: "npm run dev", Dir: dir})
	p := c.Plan()
	if p.Source != URLPortFlag || p.Server != "vite" {
		t.Errorf("Plan = %+v, want the vite flag", p)
	}
	rec.waitLine(t, fmt.Sprintf(`args="--port %d --strictPort"`, p.Port))
	if err := c.WaitReady(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
}

func TestURLAnnounced(t *testing.T) {
	helper := buildHelper(t)
	c, rec := start(t, Options{Args: []string{helper, "serve-elsewhere"}})
	l := rec.waitLine(t, "Local:")
	if err := c.WaitReady(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	st := c.Status()
	want, _ := DiscoverURL(l.Text)
	if st.Source != URLAnnounced || st.URL != want || st.URL == c.Plan().URL {
		t.Errorf("Status = %+v, want the announced %s by %v (planned %s)", st, want, URLAnnounced, c.Plan().URL)
	}
	if code, _ := get(t, st.URL); code != http.StatusServiceUnavailable {
		t.Errorf("GET %s: status = %d, want 503", st.URL, code)
	}
}

func TestNodeServerReadsPORT(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed: the test runs a real Node server")
	}
	script := `require("http").createServer((q, s) => s.end("hello from node")).listen(process.env.PORT, () => console.log("Server listening on http://localhost:" + process.env.PORT))`
	c, rec := start(t, Options{Name: "api", Command: "node -e '" + script + "'"})
	if c.Plan().Shell {
		t.Fatalf("Plan.Shell = true, want the quoted script split without a shell")
	}
	l := rec.waitLine(t, "Server listening on")
	if l.Name != "api" || l.Stream != Stdout {
		t.Errorf("line = %+v, want name api on stdout", l)
	}
	if err := c.WaitReady(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if st := c.Status(); st.URL != c.Plan().URL || st.Source != URLPortEnv {
		t.Errorf("Status = %+v, want %s by PORT", st, c.Plan().URL)
	}
	if code, body := get(t, c.Plan().URL); code != 200 || body != "hello from node" {
		t.Errorf("GET %s = %d %q, want 200 %q", c.Plan().URL, code, body, "hello from node")
	}
}

func TestExitReportedOnce(t *testing.T) {
	helper := buildHelper(t)
	c, rec := start(t, Options{Name: "api", Args: []string{helper, "exit", "7"}})
	err := c.WaitReady(ctxTimeout(t, 30*time.Second))
	if err == nil || err.Error() != "api exited with code 7 before it answered" {
		t.Errorf("WaitReady = %v, want %q", err, "api exited with code 7 before it answered")
	}
	exit, ok := c.Wait(ctxTimeout(t, 30*time.Second))
	if !ok || exit.Code != 7 || exit.Stopped || exit.Signal != "" {
		t.Errorf("Wait = %+v, %v; want code 7", exit, ok)
	}
	got := texts(exit.Lines)
	if len(got) != 2 || !strings.Contains(strings.Join(got, "|"), "first words") || !strings.Contains(strings.Join(got, "|"), "last words") {
		t.Errorf("Exit.Lines = %q, want the command's two lines", got)
	}
	if st := c.Status(); st.State != Exited || st.Exit == nil || st.Exit.Code != 7 {
		t.Errorf("Status = %+v, want exited with code 7", st)
	}

	// Restarted, it runs and reports again: once per run.
	if err := c.Restart(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	exit, ok = c.Wait(ctxTimeout(t, 30*time.Second))
	if !ok {
		t.Fatal("second run did not exit")
	}
	if len(exit.Lines) != 2 {
		t.Errorf("second Exit.Lines = %q, want that run's two lines only", texts(exit.Lines))
	}
	if err := c.Stop(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatalf("Stop after exit: %v", err)
	}
	// Exited runs on the supervisor's goroutine and may come a moment
	// after Wait returned: wait for it, then check that no third came.
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.exits)
		rec.mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.exits) != 2 {
		t.Errorf("Exited called %d times, want 2 (once per run): %+v", len(rec.exits), rec.exits)
	}
	if n := len(c.Lines()); n != 4 {
		t.Errorf("Lines() has %d lines, want 4 across both runs", n)
	}
}

func TestStartFailure(t *testing.T) {
	c, err := New(Options{Command: filepath.Join(t.TempDir(), "missing") + " --x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err == nil || !strings.Contains(err.Error(), "start missing:") {
		t.Errorf("Start = %v, want a start error naming the command", err)
	}
	if err := c.WaitReady(ctxTimeout(t, time.Second)); err == nil {
		t.Error("WaitReady of a command that never started = nil, want an error")
	}
}

// A command that writes 10 MB on stdout and 1 MB on stderr as fast as it
// can loses nothing: each stream, put back together from its lines (a
// partial one has no line break), is what the command wrote, and its last
// line without a line break arrives at exit.
func TestOutputFlood(t *testing.T) {
	helper := buildHelper(t)
	const total = 10 << 20
	var (
		mu      sync.Mutex
		got     = map[Stream]*bytes.Buffer{Stdout: {}, Stderr: {}}
		last    = map[Stream]Line{}
		partial int
	)
	c, err := New(Options{
		Args: []string{helper, "flood", strconv.Itoa(total)},
		Output: func(l Line) {
			mu.Lock()
			defer mu.Unlock()
			got[l.Stream].WriteString(l.Text)
			if !l.Partial {
				got[l.Stream].WriteByte('\n')
			} else {
				partial++
			}
			last[l.Stream] = l
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exit, ok := c.Wait(ctxTimeout(t, 60*time.Second))
	if !ok || exit.Code != 3 {
		t.Fatalf("Wait = %+v, %v; want code 3", exit, ok)
	}
	t.Logf("%d MB of output delivered in %v, %d partial lines", total>>20, time.Since(began).Round(time.Millisecond), partial)
	mu.Lock()
	defer mu.Unlock()
	for _, tt := range []struct {
		stream       Stream
		prefix, fill string
		lines        int
	}{
		{Stdout, "out", "o", total / 100},
		{Stderr, "err", "e", total / 10 / 100},
	} {
		var want bytes.Buffer
		for i := range tt.lines {
			fmt.Fprintf(&want, "%s %08d %s\n", tt.prefix, i, strings.Repeat(tt.fill, 100-14))
		}
		want.WriteString(tt.prefix + " tail")
		if g := got[tt.stream]; !bytes.Equal(g.Bytes(), want.Bytes()) {
			t.Errorf("%v: got %d bytes, want %d; they differ from byte %d", tt.stream, g.Len(), want.Len(), firstDiff(g.Bytes(), want.Bytes()))
		}
		if l := last[tt.stream]; l.Text != tt.prefix+" tail" || !l.Partial {
			t.Errorf("%v: last line = %+v, want the partial %q", tt.stream, l, tt.prefix+" tail")
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestPartialLineFlushedWhileRunning(t *testing.T) {
	helper := buildHelper(t)
	c, rec := start(t, Options{Args: []string{helper, "partial"}, FlushDelay: 50 * time.Millisecond})
	if l := rec.waitLine(t, "prompt>"); !l.Partial || l.Text != "prompt> " {
		t.Errorf("line = %+v, want the partial %q", l, "prompt> ")
	}
	if err := c.Stop(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	exit, _ := c.Wait(ctxTimeout(t, time.Second))
	if !exit.Stopped || exit.Code != 130 {
		t.Errorf("exit = %+v, want stopped with code 130 (its SIGINT exit)", exit)
	}
}

// A command that ignores SIGINT and SIGTERM gets each, StopGrace apart,
// then SIGKILL.
func TestStopEscalates(t *testing.T) {
	if testing.Short() {
		t.Skip("takes the default 6s of grace")
	}
	helper := buildHelper(t)
	c, rec := start(t, Options{Args: []string{helper, "stubborn"}})
	rec.pids(t, "stubborn")
	began := time.Now()
	if err := c.Stop(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	exit, _ := c.Wait(ctxTimeout(t, time.Second))
	if !exit.Stopped || exit.Signal != "killed" || exit.String() != "stopped" {
		t.Errorf("exit = %+v (%s), want stopped by SIGKILL", exit, exit)
	}
	rec.waitLine(t, "stubborn ignores interrupt")
	rec.waitLine(t, "stubborn ignores terminated")
	if took < 6*time.Second || took > 8*time.Second {
		t.Errorf("Stop took %v, want 6s: SIGTERM 3s after SIGINT, SIGKILL 3s later", took)
	}
	t.Logf("stop of a process ignoring SIGINT and SIGTERM took %v", took.Round(time.Millisecond))
}

// npm → node → esbuild: after Stop no process of the tree is left, though
// the middle one ignores SIGINT and the last SIGINT and SIGTERM.
func TestStopLeavesNoGrandchild(t *testing.T) {
	helper := buildHelper(t)
	c, rec := start(t, Options{Args: []string{helper, "tree"}, StopGrace: 200 * time.Millisecond})
	pids := rec.pids(t, "leader", "mid", "leaf")
	if err := c.Stop(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) is alive after Stop", name, pid)
		}
	}
	rec.waitLine(t, "mid ignores interrupt")
	rec.waitLine(t, "leaf ignores terminated")
}

// When the first process exits by itself, what it started is stopped too
// before the exit is reported: it must not keep the port.
func TestLeaderExitStopsTheRest(t *testing.T) {
	helper := buildHelper(t)
	c, rec := start(t, Options{Args: []string{helper, "tree"}, StopGrace: 200 * time.Millisecond})
	pids := rec.pids(t, "leader", "mid", "leaf")
	if err := syscall.Kill(pids["leader"], syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exit, ok := c.Wait(ctxTimeout(t, 30*time.Second))
	if !ok || exit.Stopped || exit.Code != 130 {
		t.Errorf("exit = %+v, want the leader's own exit code 130", exit)
	}
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) is alive after the exit was reported", name, pid)
		}
	}
}

// A supervisor killed with SIGKILL cannot stop its commands; none of the
// tree may survive it.
func TestSupervisorKilledLeavesNoChild(t *testing.T) {
	helper := buildHelper(t)
	sup := exec.Command(helper, "supervise")
	out, err := sup.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sup.Stderr = os.Stderr
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sup.Process.Kill()
		_ = sup.Wait()
	})
	pids := map[string]int{}
	lines := bufio.NewScanner(out)
	for len(pids) < 4 && lines.Scan() {
		var name string
		var pid int
		if n, _ := fmt.Sscanf(lines.Text(), "pid %s %d", &name, &pid); n == 2 {
			pids[name] = pid
		}
	}
	if len(pids) < 4 {
		t.Fatalf("supervisor printed pids %v, want supervisor, leader, mid and leaf", pids)
	}
	if err := sup.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = sup.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for name, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("%s (pid %d) is alive 10s after its supervisor was killed", name, pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// The real thing: `npm run dev` of a Vite app gets --port through the
// script, announces the injected URL, serves the page, and leaves no
// process (npm, sh, node, Vite's workers) after Stop.
func TestViteThroughNpmRunDev(t *testing.T) {
	modules, err := filepath.Abs(filepath.Join("..", "..", "e2e", "app", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "vite", "package.json")); err != nil {
		t.Skipf("e2e/app/node_modules/vite missing: run (cd e2e/app && npm ci)")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not installed")
	}
	dir := t.TempDir()
	files := map[string]string{
		"package.json": `{"name": "app", "private": true, "type": "module", "scripts": {"dev": "vite"}}`,
		// The cache stays in the test's folder, not in the shared modules.
		"vite.config.js": `export default { cacheDir: ".vite", clearScreen: false }`,
		"index.html":     `<!doctype html><title>runner vite</title><p>hello from vite</p>`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A node_modules of links to the app's packages: Vite writes its
	// temporary files into the project's own node_modules, which must
	// not be the shared one.
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
	c, rec := start(t, Options{Command: "npm run dev", Dir: dir})
	p := c.Plan()
	if p.Source != URLPortFlag || p.Server != "vite" {
		t.Errorf("Plan = %+v, want the vite flag", p)
	}
	began := time.Now()
	if err := c.WaitReady(ctxTimeout(t, 60*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v; lines: %q", err, texts(c.Lines()))
	}
	t.Logf("npm run dev answered after %v", time.Since(began).Round(time.Millisecond))
	rec.waitLine(t, fmt.Sprintf("Local:   http://localhost:%d/", p.Port))
	st := c.Status()
	if st.URL != p.URL || st.Source != URLPortFlag || st.Announced != fmt.Sprintf("http://localhost:%d/", p.Port) {
		t.Errorf("Status = %+v, want %s by flag, announced the same", st, p.URL)
	}
	if code, body := get(t, p.URL+"/"); code != 200 || !strings.Contains(body, "hello from vite") {
		t.Errorf("GET %s/ = %d %q, want 200 and the page", p.URL, code, body)
	}
	group := groupPIDs(t, st.PID)
	t.Logf("process group %d: %v", st.PID, group)
	if len(group) < 2 {
		t.Errorf("process group %d = %v, want npm and the node running vite", st.PID, group)
	}
	began = time.Now()
	if err := c.Stop(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop took %v", time.Since(began).Round(time.Millisecond))
	for _, pid := range group {
		if alive(pid) {
			t.Errorf("pid %d of the group is alive after Stop", pid)
		}
	}
}

// Exited may start the command again (a supervisor restarting a crashed
// command) without waiting on itself.
func TestExitedMayRestart(t *testing.T) {
	helper := buildHelper(t)
	exits := make(chan Exit, 3)
	runs := 1 // Exited calls are one at a time: one run at a time here
	var c *Command
	c, err := New(Options{Args: []string{helper, "exit", "1"}, Exited: func(e Exit) {
		exits <- e
		if runs < 3 {
			runs++
			if err := c.Start(); err != nil {
				t.Errorf("Start from Exited: %v", err)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		select {
		case e := <-exits:
			if e.Code != 1 {
				t.Errorf("run %d: exit %+v, want code 1", i, e)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("run %d: no exit in 30s", i)
		}
	}
}

// A line that needs a shell runs under /bin/sh -c, with the same
// environment.
func TestShellCommand(t *testing.T) {
	c, _ := start(t, Options{Command: `echo "browser=$BROWSER port=$PORT" && exit 4`})
	if !c.Plan().Shell {
		t.Fatalf("Plan = %+v, want a shell", c.Plan())
	}
	exit, ok := c.Wait(ctxTimeout(t, 30*time.Second))
	want := fmt.Sprintf("browser=none port=%d", c.Plan().Port)
	if !ok || exit.Code != 4 || len(exit.Lines) != 1 || exit.Lines[0].Text != want || exit.Name != "echo" {
		t.Errorf("exit = %+v, want code 4 after %q from echo", exit, want)
	}
}
