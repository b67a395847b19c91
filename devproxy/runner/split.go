package runner

import (
	"fmt"
	"strings"
)

// shellChars are the characters that make a command line need a shell when
// they appear outside quotes: pipes, lists, redirections, substitutions,
// globs, comments and line breaks.
const shellChars = "|&;<>()$`*?[]{}~#\n"

// Split splits a command line into argv the way a POSIX shell would for a
// simple command, without running one: words separated by blanks, '…'
// quoted literally, "…" quoted with \" \\ \$ \` escapes, \ escaping the next
// character outside quotes. Leading NAME=value words are returned as env.
//
// needShell is true when the line uses anything Split does not interpret
// (pipes, &&, redirections, $VAR, globs, …); the caller should then run
// /bin/sh -c line, and argv and env are nil.
func Split(line string) (argv, env []string, needShell bool, err error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   byte // 0, '\'' or '"'
		escaped bool
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case escaped:
			cur.WriteByte(c)
			escaped = false
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			switch c {
			case '"':
				quote = 0
			case '\\':
				if i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0 {
					i++
					cur.WriteByte(line[i])
				} else {
					cur.WriteByte(c)
				}
			case '$', '`':
				return nil, nil, true, nil
			default:
				cur.WriteByte(c)
			}
		case c == '\\':
			escaped, inWord = true, true
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.IndexByte(shellChars, c) >= 0:
			return nil, nil, true, nil
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, nil, false, fmt.Errorf("split command %q: unterminated %c quote", line, quote)
	}
	if escaped {
		return nil, nil, false, fmt.Errorf("split command %q: ends with a backslash", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	for len(words) > 0 && isAssignment(words[0]) {
		env = append(env, words[0])
		words = words[1:]
	}
	if len(words) == 0 {
		return nil, nil, false, fmt.Errorf("split command %q: no program to run", line)
	}
	return words, env, false, nil
}

// isAssignment reports whether w is a shell variable assignment NAME=value.
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
