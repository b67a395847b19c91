package devproxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/printable"
)

// Styles are the colors of devproxy's terminal output, in one place.
type Styles struct {
	Time, Method, Path, Target, Size, Duration lipgloss.Style
	// Slow highlights the duration of a response that took a second or
	// more.
	Slow lipgloss.Style
	// Status2xx to Status5xx color a status code by its class.
	Status2xx, Status3xx, Status4xx, Status5xx lipgloss.Style
	// Routes color route prefixes, so that routes are told apart at a
	// glance; a route keeps its color across reloads.
	Routes []lipgloss.Style
	// Frontend, Static, Mock and Own color the destinations that are not
	// a route's target.
	Frontend, Static, Mock, Own lipgloss.Style
	// Error and Hint color the indented line under a failed request.
	Error, Hint lipgloss.Style
	// Warning, Good and Bad color devproxy's own messages: warnings,
	// applied reloads and upstreams that are up, errors and upstreams
	// that are down.
	Warning, Good, Bad lipgloss.Style
	// Title and URL color the banner.
	Title, URL lipgloss.Style
}

// DefaultStyles returns devproxy's colors, rendered by r. They use the 16
// basic ANSI colors, so they follow the terminal's own theme.
func DefaultStyles(r *lipgloss.Renderer) *Styles {
	s := r.NewStyle
	fg := func(c string) lipgloss.Style { return s().Foreground(lipgloss.Color(c)) }
	return &Styles{
		Time:      s().Faint(true),
		Method:    s().Bold(true),
		Path:      s(),
		Target:    s().Faint(true),
		Size:      s().Faint(true),
		Duration:  s(),
		Slow:      fg("3").Bold(true),
		Status2xx: fg("2"),
		Status3xx: fg("6"),
		Status4xx: fg("3"),
		Status5xx: fg("1").Bold(true),
		Routes:    []lipgloss.Style{fg("5"), fg("4"), fg("6"), fg("13"), fg("12"), fg("14")},
		Frontend:  fg("2"),
		Static:    fg("2"),
		Mock:      fg("13"),
		Own:       s().Faint(true),
		Error:     fg("1"),
		Hint:      fg("3"),
		Warning:   fg("3").Bold(true),
		Good:      fg("2"),
		Bad:       fg("1").Bold(true),
		Title:     s().Bold(true),
		URL:       fg("6").Bold(true).Underline(true),
	}
}

// paint is a compiled style: the escape sequences around a text. Compiling
// once keeps lipgloss out of the per-request path.
type paint struct{ pre, post string }

// sentinel is a private-use rune that no style changes.
const sentinel = "\uE000"

func compile(st lipgloss.Style) paint {
	out := st.Render(sentinel)
	i := strings.Index(out, sentinel)
	if i < 0 {
		return paint{}
	}
	return paint{out[:i], out[i+len(sentinel):]}
}

// appendText appends s in the paint's style. A line break inside s ends the style
// before it and starts it again after, so that every line resets its
// styles before its newline: tools that read the log line by line (CI
// logs, less -R, tail, tmux) would otherwise carry the color over.
func (p paint) appendText(b []byte, s string) []byte {
	b = append(b, p.pre...)
	for p.pre != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		b = append(b, s[:i]...)
		b = append(b, p.post...)
		b = append(b, '\n')
		b = append(b, p.pre...)
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, p.post...)
}

// appendBytes is appendText for a formatted number, which has no line break.
func (p paint) appendBytes(b, s []byte) []byte {
	b = append(b, p.pre...)
	b = append(b, s...)
	return append(b, p.post...)
}

// paints are Styles compiled; the zero value writes plain text.
type paints struct {
	time, method, path, target, size, duration, slow paint
	s2xx, s3xx, s4xx, s5xx                           paint
	routes                                           []paint
	frontend, static, mock, own                      paint
	err, hint, warning, good, bad, title, url        paint
}

func compileStyles(st *Styles) *paints {
	if st == nil {
		return &paints{}
	}
	p := &paints{
		time: compile(st.Time), method: compile(st.Method), path: compile(st.Path),
		target: compile(st.Target), size: compile(st.Size), duration: compile(st.Duration),
		slow: compile(st.Slow),
		s2xx: compile(st.Status2xx), s3xx: compile(st.Status3xx),
		s4xx: compile(st.Status4xx), s5xx: compile(st.Status5xx),
		frontend: compile(st.Frontend), static: compile(st.Static), mock: compile(st.Mock), own: compile(st.Own),
		err: compile(st.Error), hint: compile(st.Hint), warning: compile(st.Warning),
		good: compile(st.Good), bad: compile(st.Bad), title: compile(st.Title), url: compile(st.URL),
	}
	for _, r := range st.Routes {
		p.routes = append(p.routes, compile(r))
	}
	return p
}

