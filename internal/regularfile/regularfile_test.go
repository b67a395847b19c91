//go:build unix

package regularfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.json")
	if err := os.WriteFile(file, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(filepath.Join(dir, "link")); err != nil || string(b) != `{"a":1}` {
		t.Errorf("Read(link to a file) = %q, %v; want the file", b, err)
	}
	for name, kind := range map[string]string{fifo: "a FIFO", "/dev/zero": "a device", dir: "a folder"} {
		// A FIFO must be refused without opening it: that would block
		// this test forever.
		_, err := Read(name)
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), kind) {
			t.Errorf("Read(%s) = %v, want ErrNotRegular naming %s", name, err, kind)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read(missing) = %v, want not exist", err)
	}
}
