//go:build unix

package devproxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildCmdServer builds testdata/cmdserver, the server the command tests
// start.
func buildCmdServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cmdserver")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/cmdserver").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./testdata/cmdserver: %v\n%s", err, out)
	}
	return bin
}

// pidsIn returns the PIDs that cmdserver lines in log announce.
func pidsIn(log string) []int {
	var pids []int
	for _, m := range regexp.MustCompile(`pid (?:leader|child) (\d+)`).FindAllStringSubmatch(log, -1) {
		n, _ := strconv.Atoi(m[1])
		pids = append(pids, n)
	}
	return pids
}

// alive reports whether a process pid exists (and is not a zombie).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(after, "Z")
}

// waitGone waits until none of pids is left.
func waitGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d of the command's tree survived", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// waitStatus polls path until it answers want, and returns the body.
func (p *testProxy) waitStatus(t *testing.T, path string, want int) string {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		resp, body := p.do(t, "GET", path, nil, nil)
		if resp.StatusCode == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: status = %d, want %d; body %s\nlog:\n%s", path, resp.StatusCode, want, body, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRouteCommandStartsWaitsAndStops(t *testing.T) {
	bin := buildCmdServer(t)
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	config := fmt.Sprintf("routes:\n  /api:\n    command: %s\n    env: {GATE: %q, NAME: api}\n  /other: http://127.0.0.1:1\n", bin, gate)
	p := startProxyIn(t, dir, config, nil)
	p.log.waitFor(t, "/api │ waiting for")

	// Start-up: the API is not listening yet.
	resp, body := p.do(t, "GET", "/api/users", nil, http.Header{"Accept": {"application/json"}})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET /api/users while starting: status = %d, Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	var pe struct {
		Error, Command string
		Output         []string
	}
	if err := json.Unmarshal([]byte(body), &pe); err != nil || !strings.Contains(pe.Error, "is still starting") ||
		!strings.Contains(strings.Join(pe.Output, "\n"), "waiting for") {
		t.Errorf("GET /api/users while starting: body %s, want the command still starting with its output", body)
	}
	resp, body = p.do(t, "GET", "/api/page", nil, http.Header{"Accept": {"text/html"}, "Sec-Fetch-Mode": {"navigate"}})
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Waiting for <code>cmdserver</code>") ||
		!strings.Contains(body, "<pre>pid leader") {
		t.Errorf("page load while starting: status = %d, body %s, want the waiting page with the output", resp.StatusCode, body)
	}

	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if body := p.waitStatus(t, "/api/users", http.StatusOK); body != "cmdserver NAME=api path=/api/users\n" {
		t.Errorf("GET /api/users: body %q, want cmdserver's", body)
	}
	log := p.log.waitFor(t, "/api │ ready at http://localhost:", "(port passed as PORT)")
	pids := pidsIn(log)
	if len(pids) != 2 {
		t.Fatalf("PIDs in the log = %v, want the leader's and its child's; log:\n%s", pids, log)
	}

	// A reload that leaves the command alone keeps it running.
	if err := os.WriteFile(p.file, []byte(config+"  /more: http://127.0.0.1:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-p.reloads; err != nil {
		t.Fatalf("reload: %v", err)
	}
	if !alive(pids[0]) || strings.Contains(p.log.String(), "/api │ starting cmdserver (") && strings.Count(p.log.String(), "/api │ starting") != 1 {
		t.Errorf("after a reload that kept the command: leader %d alive %t, log:\n%s", pids[0], alive(pids[0]), p.log)
	}

	began := time.Now()
	p.stop()
	t.Logf("shutdown with the command took %v", time.Since(began).Round(time.Millisecond))
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d of the command is alive after Serve returned", pid)
		}
	}
}