func (p *paints) status(code int) paint {
	switch {
	case code >= 500:
		return p.s5xx
	case code >= 400:
		return p.s4xx
	case code >= 300:
		return p.s3xx
	default:
		return p.s2xx
	}
}

// route returns the color of a route prefix: the same prefix always gets
// the same color.
func (p *paints) route(prefix string) paint {
	if len(p.routes) == 0 {
		return paint{}
	}
	var h uint32 = 2166136261
	for i := 0; i < len(prefix); i++ {
		h = (h ^ uint32(prefix[i])) * 16777619
	}
	return p.routes[h%uint32(len(p.routes))]
}

// Column widths of a request line; the path takes what the terminal has
// left.
const (
	methodWidth = 7
	// whereWidth is the column of the route and target; on a terminal
	// narrower than 132 columns it gets a third of what the fixed columns
	// leave, at least minWhereWidth, and the target is left out when it
	// does not fit (the banner lists it).
	whereWidth    = 30
	minWhereWidth = 12
	// fixedWidth is everything but the path and the where column: time,
	// method, arrow, status, duration, size and the spaces between them.
	fixedWidth   = 8 + 1 + methodWidth + 1 + 3 + 1 + 3 + 1 + 8 + 1 + 8
	minPathWidth = 12
	// hintIndent is where the text of a line under a request starts.
	hintIndent = 11
	// plainPathWidth is the column paths are padded to; on a terminal too
	// narrow for it, less. Longer paths are printed whole, or shortened
	// to fit a terminal.
	plainPathWidth = 40
	// slowAfter marks a response as slow in the log.
	slowAfter = time.Second
	// repeatEvery is how often a failure that keeps repeating on one route
	// gets a line with its count.
	repeatEvery = 5 * time.Second
	// repeatQuiet is how soon after the last repeat of a failure its count
	// is logged, when no other line comes to carry it.
	repeatQuiet = 2 * time.Second
)

// logger writes the request log and devproxy's own messages. Lines are
// built without locks and handed to a writer that never makes a request
// wait on the terminal.
type logger struct {
	out     *lineWriter
	p       *paints
	json    bool
	verbose bool
	// width is the terminal's width as it is now (watchWidth follows
	// it); 0 when the output is not a terminal.
	width atomic.Int32
	now   func() time.Time
	// repeatQuiet is how long a repeated failure's count waits for the
	// next line before it is logged on its own (repeatQuiet).
	repeatQuiet time.Duration

	mu      sync.Mutex
	repeats map[string]*repeat // by route
}

// repeat counts a failure that keeps happening on one route.
type repeat struct {
	err string
	// count is the repeats not yet logged; total every failure since
	// the first, at since.
	count, total int
	since        time.Time
	lastPrint    time.Time
	// quiet logs the count when no repeat came for repeatQuiet; nil
	// until the first repeat.
	quiet *time.Timer
}

func newLogger(w io.Writer, p *paints, jsonFormat, verbose bool, width int, now func() time.Time) *logger {
	if w == nil {
		w = io.Discard
	}
	if p == nil {
		p = &paints{}
	}
	l := &logger{
		out: newLineWriter(w), p: p, json: jsonFormat, verbose: verbose, now: now,
		repeatQuiet: repeatQuiet, repeats: map[string]*repeat{},
	}
	l.width.Store(int32(width))
	return l
}

// setWidth follows a resized terminal.
func (l *logger) setWidth(w int) { l.width.Store(int32(max(w, 0))) }

// watchWidth re-reads the terminal's width with read each time changes
// says it may have changed (SIGWINCH), until ctx ends.
func (l *logger) watchWidth(ctx context.Context, read func() int, changes <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
			l.setWidth(read())
		}
	}
}

