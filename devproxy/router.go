package devproxy

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/devproxy/devproxy/devproxy/config"
)

// router is one compiled config: the routes sorted for matching and the
// handlers that serve them. It is immutable; a reload builds a new one.
type router struct {
	cfg *config.Config
	// routes are sorted by descending prefix length so that the first match
	// is the longest one, whatever the order in the file.
	routes   []*route
	frontend *frontend
	guards   *guards
	// pools are the upstream pools the router's handlers use, recorded by
	// compile as it builds them: a reload retires every other pool.
	pools map[*upstreamTransport]bool
}

// route is a compiled Route with the handler that serves it.
type route struct {
	*config.Route
	handler handler
	// dest is how the request log names the destination: the target's
	// host:port, or "mock".
	dest string
}

// frontend is the compiled catch-all for requests no route claims.
type frontend struct {
	handler handler
	// kind is "frontend" for a dev server, "static" for a folder.
	kind string
	// dest names the dev server's host:port or the folder.
	dest string
}

func (rt *router) match(path string) *route {
	for _, r := range rt.routes {
		if hasPathPrefix(path, r.Path) {
			return r
		}
	}
	return nil
}

// hasPathPrefix reports whether path starts with prefix on a path-segment
// boundary: /api matches /api and /api/x, never /apix.
func hasPathPrefix(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

// sortRoutes orders routes longest prefix first. Config validation makes
// prefixes unique, so the order is total.
func sortRoutes(routes []*route) {
	sort.Slice(routes, func(i, j int) bool {
		if len(routes[i].Path) != len(routes[j].Path) {
			return len(routes[i].Path) > len(routes[j].Path)
		}
		return routes[i].Path < routes[j].Path
	})
}

// resolveDots applies the path rule to raw, a request's path exactly as
// sent: its dot segments (".", "..", with either dot written %2e or %2E)
// are removed as RFC 3986 section 5.2.4 says, and every other byte is kept
// as sent, so %2F stays %2F. It refuses a ".." that climbs above the root,
// and a segment that hides a dot segment a target could find by decoding
// it: behind an encoded slash (..%2F), a backslash (..\ or %5C, a
// separator on Windows servers) or a path parameter (..;x, which Tomcat
// drops before it resolves). raw is returned unchanged, without
// allocating, when it needs no change.
func resolveDots(raw string) (string, *proxyError) {
	if raw == "" || raw[0] != '/' || !strings.ContainsAny(raw, ".%\\") {
		return raw, nil
	}
	changed := false
	for seg := range strings.SplitSeq(raw[1:], "/") {
		switch dot, hidden := classifySegment(seg); {
		case hidden:
			return "", badPath(raw, "segment "+quoteText(seg)+" hides a dot segment behind an encoded slash, a backslash or a ';', which a target could decode and resolve outside the route",
				"send real slashes and no dot segments; devproxy refuses a path that could leave the route it matched")
		case dot != 0:
			changed = true
		}
	}
	if !changed {
		return raw, nil
	}
	segs := strings.Split(raw[1:], "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		last := i == len(segs)-1
		switch dot, _ := classifySegment(seg); dot {
		case 0:
			out = append(out, seg)
			continue
		case 2:
			if len(out) == 0 {
				return "", badPath(raw, `".." climbs above the root`,
					"remove the extra \"..\"; a path cannot go above /")
			}
			out = out[:len(out)-1]
		}
		if last {
			// A trailing dot segment names a folder: "/a/b/.." is "/a/".
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/"), nil
}

// classifySegment reports whether seg is a dot segment, "." (dot 1) or
// ".." (dot 2), counting %2e as a dot, and whether, not being one, it hides
// one that a target could find by decoding it.
func classifySegment(seg string) (dot int, hidden bool) {
	if !strings.ContainsAny(seg, ".%\\") {
		return 0, false
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c == '%' && i+2 < len(seg) && ishex(seg[i+1]) && ishex(seg[i+2]) {
			c = unhex(seg[i+1])<<4 | unhex(seg[i+2])
			i += 2
		}
		b.WriteByte(c)
	}
	decoded := b.String()
	switch decoded {
	case ".":
		return 1, false
	case "..":
		return 2, false
	}
	for part := range strings.FieldsFuncSeq(decoded, func(r rune) bool { return r == '/' || r == '\\' }) {
		part, _, _ = strings.Cut(part, ";")
		if part == "." || part == ".." {
			return 0, true
		}
	}
	return 0, false
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// badPath is the 400 for a request path that the path rule refuses.
func badPath(raw, why, hint string) *proxyError {
	return &proxyError{Status: http.StatusBadRequest, Route: "devproxy",
		Err: "request path " + quoteText(raw) + " refused: " + why, Hint: hint}
}

// dispatch is where one request goes, as the router decided.
type dispatch struct {
	// r is the request to serve: the one that came in, or a copy whose
	// path has its dot segments resolved.
	r *http.Request
	// h serves the request; nil for devproxy's own endpoints (own) and
	// the page listing the routes when there is no frontend.
	h   handler
	own bool
	// route and dest are what the request log names.
	route, dest string
	// refused, when not nil, is why the request is answered by devproxy
	// with an error before any handler runs.
	refused *proxyError
}

// dispatch resolves r's path, routes it by the resolved path and checks it
// against the guards.
func (rt *router) dispatch(r *http.Request) dispatch {
	d := dispatch{r: r, route: "devproxy"}
	raw := rawPath(r)
	resolved, pe := resolveDots(raw)
	if pe != nil {
		d.refused = pe
		return d
	}
	if resolved != raw {
		d.r = withPath(r, raw, resolved)
	}
	path := d.r.URL.Path
	d.own = hasPathPrefix(path, config.ReservedPrefix)
	switch m := rt.match(path); {
	case d.own:
	case m != nil:
		d.route, d.dest, d.h = m.Path, m.dest, m.handler
	case rt.frontend != nil:
		d.route, d.dest, d.h = rt.frontend.kind, rt.frontend.dest, rt.frontend.handler
	}
	d.refused = rt.guards.check(d.r, rt.frontend != nil && d.h == rt.frontend.handler)
	return d
}

// withPath returns a shallow copy of r whose escaped path is resolved in
// place of raw, in its URL and, for an origin-form request, in its
// RequestURI, which is what is forwarded.
func withPath(r *http.Request, raw, resolved string) *http.Request {
	r2 := r.WithContext(r.Context())
	u := *r.URL
	if p, err := url.PathUnescape(resolved); err == nil {
		u.Path = p
	} else {
		u.Path = resolved
	}
	u.RawPath = resolved
	r2.URL = &u
	if strings.HasPrefix(r.RequestURI, raw) {
		r2.RequestURI = resolved + r.RequestURI[len(raw):]
	}
	return r2
}
