package devproxy

import (
	"io"
	"os"

	"github.com/charmbracelet/x/term"
)

// ColorMode says when the text log is colored.
type ColorMode int

const (
	// ColorAuto colors the log when it goes to a terminal, unless
	// NO_COLOR is set; CLICOLOR_FORCE or FORCE_COLOR force it.
	ColorAuto ColorMode = iota
	// ColorAlways colors the log wherever it goes.
	ColorAlways
	// ColorNever writes plain text.
	ColorNever
)

// terminal says whether the log written to w is colored, and how wide the
// terminal is (0 when w is not one).
func terminal(w io.Writer, mode ColorMode, lookupEnv func(string) (string, bool)) (color bool, width int) {
	isTTY := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		isTTY = true
		if wd, _, err := term.GetSize(f.Fd()); err == nil {
			width = wd
		}
	}
	set := func(k string) bool { v, ok := lookupEnv(k); return ok && v != "" && v != "0" }
	switch {
	case mode == ColorAlways:
		return true, width
	case mode == ColorNever:
		return false, width
	case set("NO_COLOR"):
		return false, width
	case set("CLICOLOR_FORCE"), set("FORCE_COLOR"):
		return true, width
	}
	return isTTY, width
}

// termWidth returns how to read the width of the terminal w is now, or nil
// when w is not a terminal.
func termWidth(w io.Writer) func() int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
		return nil
	}
	return func() int {
		wd, _, err := term.GetSize(f.Fd())
		if err != nil {
			return 0
		}
		return wd
	}
}