// logEntry is what the log says of one request.
type logEntry struct {
	start    time.Time
	method   string
	uri      string
	route    string // route prefix, or the kind's word for the others
	dest     string // target host:port, "mock", or ""
	duration time.Duration
	// outcome is the status, size and failure, as the recorder and the
	// handlers recorded them.
	outcome
	// navigation marks a browser page load, which the log always shows.
	navigation bool
	// showAll logs this request even if it is a quiet one (log:
	// {frontend: all} in the config).
	showAll bool
	// stream marks a long-lived response (SSE, WebSocket): never "slow".
	stream bool
	// kind is what answered (beside the flags, where it takes no room).
	kind kind
	// ws is set for a WebSocket: bytes each way once it closed.
	ws           bool
	wsUp, wsDown int64
	// fetch marks a script's request (fetch, XHR), which expects data
	// rather than a page.
	fetch bool
	// misroute, when not nil, says that a fetch got the frontend's HTML
	// page: most likely a mistyped route (noRoute).
	misroute *proxyError
	// proto is "h2" for a request over HTTP/2, empty for HTTP/1.1 (the
	// usual case, left unmarked).
	proto string
}

// fellBack names the frontend's fallback_api as where e went when the
// frontend handed the request on to it.
func (e *logEntry) fellBack() {
	if e.fallback != "" {
		e.kind, e.route, e.dest = kindFallback, kindFallback.String(), e.fallback
	}
}

// quiet reports whether e is a successful frontend asset request, hidden
// unless the log is verbose.
func (l *logger) quiet(e *logEntry) bool {
	return !l.verbose && !e.showAll && (e.kind == kindFrontend || e.kind == kindStatic) &&
		!e.navigation && !e.ws && e.err == nil && e.misroute == nil && e.status < 400
}

// isFetch reports whether r is a script's request rather than a page load
// or a subresource: a browser says so with Sec-Fetch-Dest: empty; without
// Sec-Fetch headers, an Accept that does not ask for HTML.
func isFetch(r *http.Request) bool {
	switch headerGet(r.Header, "Sec-Fetch-Dest") {
	case "empty":
		return true
	case "":
		a := headerGet(r.Header, "Accept")
		return a != "" && !strings.Contains(a, "text/html")
	}
	return false
}

// fetchGotPage reports whether a fetch to the frontend was answered with an
// HTML page (a dev server's SPA fallback), which the script that asked
// for data cannot parse. A path naming an HTML file asked for one.
func fetchGotPage(e *logEntry, path, contentType string) bool {
	return e.fetch && (e.kind == kindFrontend || e.kind == kindStatic) && e.err == nil &&
		isPageAnswer(path, e.status, contentType)
}

// isPageAnswer reports whether a successful answer of status and
// contentType to path is an HTML page for a path that does not name an
// HTML file: a dev server's SPA fallback.
func isPageAnswer(path string, status int, contentType string) bool {
	return status >= 200 && status < 300 && strings.HasPrefix(contentType, "text/html") &&
		!strings.HasSuffix(path, ".html") && !strings.HasSuffix(path, ".htm")
}

// noRoute explains a fetch that fell through to the frontend: the nearest
// route prefix, compared with as many leading segments of path as it has.
func noRoute(path string, routes []*compiledRoute) *proxyError {
	byDepth := map[int][]string{}
	var depths []int
	for _, r := range routes {
		d := strings.Count(r.Path, "/")
		if byDepth[d] == nil {
			depths = append(depths, d)
		}
		byDepth[d] = append(byDepth[d], r.Path)
	}
	// routes are longest first, so deeper prefixes are tried first.
	for _, d := range depths {
		typed := leadingSegments(path, d)
		if best := config.Nearest(typed, byDepth[d]); best != "" {
			return &proxyError{Err: "no route matches " + sanitize(typed), Hint: "did you mean " + best + "?"}
		}
	}
	return &proxyError{Err: "no route matches " + sanitize(path),
		Hint: "the frontend answered this fetch with its HTML page; add a route for it, or check the URL"}
}

// leadingSegments returns the first n segments of path ("/a/b/c", 2: "/a/b").
func leadingSegments(path string, n int) string {
	seen := 0
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			if seen == n {
				return path[:i]
			}
			seen++
		}
	}
	return path
}

// request logs a finished request.
func (l *logger) request(e *logEntry) {
	if l.quiet(e) {
		return
	}
	if l.collapse(e) {
		return
	}
	if l.json {
		l.jsonRequest(e, "request")
		return
	}
	var dur, size [16]byte
	b := l.lineBytes(e, e.status, appendDuration(dur[:0], e.duration), appendBytes(size[:0], e.bytes))
	if e.err != nil {
		b = l.hintLine(b, e.err.Err, e.err.Hint)
	}
	if e.misroute != nil {
		b = l.hintLine(b, e.misroute.Err, e.misroute.Hint)
	}
	l.out.write(b)
}

