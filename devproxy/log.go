package devproxy

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// logger writes the request log and devproxy's own messages, one line each,
// to one writer. Lines from concurrent requests never interleave.
type logger struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

func newLogger(w io.Writer, now func() time.Time) *logger {
	if w == nil {
		w = io.Discard
	}
	return &logger{w: w, now: now}
}

// logEntry is what the log says of one request.
type logEntry struct {
	start    time.Time
	method   string
	uri      string
	route    string // route prefix, "frontend", "static", "devproxy" or ""
	dest     string // target host:port, "mock", a folder, or ""
	status   int
	duration time.Duration
	bytes    int64
	err      *proxyError
}

func (l *logger) request(e *logEntry) {
	var b strings.Builder
	b.WriteString(e.start.Format("15:04:05"))
	b.WriteByte(' ')
	fmt.Fprintf(&b, "%-7s %-40s", sanitize(e.method), sanitize(e.uri))
	where := e.route
	if e.dest != "" && e.dest != e.route {
		where += " " + e.dest
	}
	fmt.Fprintf(&b, " → %-28s %3d %8s %8s\n", where, e.status, formatDuration(e.duration), formatBytes(e.bytes))
	if e.err != nil {
		b.WriteString("         ↳ " + e.err.Err)
		if e.err.Hint != "" {
			b.WriteString(" — " + e.err.Hint)
		}
		b.WriteByte('\n')
	}
	l.write(b.String())
}

// printf writes one message of devproxy's own.
func (l *logger) printf(format string, args ...any) {
	l.write(l.now().Format("15:04:05") + " " + fmt.Sprintf(format, args...) + "\n")
}

func (l *logger) write(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, s)
}

// sanitize makes request-derived text safe to print: control characters
// and invalid UTF-8 are shown escaped, so a request can neither move the
// cursor nor forge a log line.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
}

func formatBytes(n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1024*1024:
		return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + "KiB"
	default:
		return strconv.FormatFloat(float64(n)/(1024*1024), 'f', 1, 64) + "MiB"
	}
}
