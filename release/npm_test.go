//go:build unix

package release

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/syncbuf"
)

// testVersion is the version the tests build and stamp.
const testVersion = "0.9.0-test.1"

// needNPM skips the test when npm or node is missing, or with -short.
func needNPM(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"npm", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH: skipping the npm package tests (install Node.js and npm to run them)", tool)
		}
	}
	if testing.Short() {
		t.Skip("builds the release packages; skipped with -short")
	}
}

// hostPlatform is the npm name of this platform, as the launcher spells it.
func hostPlatform(t *testing.T) string {
	t.Helper()
	os := map[string]string{"linux": "linux", "darwin": "darwin", "windows": "win32"}[runtime.GOOS]
	cpu := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	if os == "" || cpu == "" {
		t.Skipf("no devproxy npm package for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	return os + "-" + cpu
}

// build runs build.sh for the host platform into a new folder and returns
// it.
func build(t *testing.T, platform string) string {
	t.Helper()
	dist := filepath.Join(t.TempDir(), "dist")
	cmd := exec.Command("./build.sh", testVersion, platform)
	cmd.Env = append(os.Environ(), "DIST="+dist)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh %s %s: %v\n%s", testVersion, platform, err, out)
	}
	return dist
}

// registry stands in for the package registry and fails the test if npm
// asks it anything: the install must come from the tarballs alone.
func registry(t *testing.T) string {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path)
		mu.Unlock()
		http.NotFound(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if len(asked) > 0 {
			t.Errorf("npm asked the registry for %q, want nothing fetched", asked)
		}
	})
	return srv.URL
}

// npmEnv is the environment npm runs in: a fresh cache and config, the
// stand-in registry, offline.
func npmEnv(t *testing.T, registry string) []string {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "npmrc")
	if err := os.WriteFile(rc, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(strings.ToLower(kv), "npm_config_") && !strings.HasPrefix(kv, "DEVPROXY_BINARY=") {
			env = append(env, kv)
		}
	}
	return append(env,
		"npm_config_cache="+filepath.Join(dir, "cache"),
		"npm_config_userconfig="+rc,
		"npm_config_registry="+registry,
		"npm_config_offline=true",
		"npm_config_audit=false",
		"npm_config_fund=false",
		"npm_config_update_notifier=false",
	)
}

// project makes a fresh npm project and installs the tarballs into it.
func project(t *testing.T, env []string, tarballs ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "app", "private": true}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", append([]string{"install"}, tarballs...)...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s: %v\n%s", strings.Join(tarballs, " "), err, out)
	}
	return dir
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// run runs name with args in dir and returns its exit code and output.
func run(t *testing.T, dir string, env []string, name string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String(), errb.String()
	case err != nil:
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return 0, out.String(), errb.String()
}

