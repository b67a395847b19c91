package devproxy

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"

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
	whereWidth  = 30
	// fixedWidth is everything but the path: time, method, arrow, where,
	// status, duration, size and the spaces between them.
	fixedWidth   = 8 + 1 + methodWidth + 1 + 1 + 2 + whereWidth + 1 + 3 + 1 + 8 + 1 + 8
	minPathWidth = 16
	// plainPathWidth is the column paths are padded to; on a terminal too
	// narrow for it, less. Longer paths are printed whole, or shortened
	// to fit a terminal.
	plainPathWidth = 40
	// slowAfter marks a response as slow in the log.
	slowAfter = time.Second
	// repeatEvery is how often a failure that keeps repeating on one route
	// gets a line with its count.
	repeatEvery = 5 * time.Second
)

// logger writes the request log and devproxy's own messages. Lines are
// built without locks and handed to a writer that never makes a request
// wait on the terminal.
type logger struct {
	out     *lineWriter
	p       *paints
	json    bool
	verbose bool
	// width is the terminal's width; 0 when the output is not a terminal.
	width int
	now   func() time.Time

	mu      sync.Mutex
	repeats map[string]*repeat // by route
}

// repeat counts a failure that keeps happening on one route.
type repeat struct {
	err       string
	count     int
	lastPrint time.Time
}

func newLogger(w io.Writer, p *paints, jsonFormat, verbose bool, width int, now func() time.Time) *logger {
	if w == nil {
		w = io.Discard
	}
	if p == nil {
		p = &paints{}
	}
	return &logger{
		out: newLineWriter(w), p: p, json: jsonFormat, verbose: verbose, width: width, now: now,
		repeats: map[string]*repeat{},
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
}

// quiet reports whether e is a successful frontend asset request, hidden
// unless the log is verbose.
func (l *logger) quiet(e *logEntry) bool {
	return !l.verbose && !e.showAll && (e.kind == kindFrontend || e.kind == kindStatic) &&
		!e.navigation && !e.ws && e.err == nil && e.status < 400
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
// the route's outcome changes or every few seconds. It reports whether e
// was counted rather than logged.
func (l *logger) collapse(e *logEntry) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.repeats[e.route]
	failed := e.err != nil && e.status >= 500
	if r != nil && failed && r.err == e.err.Err {
		r.count++
		if now := l.now(); now.Sub(r.lastPrint) >= repeatEvery {
			l.writeRepeat(e.route, r)
			r.count, r.lastPrint = 0, now
		}
		return true
	}
	if r != nil {
		if r.count > 0 {
			l.writeRepeat(e.route, r)
		}
		delete(l.repeats, e.route)
	}
	if failed {
		l.repeats[e.route] = &repeat{err: e.err.Err, lastPrint: l.now()}
	}
	return false
}

// writeRepeat logs how many times a failure repeated; l.mu is held.
func (l *logger) writeRepeat(route string, r *repeat) {
	msg := strconv.Itoa(r.count) + " more " + plural(r.count, "time", "times") + " on " + route + ": " + r.err
	if l.json {
		l.jsonLine(jsonLine{Level: "error", Msg: "repeated failure", Route: route, Error: r.err, Count: r.count})
		return
	}
	b := append(make([]byte, 0, 128), "         ↳ "...)
	b = l.p.err.appendText(b, msg)
	l.out.write(append(b, '\n'))
}

// flushRepeats logs the counts not yet said, at shutdown.
func (l *logger) flushRepeats() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for route, r := range l.repeats {
		if r.count > 0 {
			l.writeRepeat(route, r)
		}
		delete(l.repeats, route)
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

	path := sanitize(e.uri)
	pathWidth := plainPathWidth
	if l.width > 0 {
		// Paths are padded to a readable column and shortened only when
		// the terminal has no room for them.
		room := max(l.width-fixedWidth, minPathWidth)
		path = shorten(path, room)
		pathWidth = min(pathWidth, room)
	}
	b = pad(l.p.path.appendText(b, path), path, pathWidth)
	b = append(b, " → "...)

	where, dest := e.route, e.dest
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
	for ; whereLen < whereWidth; whereLen++ {
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
	return append(b, '\n')
}

// hintLine adds the indented line that says what failed and what to try.
func (l *logger) hintLine(b []byte, what, hint string) []byte {
	b = append(b, "         ↳ "...)
	b = l.p.err.appendText(b, what)
	if hint != "" {
		b = append(b, " — "...)
		b = l.p.hint.appendText(b, hint)
	}
	return append(b, '\n')
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
	b = append(b, ' ')
	b = p.appendText(b, msg)
	b = append(b, '\n')
	for _, d := range strings.Split(detail, "\n") {
		if d != "" {
			b = append(append(b, "         "...), d...)
			b = append(b, '\n')
		}
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
}

func (l *logger) jsonRequest(e *logEntry, msg string) {
	jl := jsonLine{
		Time: e.start.Format(time.RFC3339Nano), Level: "info", Msg: msg,
		Method: e.method, Path: e.uri, Route: e.route, Target: e.dest,
		Status: e.status, Bytes: e.bytes,
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