// wsOpened logs a WebSocket upgrade that succeeded.
func (l *logger) wsOpened(e *logEntry) {
	open := *e
	open.ws = true
	if l.json {
		l.jsonRequest(&open, "websocket open")
		return
	}
	l.out.write(l.line(&open, 101, "open", ""))
}

// wsClosed logs the end of a WebSocket, with the bytes each way.
func (l *logger) wsClosed(e *logEntry) {
	if l.json {
		l.jsonRequest(e, "websocket closed")
		return
	}
	l.out.write(l.line(e, 101, formatDuration(e.duration), "↑"+formatBytes(e.wsUp)+" ↓"+formatBytes(e.wsDown)+" closed"))
}

// collapse counts a failure that repeats the previous one on the same
// route instead of logging it again, and says how often it happened when
// the route's outcome changes, every few seconds, or repeatQuiet after
// the last repeat; it says when the route answers again. It reports
// whether e was counted rather than logged. The JSON log never collapses:
// every request is a record that tools count.
func (l *logger) collapse(e *logEntry) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.repeats[e.route]
	failed := e.err != nil && e.status >= 500 && !e.injected
	if r != nil && failed && r.err == e.err.Err {
		r.total++
		if l.json {
			return false
		}
		r.count++
		if now := l.now(); now.Sub(r.lastPrint) >= repeatEvery {
			l.writeRepeat(e.route, r)
			r.count, r.lastPrint = 0, now
		}
		if r.quiet == nil {
			route := e.route
			r.quiet = time.AfterFunc(l.repeatQuiet, func() { l.quietRepeat(route, r) })
		} else {
			r.quiet.Reset(l.repeatQuiet)
		}
		return true
	}
	if r != nil {
		l.endRepeat(e.route, r)
		if !failed && e.err == nil && e.status != StatusClientClosed {
			l.writeBack(e, r)
		}
	}
	if failed {
		l.repeats[e.route] = &repeat{err: e.err.Err, total: 1, since: e.start, lastPrint: l.now()}
	}
	return false
}

// endRepeat logs the count not yet said and forgets r; l.mu is held.
func (l *logger) endRepeat(route string, r *repeat) {
	if r.quiet != nil {
		r.quiet.Stop()
	}
	if r.count > 0 {
		l.writeRepeat(route, r)
	}
	delete(l.repeats, route)
}

// quietRepeat logs r's count when no repeat came for repeatQuiet.
func (l *logger) quietRepeat(route string, r *repeat) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.repeats[route] != r || r.count == 0 {
		return
	}
	l.writeRepeat(route, r)
	r.count, r.lastPrint = 0, l.now()
}

// writeRepeat logs how many times a failure repeated; l.mu is held.
func (l *logger) writeRepeat(route string, r *repeat) {
	msg := strconv.Itoa(r.count) + " more " + plural(r.count, "time", "times") + " on " + route + ": " + r.err
	if l.json {
		l.jsonLine(jsonLine{Level: "error", Msg: "repeated failure", Route: route, Error: r.err, Count: r.count})
		return
	}
	l.out.write(l.hintLine(make([]byte, 0, 128), msg, ""))
}

// writeBack says that a route that kept failing answers again; l.mu is
// held.
func (l *logger) writeBack(e *logEntry, r *repeat) {
	took := e.start.Sub(r.since)
	if l.json {
		l.jsonLine(jsonLine{Level: "info", Msg: "route back", Route: e.route, Status: e.status, Count: r.total,
			DurationMS: float64(took.Microseconds()) / 1000})
		return
	}
	msg := e.route + " is back: " + strconv.Itoa(e.status) + " after " + strconv.Itoa(r.total) + " " +
		plural(r.total, "failure", "failures") + " in " + formatSpan(took)
	l.message("info", l.p.good, msg, "")
}

// formatSpan says how long a failure lasted, in words a person reads at a
// glance: "300 ms", "12 s", "3 min 5 s".
func formatSpan(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10) + " s"
	default:
		d = d.Round(time.Second)
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min " + strconv.FormatInt(int64(d%time.Minute/time.Second), 10) + " s"
	}
}