func TestNPMPackages(t *testing.T) {
	needNPM(t)
	platform := hostPlatform(t)
	dist := build(t, platform)
	main := filepath.Join(dist, "npm", "devproxy-"+testVersion+".tgz")
	native := filepath.Join(dist, "npm", "devproxy-"+platform+"-"+testVersion+".tgz")
	env := npmEnv(t, registry(t))
	dir := project(t, env, main, native)
	writeFile(t, dir, "devproxy.yaml", "listen: 127.0.0.1:0\nroutes:\n  /api/hello:\n    respond: {body: hi}\n")

	t.Run("version", func(t *testing.T) {
		code, stdout, stderr := run(t, dir, env, "npx", "devproxy", "-version")
		if code != 0 || stdout != "devproxy "+testVersion+"\n" {
			t.Errorf("npx devproxy -version: exit %d, stdout %q, stderr %q; want exit 0, %q", code, stdout, stderr, "devproxy "+testVersion+"\n")
		}
	})

	t.Run("check", func(t *testing.T) {
		code, stdout, stderr := run(t, dir, env, "npx", "devproxy", "check")
		if code != 0 || !strings.Contains(stdout, "devproxy.yaml is valid") || !strings.Contains(stdout, "/api/hello") {
			t.Errorf("npx devproxy check: exit %d, stdout %q, stderr %q; want exit 0, valid, the route", code, stdout, stderr)
		}
		writeFile(t, dir, "bad.yaml", "routes:\n  /api: localhost:5000\n")
		code, _, stderr = run(t, dir, env, "npx", "devproxy", "check", "-config", "bad.yaml")
		if code != 1 || !strings.Contains(stderr, `bad.yaml:2:9: routes./api`) {
			t.Errorf("npx devproxy check -config bad.yaml: exit %d, stderr %q; want exit 1 and the problem with its line", code, stderr)
		}
	})

	t.Run("usage error exit code", func(t *testing.T) {
		code, _, stderr := run(t, dir, env, "npx", "devproxy", "-nope")
		if code != 2 || !strings.Contains(stderr, "devproxy: error: unknown flag -nope") {
			t.Errorf("npx devproxy -nope: exit %d, stderr %q; want exit 2", code, stderr)
		}
	})

	// SIGINT to the launcher, alone or as Ctrl-C in a terminal sends it (to
	// the whole process group, npx's included), shuts devproxy down as
	// Ctrl-C does, and no process is left.
	launcher := filepath.Join(dir, "node_modules", ".bin", "devproxy")
	for _, tt := range []struct {
		name  string
		argv  []string
		group bool
		ends  []string // how it may end, as os.ProcessState says
	}{
		{"SIGINT to the launcher", []string{launcher}, false, []string{"exit status 0"}},
		{"Ctrl-C to the launcher's process group", []string{launcher}, true, []string{"exit status 0"}},
		// The shell npm exec runs the command with got the SIGINT too:
		// once the launcher exited, it ends itself by SIGINT, and npm
		// follows it.
		{"Ctrl-C to npx's process group", []string{"npx", "devproxy"}, true, []string{"exit status 0", "signal: interrupt"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, dir, env, tt.argv...)
			if !strings.Contains(p.banner, "devproxy "+testVersion) {
				t.Errorf("banner %q, want devproxy %s", p.banner, testVersion)
			}
			if res, body := get(t, p.url+"/api/hello"); res.StatusCode != 200 || body != "hi" {
				t.Errorf("GET /api/hello through %s: %d %q, want 200 \"hi\"", tt.argv[0], res.StatusCode, body)
			}
			res, body := get(t, p.url+"/__devproxy/status")
			var st struct{ Version string }
			if err := json.Unmarshal([]byte(body), &st); err != nil || res.StatusCode != 200 || st.Version != testVersion {
				t.Errorf("GET /__devproxy/status: %d, version %q (%v); want 200, %q", res.StatusCode, st.Version, err, testVersion)
			}
			tree := p.tree
			if !hasDevproxy(tree) {
				t.Fatalf("no devproxy binary among the processes under %s: %v", tt.argv[0], tree)
			}
			pid := p.cmd.Process.Pid
			if tt.group {
				pid = -pid
			}
			if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			p.wait(t)
			if end := p.cmd.ProcessState.String(); !slices.Contains(tt.ends, end) {
				t.Errorf("%s after SIGINT: %s, want %s\nstderr: %s", tt.argv[0], end, strings.Join(tt.ends, " or "), p.stderr)
			}
			if out := p.output(); !strings.Contains(out, "shutting down: in-flight requests have") {
				t.Errorf("output after SIGINT:\n%s\nwant devproxy's shutdown line", out)
			}
			for pid, name := range tree {
				if alive(pid) {
					t.Errorf("process %d (%s) is still running after SIGINT", pid, name)
				}
			}
		})
	}

	t.Run("SIGTERM ends devproxy cleanly", func(t *testing.T) {
		p := start(t, dir, env, launcher)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.wait(t); err != nil || !strings.Contains(p.output(), "shutting down:") {
			t.Errorf("launcher after SIGTERM: %v, output:\n%s\nwant exit 0 and the shutdown line", err, p.output())
		}
	})

	t.Run("devproxy killed by a signal", func(t *testing.T) {
		p := start(t, dir, env, launcher)
		for pid, name := range p.tree {
			if name == "devproxy" {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		err := p.wait(t)
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("launcher after its devproxy was killed: %v, want it ended by SIGKILL", err)
		}
		if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("launcher after its devproxy was killed: %v, want it ended by SIGKILL", err)
		}
	})

	t.Run("DEVPROXY_BINARY", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other-devproxy")
		writeFile(t, filepath.Dir(other), "other-devproxy", "#!/bin/sh\necho \"other devproxy $*\"\nexit 3\n")
		if err := os.Chmod(other, 0o755); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := run(t, dir, append(env, "DEVPROXY_BINARY="+other), "npx", "devproxy", "-version", "two words")
		if code != 3 || stdout != "other devproxy -version two words\n" {
			t.Errorf("DEVPROXY_BINARY=%s npx devproxy -version: exit %d, stdout %q, stderr %q; want exit 3 and its output", other, code, stdout, stderr)
		}
		missing := filepath.Join(t.TempDir(), "nothing")
		code, _, stderr = run(t, dir, append(env, "DEVPROXY_BINARY="+missing), "npx", "devproxy", "-version")
		want := "devproxy: error: cannot run DEVPROXY_BINARY=" + missing + ": no such file\n" +
			"devproxy: hint: point DEVPROXY_BINARY at a devproxy binary, or unset it to run the one npm installed\n"
		if code != 1 || stderr != want {
			t.Errorf("DEVPROXY_BINARY=%s npx devproxy: exit %d, stderr:\n%s\nwant exit 1 and:\n%s", missing, code, stderr, want)
		}
	})

	t.Run("missing platform package", func(t *testing.T) {
		bare := project(t, env, main)
		code, stdout, stderr := run(t, bare, env, "npx", "devproxy", "-version")
		want := "devproxy: error: the devproxy binary for this platform (" + platform + ") is missing: the package @devproxy/" + platform + " is not installed\n" +
			"devproxy: hint: npm installs it as an optional dependency of devproxy; it is left out when optional dependencies are\n" +
			"devproxy: hint: omitted (--omit=optional, --no-optional) or when the lock file was made on another platform\n" +
			"devproxy: hint: install it with: npm install --save-optional @devproxy/" + platform + "@" + testVersion + "\n" +
			"devproxy: hint: or set DEVPROXY_BINARY to the path of a devproxy binary\n"
		if code != 1 || stdout != "" || stderr != want {
			t.Errorf("npx devproxy without @devproxy/%s: exit %d, stdout %q, stderr:\n%s\nwant exit 1 and:\n%s", platform, code, stdout, stderr, want)
		}
		bin := filepath.Join(dir, "node_modules", "@devproxy", platform, "bin", "devproxy")
		code, stdout, stderr = run(t, bare, append(env, "DEVPROXY_BINARY="+bin), "npx", "devproxy", "-version")
		if code != 0 || stdout != "devproxy "+testVersion+"\n" {
			t.Errorf("DEVPROXY_BINARY=%s npx devproxy -version without the platform package: exit %d, stdout %q, stderr %q", bin, code, stdout, stderr)
		}
	})
}

