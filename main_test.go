package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), env{}, args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, config string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestUsageAndVersion(t *testing.T) {
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"-h"}, 0, "", "Examples:\n  devproxy "},
		{[]string{"-version"}, 0, "devproxy devel", ""},
		{[]string{"-bogus"}, 2, "", "devproxy: error: unknown flag -bogus\ndevproxy: hint: run devproxy -h for usage\n"},
		{[]string{"-lisen", "127.0.0.1:0"}, 2, "", "devproxy: error: unknown flag -lisen; did you mean -listen?\ndevproxy: hint: run devproxy -h for usage\n"},
		{[]string{"check", "--verbos"}, 2, "", "devproxy: error: unknown flag -verbos; did you mean -verbose?\n"},
		{[]string{"-listen"}, 2, "", "devproxy: error: flag needs an argument: -listen\ndevproxy: hint: run devproxy -h for usage\n"},
		// The -listen flag gets the config's listen check and hints, not
		// net.Listen's "missing port in address" and a busy-port hint.
		{[]string{"-listen", "8081"}, 2, "", "devproxy: error: -listen \"8081\" has no host\ndevproxy: hint: write -listen 127.0.0.1:8081\n"},
		{[]string{"-listen", "http://localhost:3000"}, 2, "", "devproxy: error: -listen \"http://localhost:3000\" has a scheme; want host:port\ndevproxy: hint: write -listen localhost:3000\n"},
		{[]string{"-listen", "localhost"}, 2, "", "devproxy: hint: write -listen localhost:8080\n"},
		{[]string{"serve", "now"}, 2, "", `devproxy: error: unexpected argument "serve"`},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, tt.args...)
		// Only -h prints the whole usage.
		wholeUsage := strings.Contains(stderr, "Examples:") != (len(tt.args) > 0 && tt.args[0] == "-h")
		if code != tt.wantCode || !strings.Contains(stdout, tt.wantStdout) || !strings.Contains(stderr, tt.wantStderr) || wholeUsage {
			t.Errorf("devproxy %s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				strings.Join(tt.args, " "), code, stdout, stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
		}
	}
}

func TestCheck(t *testing.T) {
	good := writeConfig(t, "routes:\n  /api: http://localhost:5000\n  /api/hello:\n    respond: {body: hi}\n")
	code, stdout, stderr := runCLI(t, "check", "-config", good)
	if code != 0 || !strings.Contains(stdout, "is valid") || !regexp.MustCompile(`/api/hello\s+→ mock`).MatchString(stdout) || !regexp.MustCompile(`/api\s+→ http://localhost:5000`).MatchString(stdout) {
		t.Errorf("devproxy check (valid): exit %d, stdout %q, stderr %q; want 0 and the routes", code, stdout, stderr)
	}

	shadow := writeConfig(t, "frontend: http://localhost:5173\nroutes:\n  /@fs: http://localhost:5000\n")
	code, stdout, stderr = runCLI(t, "check", "-config", shadow)
	if want := "devproxy: warning: " + shadow + `:3: routes./@fs: "/@fs" shadows /@fs`; code != 0 || !strings.Contains(stdout, "is valid") || !strings.Contains(stderr, want) {
		t.Errorf("devproxy check (shadowing route): exit %d, stdout %q, stderr %q; want 0, valid, and %q", code, stdout, stderr, want)
	}

	missing := filepath.Join(t.TempDir(), "devproxy.yaml")
	code, _, stderr = runCLI(t, "check", "-config", missing)
	if code != 1 || !strings.Contains(stderr, "devproxy: error: no config file at "+missing) || !strings.Contains(stderr, "routes:\n    /api: http://localhost:5000") {
		t.Errorf("devproxy check (missing file): exit %d, stderr %q; want 1 with an example config", code, stderr)
	}
}

// buildBinary builds devproxy into a temp folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "devproxy")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a running devproxy binary.
type process struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	done   chan error
}

// startBinary starts bin with args and waits for the URL it prints.
func startBinary(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: new(bytes.Buffer), done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "➜ open "); ok {
				urls <- u
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.url = <-urls:
	case err := <-p.done:
		t.Fatalf("devproxy exited before serving: %v\n%s", err, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("devproxy printed no URL\n%s", p.stderr)
	}
	return p
}

func (p *process) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("devproxy did not exit")
		return nil
	}
}

func TestBinaryServesAndShutsDownGracefully(t *testing.T) {
	bin := buildBinary(t)
	arrived := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/slow" {
			once.Do(func() { close(arrived) })
			<-release
		}
		io.WriteString(w, "backend "+r.URL.Path)
	}))
	defer be.Close()
	cfg := writeConfig(t, "listen: 127.0.0.1:0\nroutes:\n  /api: "+be.URL+"\n  /api/hello:\n    respond: {body: hi}\n")
	p := startBinary(t, bin, "-config", cfg)
	if !strings.HasPrefix(p.url, "http://localhost:") {
		t.Fatalf("devproxy printed URL %q, want http://localhost:PORT", p.url)
	}
	base := strings.Replace(p.url, "localhost", "127.0.0.1", 1)
	res, err := http.Get(base + "/api/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "hi" {
		t.Errorf("GET /api/hello: got %d %q, want 200 \"hi\"", res.StatusCode, body)
	}

	// A request in flight when SIGINT arrives completes; then devproxy
	// exits 0.
	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		res, err := http.Get(base + "/api/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		slow <- result{res.StatusCode, string(b), nil}
	}()
	<-arrived
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, strings.TrimPrefix(base, "http://"))
	close(release)
	if r := <-slow; r.err != nil || r.status != 200 || r.body != "backend /api/slow" {
		t.Errorf("in-flight GET /api/slow across SIGINT: got %d %q %v, want 200", r.status, r.body, r.err)
	}
	if err := p.wait(t); err != nil {
		t.Errorf("devproxy after SIGINT: %v, want exit 0\n%s", err, p.stderr)
	}
}

func TestBinarySecondSignalExitsAtOnce(t *testing.T) {
	bin := buildBinary(t)
	arrived := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") == "devproxy-probe" {
			return // the start-up probe, answered at once
		}
		close(arrived)
		<-r.Context().Done()
	}))
	defer be.Close()
	p := startBinary(t, bin, "-config", writeConfig(t, "listen: 127.0.0.1:0\nroutes:\n  /api: "+be.URL+"\n"))
	base := strings.Replace(p.url, "localhost", "127.0.0.1", 1)
	go http.Get(base + "/api/stuck")
	<-arrived
	p.cmd.Process.Signal(syscall.SIGINT)
	waitRefused(t, strings.TrimPrefix(base, "http://"))
	p.cmd.Process.Signal(syscall.SIGINT)
	err := p.wait(t)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Success() {
		t.Errorf("devproxy after a second SIGINT: %v, want it ended by the signal", err)
	}
}

func TestBinaryPortInUse(t *testing.T) {
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(bin, "-config", writeConfig(t, "routes: {}\n"), "-listen", ln.Addr().String())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("devproxy on a busy port: %v, want exit 1\n%s", err, out)
	}
	want := "devproxy: error: cannot listen on " + ln.Addr().String() + ": the port is already in use"
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), "devproxy: hint: ") {
		t.Errorf("devproxy on a busy port printed %q, want %q and a hint", out, want)
	}
}

// waitRefused waits until addr refuses connections: the server stopped
// accepting.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections after SIGINT", addr)
}
