package devproxy

import (
	"strings"

	"github.com/devproxy/devproxy/devproxy/runner"
)

// commandLine logs one line a command wrote: its label in the colour of
// its route, a bar, then the text. On a terminal the command's own
// colours are kept; everywhere else they are stripped. Every other
// control character is escaped, as in the rest of the log.
func (l *logger) commandLine(label, key string, line runner.Line) {
	if l.json {
		l.jsonLine(jsonLine{Level: "info", Msg: sanitize(runner.StripANSI(line.Text)), Source: label, Stream: line.Stream.String()})
		return
	}
	p := l.p.route(key)
	if key == frontendKey {
		p = l.p.frontend
	}
	b := make([]byte, 0, 32+len(line.Text))
	b = p.appendText(b, label)
	b = append(b, " │ "...)
	if l.p.time.pre != "" || len(l.p.routes) > 0 {
		b = appendKeepingColours(b, line.Text)
		// The command's colour ends with its line.
		b = append(b, "\x1b[0m"...)
	} else {
		b = append(b, sanitize(runner.StripANSI(line.Text))...)
	}
	b = append(b, '\n')
	l.out.write(b)
}

// appendKeepingColours appends s with its colour escapes (CSI … m) kept
// and every other escape or control character made visible.
func appendKeepingColours(b []byte, s string) []byte {
	for s != "" {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			break
		}
		b = append(b, sanitize(s[:i])...)
		rest := s[i+2:]
		j := 0
		for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == ';') {
			j++
		}
		if j < len(rest) && rest[j] == 'm' {
			b = append(b, s[i:i+2+j+1]...)
			s = rest[j+1:]
			continue
		}
		// Not a colour: cursor moves and the like are escaped.
		b = append(b, sanitize(s[i:i+2])...)
		s = rest
	}
	return append(b, sanitize(s)...)
}
