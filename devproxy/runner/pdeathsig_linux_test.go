package runner

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Without the watcher, the kernel's parent-death signal still kills the
// command's first process when its supervisor is SIGKILLed.
func TestPdeathsigKillsFirstProcess(t *testing.T) {
	helper := buildHelper(t)
	sup := exec.Command(helper, "supervise")
	out, err := sup.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	pids := map[string]int{}
	t.Cleanup(func() {
		// The watcher is gone, so the orphaned rest of the tree is this
		// test's to end; the others are dead and their PIDs not ours.
		for _, name := range []string{"mid", "leaf"} {
			if pid := pids[name]; pid != 0 && alive(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = sup.Process.Kill()
		_ = sup.Wait()
	})
	lines := bufio.NewScanner(out)
	for len(pids) < 4 && lines.Scan() {
		var name string
		var pid int
		if n, _ := fmt.Sscanf(lines.Text(), "pid %s %d", &name, &pid); n == 2 {
			pids[name] = pid
		}
	}
	watcher := childWith(t, sup.Process.Pid, "devproxy-watch")
	if err := syscall.Kill(watcher, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := sup.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = sup.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pids["leader"]) {
		if time.Now().After(deadline) {
			t.Fatalf("leader (pid %d) is alive 10s after its supervisor was killed", pids["leader"])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// childWith returns the PID of parent's child whose command line contains s.
func childWith(t *testing.T, parent int, s string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if len(f) > 1 && f[1] == strconv.Itoa(parent) && strings.Contains(string(cmdline), s) {
			return pid
		}
	}
	t.Fatalf("no child of %d runs %q", parent, s)
	return 0
}
