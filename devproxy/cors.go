package devproxy

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/web"
)

// corsHandler puts a route in cors mode: it answers preflights itself and
// gives every response the Access-Control-* headers of the route's cors
// block, replacing any the target sent, so that a page on a listed origin
// may call the route and a page on any other origin may not.
type corsHandler struct {
	c     *config.CORS
	route string
	// where names the config line to change, e.g.
	// "routes./api.cors.origins (devproxy.yaml line 7)".
	where string
	next  handler
	logf  func(format string, args ...any)
	// origins are c.Origins, canonical.
	origins map[string]bool
	// reported holds the refusals already logged, so that a page polling
	// the route costs one log line, not one per request.
	reported sync.Map
}

func newCORSHandler(c *config.CORS, route, file string, next handler, logf func(string, ...any)) *corsHandler {
	where := "routes." + route + ".cors.origins"
	if c.Line > 0 {
		where += fmt.Sprintf(" (%s line %d)", file, c.Line)
	}
	origins := make(map[string]bool, len(c.Origins))
	for _, o := range c.Origins {
		if co, ok := web.CanonicalOrigin(o); ok {
			origins[co] = true
		}
	}
	return &corsHandler{c: c, route: route, where: where, next: next, logf: logf, origins: origins}
}

func (h *corsHandler) serve(w http.ResponseWriter, r *http.Request, o *outcome) {
	origin := headerGet(r.Header, "Origin")
	switch {
	case origin == "":
		// Not a cross-origin call; the response still varies by Origin,
		// or a cache could hand it to a page that needs CORS headers.
		h.wrap(w, r, o, addVaryOrigin)
	case h.allows(origin):
		if r.Method == http.MethodOptions && headerGet(r.Header, "Access-Control-Request-Method") != "" {
			h.preflight(w, r, origin)
			return
		}
		h.wrap(w, r, o, func(hd http.Header) { h.allow(hd, origin) })
	case web.IsRequestOrigin(r, origin):
		// A page served by devproxy itself: same origin, no CORS.
		h.wrap(w, r, o, addVaryOrigin)
	default:
		h.report(origin, "", fmt.Sprintf("%s: refused the cross-origin call from %s: it is not in %s — add it there to allow it",
			h.route, sanitize(origin), h.where))
		if r.Method == http.MethodOptions && headerGet(r.Header, "Access-Control-Request-Method") != "" {
			writeProxyError(w, r, o, &proxyError{
				Status: http.StatusForbidden,
				Err:    "origin " + sanitize(origin) + " may not call " + h.route + " (cors mode)",
				Route:  h.route,
				Hint:   "if that page is yours, add its origin to " + h.where,
				Header: http.Header{"Vary": {"Origin"}},
			})
			return
		}
		h.wrap(w, r, o, func(hd http.Header) {
			deleteCORSHeaders(hd)
			addVaryOrigin(hd)
		})
	}
}

// wrap runs the route's handler with set applied to the response headers
// just before they are written. The handler records its failures in the
// request's own outcome, whatever writer it writes to.
func (h *corsHandler) wrap(w http.ResponseWriter, r *http.Request, o *outcome, set func(http.Header)) {
	h.next.serve(&corsWriter{ResponseWriter: w, set: set}, r, o)
}

// allows reports whether origin is listed in the cors block, compared by
// scheme, host and port as the browser compares them.
func (h *corsHandler) allows(origin string) bool {
	o, ok := web.CanonicalOrigin(origin)
	return ok && h.origins[o]
}