// flushRepeats logs the counts not yet said, at shutdown.
func (l *logger) flushRepeats() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for route, r := range l.repeats {
		l.endRepeat(route, r)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// line formats one request line with aligned columns.
func (l *logger) line(e *logEntry, status int, dur, size string) []byte {
	return l.lineBytes(e, status, []byte(dur), []byte(size))
}

// lineBytes is line, with the duration and size already formatted: the
// request path of the log allocates only the line itself.
func (l *logger) lineBytes(e *logEntry, status int, dur, size []byte) []byte {
	b := make([]byte, 0, 192)
	b = append(b, l.p.time.pre...)
	b = e.start.AppendFormat(b, "15:04:05")
	b = append(b, l.p.time.post...)
	b = append(b, ' ')
	method := sanitize(e.method)
	if e.ws {
		method = "WS"
	}
	b = pad(l.p.method.appendText(b, method), method, methodWidth)
	b = append(b, ' ')

	path := shortenSecrets(sanitize(e.uri))
	pathWidth, whereW := plainPathWidth, whereWidth
	proto := e.proto
	if width := int(l.width.Load()); width > 0 {
		// Paths are padded to a readable column and shortened only when
		// the terminal has no room for them; the where column gives up
		// room first.
		whereW = min(max((width-fixedWidth)/3, minWhereWidth), whereWidth)
		// A closed WebSocket's size says both ways: its path gives way.
		extra := max(utf8.RuneCount(size)-8, 0)
		// The protocol marker takes its room from the path too, and is
		// left out on a terminal too narrow for the shortest path and
		// it: it only says what the banner's https already says.
		if proto != "" {
			if w := 1 + len(proto); width-fixedWidth-whereW-extra-w >= minPathWidth {
				extra += w
			} else {
				proto = ""
			}
		}
		room := max(width-fixedWidth-whereW-extra, minPathWidth)
		path = shorten(path, room)
		pathWidth = min(pathWidth, room)
	}
	b = pad(l.p.path.appendText(b, path), path, pathWidth)
	b = append(b, " → "...)

	where, dest := e.route, e.dest
	if e.via != "" {
		dest = e.via
	}
	if n := utf8.RuneCountInString(where); n+1+utf8.RuneCountInString(dest) > whereW {
		dest = ""
		if n > whereW {
			where = shorten(where, whereW)
		}
	}
	var wp paint
	switch e.kind {
	case kindFrontend:
		wp = l.p.frontend
	case kindStatic:
		wp, dest = l.p.static, "" // the folder is in the banner
	case kindDevproxy:
		wp = l.p.own
	default:
		wp = l.p.route(e.route)
	}
	b = wp.appendText(b, where)
	whereLen := utf8.RuneCountInString(where)
	if dest != "" {
		dp := l.p.target
		if e.kind == kindMock {
			dp = l.p.mock
		}
		b = dp.appendText(append(b, ' '), dest)
		whereLen += 1 + utf8.RuneCountInString(dest)
	}
	for ; whereLen < whereW; whereLen++ {
		b = append(b, ' ')
	}
	b = append(b, ' ')
	sp := l.p.status(status)
	b = append(b, sp.pre...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, sp.post...)
	b = append(b, ' ')
	dp := l.p.duration
	if e.duration >= slowAfter && !e.stream && !e.ws {
		dp = l.p.slow
	}
	b = padLeft(b, dur, 8)
	b = dp.appendBytes(b, dur)
	if len(size) > 0 {
		b = append(b, ' ')
		b = padLeft(b, size, 8)
		b = l.p.size.appendBytes(b, size)
	}
	if proto != "" {
		b = append(append(b, ' '), proto...)
	}
	if e.marks != "" {
		b = l.p.hint.appendText(append(b, ' '), sanitize(e.marks))
	}
	return append(b, '\n')
}

// hintLine adds the indented line that says what failed and what to try.
// On a terminal it wraps at the terminal's width, every line indented
// under the first one's text.
func (l *logger) hintLine(b []byte, what, hint string) []byte {
	if width := int(l.width.Load()); width > 0 {
		b = append(b, "         ↳"...)
		b, col := wrapText(b, l.p.err, what, hintIndent-1, hintIndent, width)
		if hint != "" {
			b = append(b, " —"...)
			b, _ = wrapText(b, l.p.hint, hint, col+2, hintIndent, width)
		}
		return append(b, '\n')
	}
	b = append(b, "         ↳ "...)
	b = l.p.err.appendText(b, what)
	if hint != "" {
		b = append(b, " — "...)
		b = l.p.hint.appendText(b, hint)
	}
	return append(b, '\n')
}

// wrapText appends the words of s in p's style, starting at column col
// right after a non-space, and breaks lines before width, indenting each
// new line by indent spaces. A word longer than a line is cut. The style
// is closed before every line break. It returns the column where s ended.
func wrapText(b []byte, p paint, s string, col, indent, width int) ([]byte, int) {
	room := max(width-indent, 8)
	open := false
	for _, line := range strings.Split(s, "\n") {
		for w := range strings.FieldsSeq(line) {
			for w != "" {
				n := utf8.RuneCountInString(w)
				part := w
				if n > room {
					part, n = string([]rune(w)[:room]), room
				}
				w = w[len(part):]
				if col+1+n > width && col > indent {
					if open {
						b = append(b, p.post...)
					}
					b = append(b, '\n')
					b = append(b, strings.Repeat(" ", indent)...)
					b = append(b, p.pre...)
					col, open = indent, true
				} else {
					b = append(b, ' ')
					if !open {
						b = append(b, p.pre...)
						open = true
					}
					col++
				}
				b = append(b, part...)
				col += n
			}
		}
	}
	if open {
		b = append(b, p.post...)
	}
	return b, col
}

// shortenSecrets shortens the query values that look like credentials (an
// HMR token, a signed URL's signature, an OAuth code): a terminal is
// shared on screens and in screenshots. The JSON log keeps them whole.
// Only a query that has one is copied.
func shortenSecrets(uri string) string {
	q := strings.IndexByte(uri, '?')
	if q < 0 || !hasSecret(uri[q+1:]) {
		return uri
	}
	var sb strings.Builder
	sb.WriteString(uri[:q+1])
	for i, pair := range strings.Split(uri[q+1:], "&") {
		if i > 0 {
			sb.WriteByte('&')
		}
		k, v, ok := strings.Cut(pair, "=")
		if ok && secretValue(k, v) {
			sb.WriteString(k + "=" + v[:4] + "…")
			continue
		}
		sb.WriteString(pair)
	}
	return sb.String()
}

func hasSecret(query string) bool {
	for pair := range strings.SplitSeq(query, "&") {
		if k, v, ok := strings.Cut(pair, "="); ok && secretValue(k, v) {
			return true
		}
	}
	return false
}

// secretValue reports whether the value v of query key k is worth hiding:
// longer than a few characters, and either named like a credential or
// long and random-looking (letters and digits mixed).
func secretValue(k, v string) bool {
	if len(v) <= 6 {
		return false
	}
	// The parts of a query key that name a credential.
	for _, w := range [...]string{"token", "key", "secret", "password", "passwd", "auth", "sig", "code", "session"} {
		if containsFold(k, w) {
			return true
		}
	}
	return randomLooking(v)
}

// containsFold is strings.Contains ignoring ASCII case, without a copy.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// randomLooking reports whether v is a long run of letters and digits
// mixed, as keys and hashes are; numbers (cache busters, timestamps) and
// words are not.
func randomLooking(v string) bool {
	if len(v) < 20 {
		return false
	}
	var letters, digits int
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		case c == '-' || c == '_' || c == '.' || c == '%':
		default:
			return false
		}
	}
	return digits >= 3 && letters >= 3
}