// TestReproducible builds the host platform's release twice and checks that
// every file is the same.
func TestReproducible(t *testing.T) {
	needNPM(t)
	platform := hostPlatform(t)
	a, b := build(t, platform), build(t, platform)
	files := 0
	err := filepath.WalkDir(a, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, path)
		x, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds of %s", rel, testVersion)
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The host's npm tarball and the main one, its archive, SHA256SUMS.
	if files != 4 {
		t.Errorf("build wrote %d files, want 4", files)
	}
}

// proc is a running launcher (or npx) with its output.
type proc struct {
	cmd    *exec.Cmd
	url    string
	banner string
	// stderr is written by the copy of the pipe, which lasts as long as
	// any process holds it open, and read by failure messages meanwhile.
	stderr *syncbuf.Buffer
	done   chan error
	// tree is the processes under the launcher once it served: the
	// devproxy binary among them, which would outlive a launcher that
	// exits without it (and keep the output open, so the launcher is
	// never waited for).
	tree map[int]string
	// waited says that wait has had the launcher's end from done.
	waited bool

	mu  sync.Mutex
	out strings.Builder
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// start runs argv in dir and waits until devproxy prints its URL.
func start(t *testing.T, dir string, env []string, argv ...string) *proc {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	// A process group of its own, as a terminal gives a command, so that a
	// test can signal the group as Ctrl-C does.
	cmd.Dir, cmd.Env, cmd.SysProcAttr = dir, env, &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: new(syncbuf.Buffer), done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if _, u, ok := strings.Cut(sc.Text(), "➜ open "); ok {
				urls <- strings.Replace(u, "localhost", "127.0.0.1", 1)
			}
		}
	}()
	go func() {
		<-copied
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		// Whatever is left of what this test started, by PID: what is
		// under the launcher now, and what was under it once it served
		// and is still the same process (a binary the launcher left).
		for pid := range descendants(t, cmd.Process.Pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		for pid, name := range p.tree {
			if alive(pid) && commName(pid) == name {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if !p.waited {
			cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.url = <-urls:
		p.banner = p.output()
		p.tree = descendants(t, cmd.Process.Pid)
	case err := <-p.done:
		t.Fatalf("%s exited before serving: %v\n%s%s", argv[0], err, p.output(), p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s printed no URL\n%s", argv[0], p.stderr)
	}
	return p
}

func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.waited = true
		return err
	case <-time.After(30 * time.Second):
		var left []string
		for pid, name := range p.tree {
			if alive(pid) {
				left = append(left, fmt.Sprintf("%s (pid %d)", name, pid))
			}
		}
		t.Fatalf("the launcher was not done within 30 s (%s); still running of what it started: %v\noutput:\n%s\nstderr:\n%s",
			ended(p.cmd.Process.Pid), left, p.output(), p.stderr)
		return nil
	}
}

// ended says how process pid ended, without reaping it: a zombie's
// exit status is the 52nd field of its /proc stat, in wait(2)'s form.
func ended(pid int) string {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "gone"
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) == 0 || fields[0] != "Z" {
		return "still running"
	}
	if len(fields) < 50 {
		return "exited"
	}
	code, err := strconv.Atoi(fields[49])
	if err != nil {
		return "exited"
	}
	ws := syscall.WaitStatus(code)
	if ws.Signaled() {
		return "exited, killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("exited with status %d", ws.ExitStatus())
}

// commName is the command name of process pid, "" when there is none.
func commName(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// descendants maps the PID of every process under pid to its command
// name, from /proc; it skips the test where there is no /proc.
func descendants(t *testing.T, pid int) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to find the launcher's processes: %v", err)
	}
	parent := map[int]int{}
	name := map[int]string{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(fields[1])
		parent[p], name[p] = pp, s[open+1:end]
	}
	under := map[int]string{}
	var walk func(int)
	walk = func(p int) {
		for c, pp := range parent {
			if pp == p {
				if _, seen := under[c]; !seen {
					under[c] = name[c]
					walk(c)
				}
			}
		}
	}
	walk(pid)
	return under
}

func hasDevproxy(tree map[int]string) bool {
	for _, name := range tree {
		if name == "devproxy" {
			return true
		}
	}
	return false
}

// alive says whether pid is a running process (not a zombie).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}
