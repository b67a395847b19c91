package devproxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/devproxy/devproxy/devproxy/runner"
	"github.com/devproxy/devproxy/internal/neterr"
	"github.com/devproxy/devproxy/internal/status"
)

// StatusClientClosed is logged, never sent, when the client went away before
// the response was complete (nginx's 499).
const StatusClientClosed = 499

// proxyError is a failure devproxy answers for itself: what happened to
// which request on which route, and what to try. The same words go to the
// log, to the HTML page a browser sees and to the JSON a fetch gets.
type proxyError struct {
	Status int    `json:"-"`
	Err    string `json:"error"`
	Route  string `json:"route,omitempty"`
	Target string `json:"target,omitempty"`
	Hint   string `json:"hint,omitempty"`
	// File is the recording a replay looked for or could not read; ""
	// for other failures.
	File string `json:"file,omitempty"`
	// Waiting marks a frontend dev server that is not up yet; a browser
	// navigation gets a page that reloads itself once it answers.
	Waiting bool `json:"-"`
	// Header holds headers the answer needs besides devproxy's own, such
	// as Allow on a 405; nil adds none.
	Header http.Header `json:"-"`
	// Routes, when not nil, lists the config's routes in the answer (a
	// request that nothing serves when there is no frontend).
	Routes []statusRoute `json:"routes,omitempty"`
	// Sites, when not nil, lists the config's sites (a Host that names
	// none of them).
	Sites []statusSite `json:"sites,omitempty"`
	// Command is the command devproxy runs for the target, when it is
	// starting or has exited; Output holds its last lines.
	Command string   `json:"command,omitempty"`
	Output  []string `json:"output,omitempty"`
}

// field names the config key a hint tells the user to change.
func (u *upstream) field() string {
	if u.key != "" {
		return u.key
	}
	f := "routes." + u.name + ".target"
	if u.frontend {
		f = "frontend"
	}
	return siteField(u.site, f)
}

// classify turns a transport error into words a person can act on.
func (u *upstream) classify(err error, timeout string) *proxyError {
	pe := &proxyError{Status: http.StatusBadGateway, Route: u.name, Target: u.target.String()}
	running := "is the API running? start it, or fix " + u.field() + " in the config"
	if u.frontend {
		running = "is the dev server running? start it (npm run dev), or fix frontend in the config"
	}
	reason := neterr.Classify(err)
	if u.cmd != nil && (reason.Kind == neterr.Refused || reason.Kind == neterr.Dial || reason.Kind == neterr.DialTimeout || reason.Kind == neterr.Closed) {
		if cpe := u.commandError(pe); cpe != nil {
			return cpe
		}
	}
	switch {
	case reason.Kind == neterr.DNS:
		pe.Err = reason.Phrase
		pe.Hint = "check the host name in " + u.field() + ", or add it to /etc/hosts"
	case reason.Kind == neterr.Untrusted:
		pe.Err = reason.Phrase
		pe.Hint = "set insecure: true for this route to accept a self-signed certificate"
		if u.frontend {
			pe.Hint = "use the dev server's http:// address as frontend, or trust its certificate"
		}
	case reason.Kind == neterr.NotTLS:
		pe.Err = "the target does not speak TLS on " + u.hostport
		pe.Hint = "write http:// instead of https:// in " + u.field()
	case reason.Kind == neterr.Refused:
		where := u.hostport
		var lbErr *loopbackDialError
		if errors.As(err, &lbErr) {
			where = lbErr.addrs()
		}
		pe.Err = "connection refused: nothing listens on " + where
		pe.Hint = running
		pe.Waiting = u.frontend
	case reason.Kind == neterr.DialTimeout:
		pe.Err = fmt.Sprintf("connecting to %s timed out after %s", u.hostport, dialTimeout)
		pe.Hint = "is the host up and the port open? check " + u.field()
		pe.Waiting = u.frontend
	case reason.Kind == neterr.Dial:
		pe.Err = "cannot connect to " + u.hostport + ": " + reason.Phrase
		pe.Hint = running
		pe.Waiting = u.frontend
	case reason.Kind == neterr.Timeout:
		pe.Status = http.StatusGatewayTimeout
		pe.Err = "no response headers within " + timeout
		pe.Hint = "the target is slow or stuck; raise timeout for this route if that is expected"
	case errors.Is(err, errHeadersTooLarge):
		pe.Err = err.Error()
		pe.Hint = "the target sends oversized headers (a cookie that grows on every request?); check its code"
	case reason.Kind == neterr.NotHTTP:
		pe.Err = "the target does not speak HTTP on " + u.hostport
		pe.Hint = "is " + u.hostport + " an HTTP server? fix " + u.field() + " to the port your server prints"
	case reason.Kind == neterr.Closed:
		pe.Err = "the target closed the connection without a response"
		pe.Hint = "check the target's own log: it may have crashed, or the port may not be an HTTP server"
	case isBadResponse(err):
		pe.Err = "the target sent an invalid HTTP response: " + excerpt(strings.TrimPrefix(err.Error(), transportBroken), maxExcerpt)
		pe.Hint = u.hostport + " is not speaking HTTP correctly: is it an HTTP server? check its code, or fix " + u.field()
	default:
		pe.Err = "request to the target failed: " + err.Error()
		pe.Hint = "check that " + u.target.String() + " is up and answers HTTP"
	}
	return pe
}