func TestCommandCrashThenFixedBySave(t *testing.T) {
	bin := buildCmdServer(t)
	dir := t.TempDir()
	crashing := fmt.Sprintf("routes:\n  /api:\n    command: %s\n    env: {CRASH: no database, NAME: api}\n", bin)
	p := startProxyIn(t, dir, crashing, nil)
	log := p.log.waitFor(t, "/api │ cmdserver exited with code 3")
	if n := strings.Count(log, "exited with code"); n != 1 {
		t.Errorf("the exit is reported %d times, want once; log:\n%s", n, log)
	}
	if !strings.Contains(log, "/api │ boom: no database") {
		t.Errorf("log has no output line of the command, colours stripped; log:\n%s", log)
	}
	resp, body := p.do(t, "GET", "/api/users", nil, http.Header{"Accept": {"application/json"}})
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "exited with code 3") || !strings.Contains(body, "boom: no database") {
		t.Errorf("GET /api/users after the crash: status = %d, body %s, want 502 with the exit and its last line", resp.StatusCode, body)
	}
	waitGone(t, pidsIn(log))

	fixed := strings.Replace(crashing, "CRASH: no database, ", "", 1)
	if err := os.WriteFile(p.file, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-p.reloads; err != nil {
		t.Fatalf("reload: %v", err)
	}
	if body := p.waitStatus(t, "/api/x", http.StatusOK); !strings.Contains(body, "NAME=api") {
		t.Errorf("GET /api/x after the fix: body %q, want cmdserver's", body)
	}
}

func TestFrontendCommandFromOptions(t *testing.T) {
	bin := buildCmdServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "devproxy.yaml") // not written: no config
	p := serveTest(t, file, func(o *Options) {
		o.Command = []string{bin}
		o.LogJSON = true
	}, nil)
	if body := p.waitStatus(t, "/index.html", http.StatusOK); body != "cmdserver NAME= path=/index.html\n" {
		t.Errorf("GET /index.html: body %q, want cmdserver's", body)
	}
	log := p.log.waitFor(t, `"source":"cmdserver"`, `"msg":"listening on http://localhost:`)
	if !strings.Contains(log, `"stream":"stdout"`) {
		t.Errorf("JSON log has no stream of the command's lines:\n%s", log)
	}
	pids := pidsIn(log)
	p.stop()
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d alive after Serve returned", pid)
		}
	}
}

func TestCommandAnnouncingAnotherURL(t *testing.T) {
	bin := buildCmdServer(t)
	config := fmt.Sprintf("routes:\n  /api:\n    command: %s\n    env: {ELSEWHERE: 1, NAME: api}\n", bin)
	p := startProxy(t, config, nil)
	log := p.log.waitFor(t, "/api │ ready at http://localhost:", "(announced by the command)")
	planned := regexp.MustCompile(`/api +→ (http://localhost:\d+)`).FindStringSubmatch(log)
	if planned == nil || strings.Contains(log, "ready at "+planned[1]+" ") {
		t.Fatalf("the command should listen elsewhere than planned; log:\n%s", log)
	}
	if body := p.waitStatus(t, "/api/x", http.StatusOK); body != "cmdserver NAME=api path=/api/x\n" {
		t.Errorf("GET /api/x: body %q, want cmdserver's on the URL it announced", body)
	}
}

func TestCommandFloodReachesTheLog(t *testing.T) {
	bin := buildCmdServer(t)
	const lines = 100_000 // 10 MB
	config := fmt.Sprintf("routes:\n  /api:\n    command: %s\n    env: {FLOOD: %d}\n", bin, lines)
	p := startProxy(t, config, nil)
	p.waitStatus(t, "/api/x", http.StatusOK)
	log := p.log.waitFor(t, "/api │ prompt> ")
	// A command descheduled in the middle of a line for longer than the
	// flush delay has that line shown in two parts, as a prompt would be;
	// joined again, the parts must give every line, in order.
	var text strings.Builder
	for line := range strings.Lines(log) {
		if _, rest, ok := strings.Cut(line, "/api │ "); ok {
			text.WriteString(strings.TrimSuffix(rest, "\n"))
		}
	}
	joined := text.String()
	if n := strings.Count(joined, "line "); n != lines {
		t.Errorf("the log has %d of the command's %d lines", n, lines)
	}
	if !strings.Contains(joined, fmt.Sprintf("line %08d ", lines-1)) {
		t.Errorf("the log lacks the command's last line")
	}
}

func TestRestartCommands(t *testing.T) {
	bin := buildCmdServer(t)
	p := startProxy(t, fmt.Sprintf("routes:\n  /api:\n    command: %s\n", bin), nil)
	p.waitStatus(t, "/api/x", http.StatusOK)
	before := pidsIn(p.log.waitFor(t, "pid child"))
	if err := p.srv.RestartCommands(t.Context()); err != nil {
		t.Fatalf("RestartCommands: %v", err)
	}
	p.waitStatus(t, "/api/x", http.StatusOK)
	waitGone(t, before)
	after := pidsIn(p.log.String())
	if len(after) != 4 || after[2] == before[0] {
		t.Errorf("PIDs before %v, after the restart %v, want a new leader and child", before, after)
	}
}
