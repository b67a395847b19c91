//go:build unix

package devproxy

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
)

// TestMockFileMustBeRegular pins that a mock's file: is a regular file: a
// device such as /dev/zero would exhaust memory in one request and a FIFO
// would hang it forever. Both are refused when the config is checked and,
// when one takes the file's place later, when a request comes.
func TestMockFileMustBeRegular(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.json")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/dev/zero", "fifo.json", "zero.json"} {
		t.Run("check "+name, func(t *testing.T) {
			in := "routes:\n  /m:\n    respond: {file: " + name + "}\n"
			_, err := config.Parse(filepath.Join(dir, "devproxy.yaml"), []byte(in), func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), "routes./m.respond.file") || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("ParseConfig(file: %s): got %v, want it refused as not a regular file", name, err)
			}
		})
	}

	// Files that become a FIFO or a device after the config was checked.
	mock := filepath.Join(dir, "mock.json")
	if err := os.WriteFile(mock, []byte(`{"ok":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProxyIn(t, dir, "routes:\n  /m:\n    respond: {file: mock.json}\n", nil)
	p.wantBody(t, "/m", `{"ok":true}`)
	replace := []struct {
		name string
		make func() error
	}{
		{"fifo", func() error { return syscall.Mkfifo(mock, 0o644) }},
		{"link to /dev/zero", func() error { return os.Symlink("/dev/zero", mock) }},
	}
	for _, tt := range replace {
		t.Run("serve "+tt.name, func(t *testing.T) {
			if err := os.Remove(mock); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			if err := tt.make(); err != nil {
				t.Fatal(err)
			}
			res, body := p.get(t, "/m")
			if res.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "not a regular file") || !strings.Contains(body, mock) {
				t.Errorf("GET /m with the file a %s: got %d %q, want 500 saying %s is not a regular file", tt.name, res.StatusCode, body, mock)
			}
		})
	}
}