// commandError words the failure to reach a target whose command is
// starting, running or has exited. A running command whose server refuses
// or drops a connection is taken as restarting (Vite and Next restart their
// server after a first dependency scan or a config edit): the request gets
// the same 503 and waiting page as during start-up, not a 502 that blames
// the target.
func (u *upstream) commandError(pe *proxyError) *proxyError {
	sv := u.cmd
	st := sv.rc.Status()
	pe.Command = commandText(sv.rc.Plan())
	pe.Output = lastTexts(sv.rc.Lines(), exitLines)
	switch st.State {
	case runner.Idle, runner.Starting:
		pe.Status = http.StatusServiceUnavailable
		pe.Err = fmt.Sprintf("%s is still starting: nothing listens on %s yet", pe.Command, u.hostport)
		pe.Hint = "wait a moment and try again; devproxy's log shows the command's output"
		pe.Waiting = true
		pe.Header = http.Header{"Retry-After": {"1"}}
		return pe
	case runner.Exited:
		ex := "exited"
		if st.Exit != nil {
			ex = st.Exit.String()
			pe.Output = lastTexts(st.Exit.Lines, exitLines)
		}
		pe.Err = fmt.Sprintf("%s %s", pe.Command, ex)
		pe.Hint = "fix the error it printed and save the config to start it again (or press r)"
		if len(pe.Output) > 0 {
			pe.Hint += "; its last line: " + pe.Output[len(pe.Output)-1]
		}
		return pe
	}
	pe.Status = http.StatusServiceUnavailable
	pe.Err = fmt.Sprintf("%s is running, but nothing answers on %s right now: it may be restarting", pe.Command, u.hostport)
	pe.Hint = "wait a moment and try again; devproxy's log shows the command's output"
	pe.Waiting = true
	pe.Header = http.Header{"Retry-After": {"1"}}
	return pe
}

// transportBroken is how http.Transport prefixes the errors of a response
// it could not read.
const transportBroken = "net/http: HTTP/1.x transport connection broken: "