// pad appends spaces after s, already in b, up to width runes.
func pad(b []byte, s string, width int) []byte {
	for n := utf8.RuneCountInString(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

func padLeft(b, s []byte, width int) []byte {
	for n := utf8.RuneCount(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

// shorten cuts s in the middle to at most width runes, so that both the
// start of a path and its end (the file, the query) stay readable.
func shorten(s string, width int) string {
	n := utf8.RuneCountInString(s)
	if n <= width {
		return s
	}
	r := []rune(s)
	head := (width - 1) / 2
	tail := width - 1 - head
	return string(r[:head]) + "…" + string(r[n-tail:])
}

// info logs one message of devproxy's own.
func (l *logger) info(msg string) { l.message("info", l.p.good, msg, "") }

// warn logs a warning.
func (l *logger) warn(msg string) { l.message("warn", l.p.warning, "warning: "+msg, "") }

// fail logs an error of devproxy's own, with detail lines below it.
func (l *logger) fail(msg, detail string) { l.message("error", l.p.bad, msg, detail) }

func (l *logger) message(level string, p paint, msg, detail string) {
	if l.json {
		jl := jsonLine{Level: level, Msg: msg}
		if detail != "" {
			jl.Error = detail
		}
		l.jsonLine(jl)
		return
	}
	b := l.p.time.appendText(make([]byte, 0, 128), l.now().Format("15:04:05"))
	width := int(l.width.Load())
	if width > 0 {
		b, _ = wrapText(b, p, msg, 8, 9, width)
	} else {
		b = append(b, ' ')
		b = p.appendText(b, msg)
	}
	b = append(b, '\n')
	for _, d := range strings.Split(detail, "\n") {
		if d == "" {
			continue
		}
		if width > 0 {
			// A detail line's continuation lines start under its text:
			// under "write" of "  hint: write …".
			lead := len(d) - len(strings.TrimLeft(d, " "))
			indent := 9 + lead
			if strings.HasPrefix(d[lead:], "hint: ") {
				indent += len("hint: ")
			}
			b = append(b, strings.Repeat(" ", 8+lead)...)
			b, _ = wrapText(b, paint{}, d[lead:], 8+lead, indent, width)
		} else {
			b = append(append(b, "         "...), d...)
		}
		b = append(b, '\n')
	}
	l.out.write(b)
}

// jsonLine is one line of the -log json output. Empty fields are left out.
type jsonLine struct {
	Time       string  `json:"time"`
	Level      string  `json:"level"`
	Msg        string  `json:"msg"`
	Method     string  `json:"method,omitempty"`
	Path       string  `json:"path,omitempty"`
	Route      string  `json:"route,omitempty"`
	Site       string  `json:"site,omitempty"`
	Target     string  `json:"target,omitempty"`
	Status     int     `json:"status,omitempty"`
	DurationMS float64 `json:"duration_ms,omitempty"`
	Bytes      int64   `json:"bytes,omitempty"`
	BytesUp    int64   `json:"bytes_up,omitempty"`
	Error      string  `json:"error,omitempty"`
	Hint       string  `json:"hint,omitempty"`
	Count      int     `json:"count,omitempty"`
	URL        string  `json:"url,omitempty"`
	Config     string  `json:"config,omitempty"`
	Version    string  `json:"version,omitempty"`
	Up         *bool   `json:"up,omitempty"`
	// Inspector is the inspector's URL, Capture whether it captures (the
	// banner).
	Inspector string `json:"inspector,omitempty"`
	Capture   *bool  `json:"capture,omitempty"`
	// File to Message locate one config problem; Hint says its fix.
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message,omitempty"`
	// Source names the command a line of output came from (vite, /api).
	Source string `json:"source,omitempty"`
	Stream string `json:"stream,omitempty"`
	Proto  string `json:"proto,omitempty"`
	// Via names what answered in place of the route's target (a
	// fallback, replay); Marks are the words a text line ends with
	// ("recorded", "injected latency 312ms").
	Via   string `json:"via,omitempty"`
	Marks string `json:"marks,omitempty"`
}

// configError logs a config that was refused, under msg: in the JSON log,
// one record per problem with its position, field, message and hint, for
// tools and editors to point at; on the terminal, every problem under msg.
func (l *logger) configError(msg string, err error) {
	var list config.Errors
	var one *config.Error
	switch {
	case !l.json:
	case errors.As(err, &list):
		for _, ce := range list {
			l.jsonConfigError(msg, ce)
		}
		return
	case errors.As(err, &one):
		l.jsonConfigError(msg, one)
		return
	}
	l.fail(msg+":", err.Error())
}

func (l *logger) jsonConfigError(msg string, ce *config.Error) {
	l.jsonLine(jsonLine{Level: "error", Msg: msg, File: ce.File, Line: ce.Line, Column: ce.Col,
		Field: ce.Field, Message: ce.Msg, Hint: ce.Hint})
}

func (l *logger) jsonRequest(e *logEntry, msg string) {
	jl := jsonLine{
		Time: e.start.Format(time.RFC3339Nano), Level: "info", Msg: msg,
		Method: e.method, Path: e.uri, Route: e.route, Target: e.dest,
		Status: e.status, Bytes: e.bytes, Proto: e.proto, Via: e.via, Marks: e.marks,
		DurationMS: float64(e.duration.Microseconds()) / 1000,
	}
	if e.ws {
		jl.Status, jl.Bytes, jl.BytesUp = 101, e.wsDown, e.wsUp
	}
	switch {
	case e.err != nil || e.status >= 500:
		jl.Level = "error"
	case e.status >= 400 && e.status != StatusClientClosed:
		jl.Level = "warn"
	}
	if e.err != nil {
		jl.Error, jl.Hint = e.err.Err, e.err.Hint
	}
	if e.misroute != nil && e.err == nil {
		jl.Level, jl.Error, jl.Hint = "warn", e.misroute.Err, e.misroute.Hint
	}
	l.jsonLine(jl)
}

func (l *logger) jsonLine(jl jsonLine) {
	if jl.Time == "" {
		jl.Time = l.now().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(jl)
	if err != nil {
		return
	}
	l.out.write(append(b, '\n'))
}

// sanitize makes request-derived text safe to print: control characters
// and invalid UTF-8 are shown escaped, so a request can neither move the
// cursor nor forge a log line.
func sanitize(s string) string { return printable.Escape(s) }

func formatDuration(d time.Duration) string { return string(appendDuration(nil, d)) }

func formatBytes(n int64) string { return string(appendBytes(nil, n)) }

func appendDuration(b []byte, d time.Duration) []byte {
	switch {
	case d < time.Millisecond:
		return append(strconv.AppendInt(b, d.Microseconds(), 10), "µs"...)
	case d < time.Second:
		return append(strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 1, 64), "ms"...)
	default:
		return append(strconv.AppendFloat(b, d.Seconds(), 'f', 2, 64), 's')
	}
}

func appendBytes(b []byte, n int64) []byte {
	switch {
	case n < 1024:
		return append(strconv.AppendInt(b, n, 10), 'B')
	case n < 1024*1024:
		return append(strconv.AppendFloat(b, float64(n)/1024, 'f', 1, 64), "KiB"...)
	default:
		return append(strconv.AppendFloat(b, float64(n)/(1024*1024), 'f', 1, 64), "MiB"...)
	}
}

// lineWriter hands lines to a goroutine that writes them, so that a
// request never waits on a slow terminal. The goroutine writes at most
// every flushEvery, all the lines that came meanwhile in one write, which
// keeps the log's cost per request low under load. Before start and after
// close it writes directly. Nothing is dropped: past maxPending bytes a
// writer waits.
type lineWriter struct {
	w io.Writer

	mu      sync.Mutex
	ready   sync.Cond // signals the writer goroutine
	room    sync.Cond // signals writers waiting for room
	buf     []byte
	running bool
	closing bool
	closed  chan struct{} // closed by close, ends a wait between writes
	done    chan struct{}
}

const (
	maxPending = 1 << 20
	// flushEvery is the longest a line waits to be written: too short for
	// a person to notice, long enough to batch a burst.
	flushEvery = 10 * time.Millisecond
)

func newLineWriter(w io.Writer) *lineWriter {
	lw := &lineWriter{w: w}
	lw.ready.L, lw.room.L = &lw.mu, &lw.mu
	return lw
}

func (lw *lineWriter) write(b []byte) {
	lw.mu.Lock()
	for lw.running && len(lw.buf) > maxPending {
		lw.room.Wait()
	}
	if !lw.running {
		// Not started or closed: write in order, under the lock.
		_, _ = lw.w.Write(b)
		lw.mu.Unlock()
		return
	}
	wake := len(lw.buf) == 0
	lw.buf = append(lw.buf, b...)
	if wake {
		lw.ready.Signal()
	}
	lw.mu.Unlock()
}

// start begins writing in the background.
func (lw *lineWriter) start() {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.running {
		return
	}
	lw.running, lw.closing = true, false
	lw.closed = make(chan struct{})
	lw.done = make(chan struct{})
	go lw.loop()
}

func (lw *lineWriter) loop() {
	defer close(lw.done)
	var spare []byte
	pause := time.NewTimer(flushEvery)
	defer pause.Stop()
	for {
		lw.mu.Lock()
		for len(lw.buf) == 0 && !lw.closing {
			lw.ready.Wait()
		}
		if len(lw.buf) == 0 {
			lw.running = false
			lw.room.Broadcast()
			lw.mu.Unlock()
			return
		}
		out := lw.buf
		lw.buf = spare[:0]
		closing := lw.closing
		lw.room.Broadcast()
		lw.mu.Unlock()
		_, _ = lw.w.Write(out)
		spare = out
		if !closing {
			pause.Reset(flushEvery)
			select {
			case <-pause.C:
			case <-lw.closed:
			}
		}
	}
}

// close writes every pending line and returns to direct writes.
func (lw *lineWriter) close() {
	lw.mu.Lock()
	if !lw.running || lw.closing {
		lw.mu.Unlock()
		return
	}
	lw.closing = true
	close(lw.closed)
	lw.ready.Signal()
	done := lw.done
	lw.mu.Unlock()
	<-done
}
