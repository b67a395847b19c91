// Package regularfile reads files that must be regular files: a device such
// as /dev/zero would be read until memory runs out, and opening a FIFO
// blocks until someone writes to it.
package regularfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is the reason a device, a FIFO, a socket or a folder is
// refused; errors from Read and Check wrap it with what the file is.
var ErrNotRegular = errors.New("not a regular file")

// Check returns nil when name is a regular file (symbolic links followed),
// the error of os.Stat, or ErrNotRegular naming what it is instead.
func Check(name string) error {
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	return check(fi)
}

// Read reads name if it is a regular file. It checks before opening, and
// again on what it opened, in case the name was replaced in between.
func Read(name string) ([]byte, error) {
	if err := Check(name); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := check(fi); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

func check(fi fs.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%w (%s)", ErrNotRegular, Kind(fi.Mode()))
}

// Kind names what a file that is not regular is: "a FIFO", "a folder", ….
func Kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	}
	return "a special file"
}
