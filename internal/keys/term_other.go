//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package keys

import (
	"errors"
	"os"
)

// cbreak is not supported here: devproxy runs without keys.
func cbreak(*os.File) (func(), error) {
	return nil, errors.New("single-key input is not supported on this system")
}

func isTerminal(*os.File) bool { return false }
