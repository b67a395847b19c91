// Package keys reads single-key commands from a terminal, as Vite's dev
// server does: h lists the keys, and each Key's letter runs its action.
// Nothing is read from a stdin that is not a terminal (a pipe, a file, a
// CI job's /dev/null), so that input meant for something else is left
// alone.
package keys

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// Key is one single-key command.
type Key struct {
	// Char is the key, a lower-case letter; its upper case does the same.
	Char byte
	// Help says what the key does, e.g. "open devproxy in the browser".
	Help string
	// Do is what the key does. It runs on the reader's goroutine, so the
	// next key waits for it.
	Do func()
}

// HelpKey lists the keys; Start handles it itself.
const HelpKey = 'h'

// Help is the text the h key prints: one line per key.
func Help(keys []Key) string {
	var b strings.Builder
	b.WriteString("  shortcuts\n")
	fmt.Fprintf(&b, "  press %c to show the keys\n", HelpKey)
	for _, k := range keys {
		fmt.Fprintf(&b, "  press %c to %s\n", k.Char, k.Help)
	}
	return b.String()
}

// Start reads keys from in until ctx is done, when in is a terminal, and
// returns restore, which puts the terminal back as it was: call it on
// every way out. The terminal stays in line-discipline "cbreak" mode, not
// raw: keys come one at a time without echo, while Ctrl-C still sends
// SIGINT and "\n" still returns the carriage for the log. When in is not a
// terminal Start reads nothing.
func Start(ctx context.Context, in io.Reader, out io.Writer, keys []Key) (restore func()) {
	f, ok := in.(*os.File)
	if !ok {
		return func() {}
	}
	restore, err := cbreak(f)
	if err != nil {
		return func() {} // not a terminal, or one we cannot set
	}
	go read(ctx, f, out, keys)
	return restore
}

// IsTerminal reports whether Start would read keys from in.
func IsTerminal(in io.Reader) bool {
	f, ok := in.(*os.File)
	return ok && isTerminal(f)
}

// read runs the key of each byte read until ctx is done. A read blocked
// when ctx ends stays so until the process exits, which follows at once:
// a terminal's read cannot be cancelled portably.
func read(ctx context.Context, in io.Reader, out io.Writer, keys []Key) {
	buf := make([]byte, 64)
	for {
		n, err := in.Read(buf)
		if ctx.Err() != nil {
			return
		}
		for _, c := range buf[:n] {
			Dispatch(c, out, keys)
		}
		if err != nil {
			return
		}
	}
}

// Dispatch runs what key c does: h prints Help to out, a Key's letter runs
// its Do; other bytes are ignored.
func Dispatch(c byte, out io.Writer, keys []Key) {
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	if c == HelpKey {
		fmt.Fprint(out, Help(keys))
		return
	}
	for _, k := range keys {
		if k.Char == c {
			k.Do()
			return
		}
	}
}
