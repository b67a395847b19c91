// Package printable makes text that came from a request or a server safe
// to print on a terminal or in a log line.
package printable

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with control characters and invalid UTF-8 shown
// escaped, so that the text can neither move the cursor nor forge a log
// line; text without them comes back as it is.
func Escape(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			return escapeSlow(s)
		}
	}
	return s
}

func escapeSlow(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) {
			q := strconv.QuoteToASCII(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}