// preflight answers a preflight from an allowed origin. A method or header
// the cors block does not list is left out of the answer, so that the
// browser reports exactly which one, and the log says where to add it.
func (h *corsHandler) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	method := headerGet(r.Header, "Access-Control-Request-Method")
	asked := web.SplitList(r.Header.Values("Access-Control-Request-Headers"))
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", origin)
	if h.c.Credentials {
		hd.Set("Access-Control-Allow-Credentials", "true")
	}
	methods := h.c.Methods
	if methods == nil {
		methods = []string{method}
	} else if !slices.Contains(methods, method) && !web.CORSSafelistedMethod(method) {
		h.report(origin, "method "+method, fmt.Sprintf("%s: refused the %s preflight from %s: %s is not in routes.%s.cors.methods — add it there to allow it",
			h.route, sanitize(method), sanitize(origin), sanitize(method), h.route))
	}
	hd.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
	headers := h.c.Headers
	if headers == nil {
		headers = asked
	} else {
		for _, name := range asked {
			if !slices.ContainsFunc(headers, func(s string) bool { return strings.EqualFold(s, name) }) {
				h.report(origin, "header "+strings.ToLower(name), fmt.Sprintf("%s: refused the preflight from %s: header %s is not in routes.%s.cors.headers — add it there to allow it",
					h.route, sanitize(origin), sanitize(name), h.route))
			}
		}
	}
	if len(headers) > 0 {
		hd.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	}
	hd.Set("Access-Control-Max-Age", strconv.Itoa(int(h.c.MaxAge.Seconds())))
	hd.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}

// allow replaces the CORS headers of a response to an allowed origin.
func (h *corsHandler) allow(hd http.Header, origin string) {
	deleteCORSHeaders(hd)
	hd.Set("Access-Control-Allow-Origin", origin)
	if h.c.Credentials {
		hd.Set("Access-Control-Allow-Credentials", "true")
	}
	expose := h.c.Expose
	if expose == nil {
		for name := range hd {
			if !corsSafelistedResponseHeader(name) {
				expose = append(expose, name)
			}
		}
		slices.Sort(expose)
	}
	if len(expose) > 0 {
		hd.Set("Access-Control-Expose-Headers", strings.Join(expose, ", "))
	}
	addVaryOrigin(hd)
}

// report logs msg once per origin and subject.
func (h *corsHandler) report(origin, subject, msg string) {
	if _, seen := h.reported.LoadOrStore(origin+"\x00"+subject, true); !seen {
		h.logf("%s", msg)
	}
}

// deleteCORSHeaders removes the CORS headers a target sent, so that the
// browser never sees two Access-Control-Allow-Origin values.
func deleteCORSHeaders(hd http.Header) {
	for name := range hd {
		if strings.HasPrefix(name, "Access-Control-") {
			delete(hd, name)
		}
	}
}

func addVaryOrigin(hd http.Header) {
	for _, v := range web.SplitList(hd.Values("Vary")) {
		if v == "*" || strings.EqualFold(v, "Origin") {
			return
		}
	}
	hd.Add("Vary", "Origin")
}

// corsSafelistedResponseHeader reports whether listing the response header
// name in Access-Control-Expose-Headers is pointless: a page may read it
// anyway, may never read it (Set-Cookie), or it is a CORS header itself.
func corsSafelistedResponseHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Cache-Control", "Content-Language", "Content-Length", "Content-Type", "Expires",
		"Last-Modified", "Pragma", "Set-Cookie", "Set-Cookie2", "Vary":
		return true
	}
	return strings.HasPrefix(http.CanonicalHeaderKey(name), "Access-Control-")
}

// corsWriter calls set on the response headers just before they are
// written, after the target's headers have been copied in.
type corsWriter struct {
	http.ResponseWriter
	set  func(http.Header)
	done bool
}

func (w *corsWriter) apply() {
	if !w.done {
		w.done = true
		w.set(w.ResponseWriter.Header())
	}
}

func (w *corsWriter) WriteHeader(code int) {
	// 1xx headers (103 Early Hints, 101 for a WebSocket) are not the
	// response's own.
	if code >= 200 {
		w.apply()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *corsWriter) Write(b []byte) (int, error) {
	w.apply()
	return w.ResponseWriter.Write(b)
}

// Flush writes the headers, with the CORS ones, and passes the flush on.
func (w *corsWriter) Flush() {
	w.apply()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's own writer,
// for a WebSocket upgrade.
func (w *corsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
