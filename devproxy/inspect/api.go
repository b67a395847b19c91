package inspect

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/devproxy/devproxy/internal/web"
)

// DefaultPrefix is where the core mounts the inspector: devproxy's
// reserved prefix.
const DefaultPrefix = "/__devproxy"

//go:embed page
var pageFiles embed.FS

// HandlerOptions configure NewHandler. The zero value serves the page and
// API under DefaultPrefix with replay turned off.
type HandlerOptions struct {
	// Prefix is the path the handler is mounted at, without a final
	// slash; "" means DefaultPrefix ("/__devproxy"). The handler expects
	// the full path, prefix included.
	Prefix string
	// Replay serves replayed requests; it should be devproxy itself, so
	// a replay is routed, proxied and captured like any request (marked
	// as a replay). nil means replay answers 501.
	Replay http.Handler
	// Version is devproxy's version, for the HAR's creator; "" means
	// "dev".
	Version string
}

// siteKey marks the context of a request to one named site's inspector.
type siteKey struct{}

// ForSite returns r addressed to the inspector of the named site: every
// site is a separate origin, so its inspector lists, shows, replays,
// streams, exports, imports and clears only the exchanges whose
// Where.Site is site, and a replay stays on the exchange's host. A
// request not passed through ForSite is the top-level inspector's, which
// sees every site's exchanges.
func ForSite(r *http.Request, site string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), siteKey{}, site))
}

// scope is what one request to the inspector may see: one site's
// exchanges, or all of them.
type scope struct {
	site string
	all  bool
}

func scopeOf(r *http.Request) scope {
	site, ok := r.Context().Value(siteKey{}).(string)
	return scope{site: site, all: !ok}
}

func (sc scope) sees(v *View) bool { return sc.all || v.Where.Site == sc.site }

// handler serves the inspector's page and API.
type handler struct {
	ctx    context.Context
	store  *Store
	opts   HandlerOptions
	mux    *http.ServeMux
	static http.Handler
}