// isBadResponse reports whether err says the target answered with
// something that is not valid HTTP.
func isBadResponse(err error) bool {
	var bre *badResponseError
	if errors.As(err, &bre) {
		return true
	}
	// The words net/http's errors use for a response that breaks HTTP's
	// syntax or framing; net/http exports no types for them.
	words := [...]string{
		"malformed HTTP", "bad status", "malformed MIME header", "bad Content-Length",
		"multiple Content-Length", "transfer encoding", "invalid Trailer", "bad trailer key", "malformed chunked",
	}
	msg := err.Error()
	for _, w := range words {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// maxExcerpt is how much of a target's bytes a failure quotes: enough to
// recognise them, never someone else's whole page.
const maxExcerpt = 160

// excerpt returns s cut to at most max bytes, at a character boundary and
// marked with "…", with control characters and invalid UTF-8 escaped.
func excerpt(s string, max int) string {
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return sanitize(s)
}

// errorHandler answers a failed upstream request.
func (u *upstream) errorHandler(w http.ResponseWriter, r *http.Request, c *proxyCall, err error) {
	o := c.o
	if r.Context().Err() != nil {
		// The client went away: nobody is left to answer.
		o.clientClosed()
		return
	}
	if b, ok := r.Body.(*clientBody); ok && b.failed() != nil {
		// r is the outgoing request: its body is the client's, which
		// broke off in nonsense (a malformed chunk), not the target.
		writeProxyError(w, r, o, &proxyError{Status: http.StatusBadRequest, Route: u.name,
			Err:  "the request body is malformed: " + b.failed().Error(),
			Hint: "the client sent a broken body; check the code that makes this request"})
		return
	}
	if errors.Is(err, errLoop) {
		writeProxyError(w, r, o, u.loopDetected())
		return
	}
	pe := u.classify(err, u.timeout.String())
	if c.answerDown(w, err, pe) {
		return
	}
	if c.prior != nil {
		pe = u.after(c.prior, pe)
	}
	writeProxyError(w, r, o, pe)
}

// writeProxyError is the one writer of every answer devproxy makes for
// itself rather than relays: proxy failures, refusals, static 404s, method
// errors, devproxy's own endpoints. A browser page load gets an HTML page,
// a subresource or a client asking for text/plain gets plain text, and
// anything else (fetch, tools) gets JSON; all say the same words, carry
// X-Devproxy-Error: 1 and are never cached. pe is recorded in o for the
// log.
func writeProxyError(w http.ResponseWriter, r *http.Request, o *outcome, pe *proxyError) {
	o.fail(pe)
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	for k, v := range pe.Header {
		h[k] = v
	}
	h.Set("X-Devproxy-Error", "1")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	var body []byte
	switch answerFormatOf(r) {
	case answerHTML:
		h.Set("Content-Type", "text/html; charset=utf-8")
		var buf bytes.Buffer
		_ = errorPage.Execute(&buf, pe)
		body = buf.Bytes()
	case answerText:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		body = pe.text()
	default:
		h.Set("Content-Type", "application/json")
		b, _ := json.Marshal(pe)
		body = append(b, '\n')
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(pe.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// text is pe as plain text: the status and what happened, then where and
// what to try, one per line.
func (pe *proxyError) text() []byte {
	b := fmt.Appendf(nil, "%d %s: %s\n", pe.Status, http.StatusText(pe.Status), pe.Err)
	if pe.Route != "" {
		b = fmt.Appendf(b, "route: %s", pe.Route)
		if pe.Target != "" {
			b = fmt.Appendf(b, " → %s", pe.Target)
		}
		b = append(b, '\n')
	}
	if pe.Hint != "" {
		b = fmt.Appendf(b, "hint: %s\n", pe.Hint)
	}
	for _, rt := range pe.Routes {
		dest := rt.Target
		if rt.Respond {
			dest = kindMock.String()
		}
		b = fmt.Appendf(b, "  %s → %s\n", rt.Path, dest)
	}
	for _, st := range pe.Sites {
		where := st.URL
		if where == "" {
			where = st.Name
		}
		b = fmt.Appendf(b, "  %s → %s\n", where, orNone(st.Frontend))
	}
	return b
}

// answerFormat is the form of an answer devproxy writes itself.
type answerFormat int

const (
	answerJSON answerFormat = iota
	answerHTML
	answerText
)

// answerFormatOf picks the form r can use: HTML for a page load, plain
// text for a subresource (a script, style or image, whose body only a
// person reads in the browser's network panel) or a client that asks for
// text/plain first, JSON for fetch and everything else.
func answerFormatOf(r *http.Request) answerFormat {
	if wantsHTML(r) {
		return answerHTML
	}
	switch headerGet(r.Header, "Sec-Fetch-Dest") {
	case "", "empty", "document":
	default:
		return answerText
	}
	accept := headerGet(r.Header, "Accept")
	first, _, _ := strings.Cut(accept, ",")
	if mt, _, err := mime.ParseMediaType(strings.TrimSpace(first)); err == nil && mt == "text/plain" {
		return answerText
	}
	return answerJSON
}

// wantsHTML reports whether r is a browser page load: a navigation, or a
// request that accepts text/html. It decides the form of devproxy's own
// answers, which requests count as page loads in the log, and (with
// isNavigation) the SPA fallback.
func wantsHTML(r *http.Request) bool {
	if headerGet(r.Header, "Sec-Fetch-Mode") == "navigate" {
		return true
	}
	for _, v := range r.Header.Values("Accept") {
		if !strings.Contains(v, "text/html") {
			continue
		}
		for part := range strings.SplitSeq(v, ",") {
			mediatype, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mediatype != "text/html" {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Status}} · devproxy</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}
.hint{border-left:4px solid #e8a400;padding:.5rem 1rem;background:#fff8e6}
small{color:#777}td,th{padding:.2rem 1rem .2rem 0;text-align:left}
</style></head><body>
{{if .Waiting}}<h1>Waiting for {{if .Command}}<code>{{.Command}}</code>{{else}}the frontend dev server{{end}} at <code>{{.Target}}</code>…</h1>
<p>{{.Err}}.</p>
{{if .Output}}<pre>{{range .Output}}{{.}}
{{end}}</pre>{{end}}
<p class="hint">{{.Hint}}. This page reloads itself as soon as the dev server answers.</p>
<script>
// devproxy's frontend endpoint answers 200 whether the dev server is up
// or not, so waiting logs no failed request in the console.
(function poll(){
  fetch("` + status.FrontendPath + `", {cache: "no-store"})
    .then(function(r){ return r.json(); })
    .then(function(st){ if (st.up) { location.reload(); } else { setTimeout(poll, 500); } })
    .catch(function(){ setTimeout(poll, 1000); });
})();
</script>
{{else}}<h1>{{.Status}}: {{.Err}}</h1>
{{if .Route}}<p>Route <code>{{.Route}}</code>{{if .Target}} → <code>{{.Target}}</code>{{end}}</p>{{end}}
{{if .Hint}}<p class="hint">{{.Hint}}</p>{{end}}
{{if .Output}}<p>The last lines of <code>{{.Command}}</code>:</p><pre>{{range .Output}}{{.}}
{{end}}</pre>{{end}}
{{if .Routes}}<table><tr><th>path</th><th>goes to</th></tr>
{{range .Routes}}<tr><td><a href="{{.Path}}"><code>{{.Path}}</code></a></td><td>{{if .Respond}}mock{{else}}<code>{{.Target}}</code>{{end}}</td></tr>
{{end}}</table>{{end}}
{{if .Sites}}<table><tr><th>site</th><th>frontend</th></tr>
{{range .Sites}}<tr><td>{{if .URL}}<a href="{{.URL}}"><code>{{.Name}}</code></a>{{else}}<code>{{.Name}}</code>{{end}}</td><td><code>{{.Frontend}}</code></td></tr>
{{end}}</table>{{end}}
{{end}}<p><small>This page was made by devproxy, not by your app.</small></p>
</body></html>
`))
