// Package hostsfile edits devproxy's block of an /etc/hosts file: the
// lines between "# devproxy begin KEY" and "# devproxy end KEY", one block
// per config (KEY is the config file's path), so that projects add and
// remove their names without touching each other's lines or the user's.
package hostsfile

import (
	"bytes"
	"strings"
)

// Lines are the host lines for names: every name on 127.0.0.1 and on ::1,
// for resolvers that ask for IPv6 first. Empty when names is.
func Lines(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	all := strings.Join(names, " ")
	return []string{"127.0.0.1 " + all, "::1 " + all}
}

func begin(key string) string { return "# devproxy begin " + key }
func end(key string) string   { return "# devproxy end " + key }

// Update returns data with the block of key holding the Lines of names,
// replacing the block when there is one and adding it at the end when
// not; with no names it removes the block. Every other line stays as it
// was, and changed reports whether anything did not.
func Update(data []byte, key string, names []string) (out []byte, changed bool) {
	var kept []string
	var block []string
	at := -1 // where the block was, in kept
	in := false
	text := string(data)
	for line := range strings.Lines(text) {
		trimmed := strings.TrimRight(line, "\r\n")
		switch {
		case !in && trimmed == begin(key):
			in, at = true, len(kept)
		case in && trimmed == end(key):
			in = false
		case in:
			block = append(block, trimmed)
		default:
			kept = append(kept, line)
		}
	}
	if in {
		// A begin with no end: the block is cut off; keep what followed it
		// as the user's lines.
		kept = append(kept, joinLines(block)...)
		block, at = nil, -1
	}
	var repl []string
	if lines := Lines(names); lines != nil {
		repl = append(append([]string{begin(key)}, lines...), end(key))
	}
	var b bytes.Buffer
	switch {
	case at >= 0:
		for _, l := range kept[:at] {
			b.WriteString(l)
		}
		for _, l := range repl {
			b.WriteString(l + "\n")
		}
		for _, l := range kept[at:] {
			b.WriteString(l)
		}
	default:
		for _, l := range kept {
			b.WriteString(l)
		}
		if len(repl) > 0 {
			if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
				b.WriteByte('\n')
			}
			for _, l := range repl {
				b.WriteString(l + "\n")
			}
		}
	}
	return b.Bytes(), !bytes.Equal(b.Bytes(), data)
}

func joinLines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l + "\n"
	}
	return out
}