// NewHandler returns the inspector: the page at prefix/ and the JSON API
// under prefix/api/. Event streams end when ctx is done (devproxy's
// shutdown). Requests from another origin are refused; the handler sends
// no CORS headers. Its own requests are not captured: the core sends them
// here without calling Begin.
func NewHandler(ctx context.Context, s *Store, opts HandlerOptions) http.Handler {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if s == nil {
		// Capture is off: the page and API work and show nothing.
		s = New(Options{})
	}
	sub, err := fs.Sub(pageFiles, "page")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	h := &handler{ctx: ctx, store: s, opts: opts, mux: http.NewServeMux()}
	h.static = http.StripPrefix(opts.Prefix+"/", http.FileServerFS(sub))
	p := opts.Prefix
	h.mux.HandleFunc("GET "+p+"/{$}", h.page)
	h.mux.HandleFunc("GET "+p+"/app.js", h.page)
	h.mux.HandleFunc("GET "+p+"/app.css", h.page)
	h.mux.HandleFunc("GET "+p+"/api/requests", h.list)
	h.mux.HandleFunc("DELETE "+p+"/api/requests", h.clear)
	h.mux.HandleFunc("GET "+p+"/api/requests/{id}", h.detail)
	h.mux.HandleFunc("POST "+p+"/api/requests/{id}/replay", h.replay)
	h.mux.HandleFunc("GET "+p+"/api/events", h.events)
	h.mux.HandleFunc("GET "+p+"/api/har", h.harExport)
	h.mux.HandleFunc("POST "+p+"/api/har", h.harImport)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == h.opts.Prefix {
		http.Redirect(w, r, h.opts.Prefix+"/", http.StatusFound)
		return
	}
	// A navigation to the page may come from anywhere (a link in another
	// tab); everything it then loads, and every API call, must come
	// from the page itself.
	nav := r.Method == http.MethodGet && r.URL.Path == h.opts.Prefix+"/" && r.Header.Get("Sec-Fetch-Mode") == "navigate"
	if !nav {
		if why := crossSite(r); why != "" {
			writeError(w, http.StatusForbidden, why,
				"the inspector answers its own page only; open "+h.opts.Prefix+"/ on devproxy's address")
			return
		}
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// crossSite says why r does not come from the inspector's own origin, or
// "" when it does (or from a tool, which sends neither header).
func crossSite(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		if !web.IsRequestOrigin(r, o) {
			own, _ := web.RequestOrigin(r)
			return fmt.Sprintf("%s %s from origin %q refused: the inspector is same-origin only (%s)", r.Method, r.URL.Path, o, own)
		}
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Sprintf("%s %s refused: Sec-Fetch-Site is %q, the inspector is same-origin only", r.Method, r.URL.Path, site)
	}
	return ""
}

type errorJSON struct {
	Error string `json:"error"`
	Hint  string `json:"hint,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg, hint string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorJSON{Error: msg, Hint: hint})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy",
		"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	h.static.ServeHTTP(w, r)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	f := parseFilter(r.URL.Query())
	sc := scopeOf(r)
	out := []summary{}
	for _, ex := range h.store.Snapshot() {
		v := ex.Snapshot()
		if !sc.sees(&v) {
			continue
		}
		if s := summarize(&v); f.match(&s) {
			out = append(out, s)
		}
	}
	writeJSON(w, out)
}

func (h *handler) clear(w http.ResponseWriter, r *http.Request) {
	if sc := scopeOf(r); sc.all {
		h.store.Clear()
	} else {
		h.store.clearSite(sc.site)
	}
	w.WriteHeader(http.StatusNoContent)
}

// lookup finds the exchange named by the path's id, if r's scope sees
// it, or answers 404 (another site's exchange is not there for it).
func (h *handler) lookup(w http.ResponseWriter, r *http.Request) (View, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("request id %q is not a number", r.PathValue("id")), "ids are the numbers GET api/requests lists")
		return View{}, false
	}
	if ex := h.store.Get(id); ex != nil {
		if v := ex.Snapshot(); scopeOf(r).sees(&v) {
			return v, true
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no request %d", id), "it may have been dropped: the inspector keeps the latest requests only")
	return View{}, false
}

func (h *handler) detail(w http.ResponseWriter, r *http.Request) {
	if v, ok := h.lookup(w, r); ok {
		writeJSON(w, detailOf(&v))
	}
}

// replayEdit is the body of an edit-and-replay; a field left out keeps the
// request's own.
type replayEdit struct {
	Method     string       `json:"method"`
	URL        string       `json:"url"`
	Headers    *[][2]string `json:"headers"`
	Body       *string      `json:"body"`
	BodyBase64 *string      `json:"bodyBase64"`
}

type replayResult struct {
	ID     uint64 `json:"id"`
	Status int    `json:"status"`
}

func (h *handler) replay(w http.ResponseWriter, r *http.Request) {
	v, ok := h.lookup(w, r)
	if !ok {
		return
	}
	if h.opts.Replay == nil {
		writeError(w, http.StatusNotImplemented, "replay is not available", "")
		return
	}
	var edit replayEdit
	if b, err := io.ReadAll(io.LimitReader(r.Body, h.store.opts.MaxBody*2+1<<16)); err != nil {
		writeError(w, http.StatusBadRequest, "read replay body: "+err.Error(), "")
		return
	} else if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &edit); err != nil {
			writeError(w, http.StatusBadRequest, "replay: the edit is not valid JSON: "+err.Error(),
				`send {"method":"POST","url":"/api/x","headers":[["Content-Type","application/json"]],"body":"{}"} or nothing`)
			return
		}
	}
	req, msg, hint := buildReplay(r, &v, &edit)
	if req == nil {
		writeError(w, http.StatusBadRequest, msg, hint)
		return
	}
	if orig, err := url.Parse(v.URL); err == nil && !scopeOf(r).all && !strings.EqualFold(req.Host, orig.Host) {
		// A site's page must not reach another site through replay,
		// past that site's cross-site guards.
		writeError(w, http.StatusForbidden, fmt.Sprintf("replay: %q is not this site's host %q", req.Host, orig.Host),
			"a site's inspector replays to its own site; replay from the inspector on localhost to send elsewhere")
		return
	}
	ctx, mark := withReplay(r.Context(), v.ID)
	req = req.WithContext(ctx)
	rw := &replayWriter{header: http.Header{}}
	h.opts.Replay.ServeHTTP(rw, req)
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	writeJSON(w, replayResult{ID: mark.newID.Load(), Status: rw.status})
}

// buildReplay makes the request to send again, or says why it cannot.
func buildReplay(api *http.Request, v *View, edit *replayEdit) (*http.Request, string, string) {
	if v.WebSocket {
		return nil, "a WebSocket cannot be replayed", "open a new socket from the page"
	}
	method := v.Method
	if edit.Method != "" {
		if !web.IsToken(edit.Method) {
			return nil, fmt.Sprintf("replay: method %q is not valid", edit.Method), "write GET, POST, PUT, …"
		}
		method = edit.Method
	}
	orig, err := url.Parse(v.URL)
	if err != nil {
		return nil, fmt.Sprintf("replay: the request's URL %q does not parse", v.URL), ""
	}
	u := orig
	if edit.URL != "" {
		if u, err = orig.Parse(edit.URL); err != nil {
			return nil, fmt.Sprintf("replay: url %q does not parse: %v", edit.URL, err), `write a path like "/api/items?x=1" or a full URL`
		}
	}
	header := v.RequestHeader.Clone()
	if header == nil {
		header = http.Header{}
	}
	if edit.Headers != nil {
		header = http.Header{}
		for _, kv := range *edit.Headers {
			if !web.IsToken(kv[0]) {
				return nil, fmt.Sprintf("replay: header name %q is not valid", kv[0]), "a header name is letters, digits and -"
			}
			header.Add(kv[0], kv[1])
		}
	}
	body := v.RequestBody.Data
	edited := false
	switch {
	case edit.BodyBase64 != nil:
		if body, err = base64.StdEncoding.DecodeString(*edit.BodyBase64); err != nil {
			return nil, "replay: bodyBase64 is not base64: " + err.Error(), ""
		}
		edited = true
	case edit.Body != nil:
		body, edited = []byte(*edit.Body), true
	case v.RequestBody.Truncated:
		return nil, fmt.Sprintf("replay: the request body was %d bytes and only %d were kept", v.RequestBody.Size, len(v.RequestBody.Data)),
			"edit and replay with a body of your own"
	}
	if edited || edit.Headers != nil {
		header.Del("Content-Length")
	}
	req, err := http.NewRequestWithContext(api.Context(), method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, "replay: " + err.Error(), "check the method and URL"
	}
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.Header = header
	req.Host = u.Host
	req.RequestURI = u.RequestURI()
	req.RemoteAddr = api.RemoteAddr
	req.TLS = api.TLS
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	return req, "", ""
}

// replayWriter takes the response of a replay: the capture keeps it, the
// API caller gets the new entry's id.
type replayWriter struct {
	header http.Header
	status int
}

func (rw *replayWriter) Header() http.Header { return rw.header }
func (rw *replayWriter) WriteHeader(code int) {
	if rw.status == 0 && code >= 200 {
		rw.status = code
	}
}
func (rw *replayWriter) Write(p []byte) (int, error) {
	rw.WriteHeader(http.StatusOK)
	return len(p), nil
}
func (rw *replayWriter) Flush() {}

// events streams what happens to the list as server-sent events: "new",
// "update" and "done" with the entry's summary (and "match": whether it
// passes the stream's filter, the same query as api/requests), "clear",
// and "reset" when the reader fell behind and must reload the list.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	f := parseFilter(r.URL.Query())
	sc := scopeOf(r)
	sub := h.store.subscribe()
	defer h.store.unsubscribe(sub)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 1000\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-h.ctx.Done():
			return
		case <-r.Context().Done():
			return
		case <-sub.lost:
			_, _ = io.WriteString(w, "event: reset\ndata: {}\n\n")
			_ = rc.Flush()
			return
		case <-ping.C:
			_, err = io.WriteString(w, ": ping\n\n")
		case ev := <-sub.ch:
			err = h.writeEvent(w, ev, &f, sc)
		}
		if err != nil || rc.Flush() != nil {
			return
		}
	}
}

type eventJSON struct {
	summary
	Match bool `json:"match"`
}

func (h *handler) writeEvent(w io.Writer, ev event, f *filter, sc scope) error {
	if ev.typ == eventClear {
		switch {
		case !ev.siteOnly || (!sc.all && ev.site == sc.site):
			_, err := io.WriteString(w, "event: clear\ndata: {}\n\n")
			return err
		case sc.all:
			// One site's exchanges went: the list reloads.
			_, err := io.WriteString(w, "event: reset\ndata: {}\n\n")
			return err
		}
		return nil
	}
	ex := h.store.Get(ev.id)
	if ex == nil {
		return nil
	}
	v := ex.Snapshot()
	if !sc.sees(&v) {
		return nil
	}
	s := summarize(&v)
	b, err := json.Marshal(eventJSON{summary: s, Match: f.match(&s)})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.typ, b)
	return err
}

func (h *handler) harExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := parseFilter(q)
	secrets := q.Get("secrets") == "1"
	sc := scopeOf(r)
	var views []View
	list := h.store.Snapshot()
	for i := len(list) - 1; i >= 0; i-- { // HAR lists oldest first
		v := list[i].Snapshot()
		if !sc.sees(&v) {
			continue
		}
		if s := summarize(&v); f.match(&s) {
			views = append(views, v)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="devproxy-`+time.Now().UTC().Format("20060102-150405")+`.har"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(buildHAR(views, h.opts.Version, secrets))
}

func (h *handler) harImport(w http.ResponseWriter, r *http.Request) {
	limit := h.store.opts.Budget * 2
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("import HAR: larger than %d bytes", limit), "export fewer entries")
		return
	} else if err != nil {
		writeError(w, http.StatusBadRequest, "import HAR: "+err.Error(), "")
		return
	}
	n, err := importHAR(h.store, b, scopeOf(r).site)
	if err != nil {
		writeError(w, http.StatusBadRequest, "import HAR: "+err.Error(), "a HAR 1.2 file as browsers and devproxy export it")
		return
	}
	writeJSON(w, map[string]int{"imported": n})
}
