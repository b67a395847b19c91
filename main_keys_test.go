//go:build linux || darwin

package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// The keys are driven through a pseudo-terminal from creack/pty rather
// than tmux: the test owns both ends, so it reads the binary's output as
// a stream, waits on exact lines, gets the exit status from exec and reads
// the terminal's mode after exit, with no server process or screen
// scraping in between.

// ptyOutput collects what the binary writes to the terminal.
type ptyOutput struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (o *ptyOutput) copyFrom(r io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		o.mu.Lock()
		o.buf.Write(b[:n])
		close(o.changed)
		o.changed = make(chan struct{})
		o.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitFor waits until the output holds sub, after the first from bytes.
func (o *ptyOutput) waitFor(t *testing.T, from int, sub string) int {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		o.mu.Lock()
		s, ch := o.buf.String(), o.changed
		o.mu.Unlock()
		if i := strings.Index(s[from:], sub); i >= 0 {
			return from + i + len(sub)
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("the terminal never showed %q; it shows:\n%s", sub, s)
		}
	}
}

func TestKeysOnATerminal(t *testing.T) {
	bin := buildBinary(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	before, err := unix.IoctlGetTermios(int(tty.Fd()), getTermiosTest)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", writeConfig(t, "routes:\n  /api: "+up.URL+"\n"), "-listen", "127.0.0.1:0")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	out := &ptyOutput{changed: make(chan struct{})}
	go out.copyFrom(ptmx)

	at := out.waitFor(t, 0, "press h to show the keys")
	for _, step := range []struct {
		key  string
		want []string
	}{
		{"h", []string{"press o to open devproxy in the browser", "press r to probe every target again", "press c to clear the screen", "press q to quit"}},
		{"r", []string{up.URL + " is up"}},
		{"c", []string{"\x1b[2J"}},
	} {
		if _, err := ptmx.WriteString(step.key); err != nil {
			t.Fatal(err)
		}
		for _, w := range step.want {
			at = out.waitFor(t, at, w)
		}
	}
	if _, err := ptmx.WriteString("q"); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, at, "shutting down")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("devproxy after q: %v, want exit 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("devproxy did not exit after q")
	}
	after, err := unix.IoctlGetTermios(int(tty.Fd()), getTermiosTest)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lflag != before.Lflag {
		t.Errorf("terminal local modes after exit = %#x, want %#x as before (echo and line mode restored)", after.Lflag, before.Lflag)
	}
}

// TestKeysNotReadFromAPipe pins that nothing is read from a stdin that is
// not a terminal: keys written into a pipe are still there after devproxy
// ran, and q in them did not stop it.
func TestKeysNotReadFromAPipe(t *testing.T) {
	bin := buildBinary(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const typed = "hrq\n"
	if _, err := w.WriteString(typed); err != nil {
		t.Fatal(err)
	}
	w.Close()
	cmd := exec.Command(bin, "-config", writeConfig(t, "routes: {}\n"), "-listen", "127.0.0.1:0")
	cmd.Stdin = r
	out := &ptyOutput{changed: make(chan struct{})}
	pr, pw := io.Pipe()
	go out.copyFrom(pr)
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	out.waitFor(t, 0, "➜ open")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("devproxy with a pipe as stdin, after SIGINT: %v, want exit 0", err)
	}
	pw.Close()
	out.mu.Lock()
	printed := out.buf.String()
	out.mu.Unlock()
	if strings.Contains(printed, "press") {
		t.Errorf("devproxy with a pipe as stdin offered keys:\n%s", printed)
	}
	left, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(left) != typed {
		t.Errorf("the pipe holds %q after devproxy ran, want %q untouched", left, typed)
	}
}
