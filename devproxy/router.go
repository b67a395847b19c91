package devproxy

import (
	"net/http"
	"sort"
	"strings"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/inspect"
)

// router is one compiled config: the routes sorted for matching and the
// handlers that serve them. It is immutable; a reload builds a new one.
type router struct {
	cfg *config.Config
	// parsed is the config as parsed: cfg before the URLs of the commands
	// that were given none were filled in (withCommands).
	parsed *config.Config
	// routes are sorted by descending prefix length so that the first match
	// is the longest one, whatever the order in the file.
	routes   []*compiledRoute
	frontend *compiledFrontend
	guards   *guards
	// pools are the upstream pools the router's handlers use, recorded by
	// compile as it builds them: a reload retires every other pool.
	pools map[*upstreamTransport]bool
	// capture keeps the requests the router serves for the inspector;
	// nil when capture is off (inspect: false, -inspect=false).
	capture *inspect.Store
}

// kind is what answers a request. Its String is the word the log uses for
// it: a route's log line names the route's prefix, the others this word.
// A byte, not a string: the kind rides in every request's log entry.
type kind uint8

const (
	kindProxy    kind = iota // a route with a target
	kindMock                 // a route with a respond block
	kindFrontend             // the frontend dev server
	kindStatic               // the frontend folder
	kindDevproxy             // devproxy itself: its endpoints, refusals, the route list
	kindFallback             // the frontend's fallback_api
)

func (k kind) String() string {
	switch k {
	case kindDevproxy:
		return "devproxy"
	case kindMock:
		return "mock"
	case kindFrontend:
		return "frontend"
	case kindStatic:
		return "static"
	case kindFallback:
		return "fallback_api"
	}
	return "proxy"
}

// compiledRoute is a config Route with the handler that serves it.
type compiledRoute struct {
	*config.Route
	handler handler
	kind    kind // kindProxy or kindMock
	// dest is how the request log names the destination: the target's
	// host:port, or "mock".
	dest string
	// where is how the inspector names the destination.
	where inspect.Where
}

// compiledFrontend is the catch-all for requests no route claims.
type compiledFrontend struct {
	handler handler
	kind    kind // kindFrontend or kindStatic
	// dest names the dev server's host:port or the folder.
	dest  string
	where inspect.Where
	// fallback is where the inspector says a request went when the
	// frontend's fallback_api answered it; nil without fallback_api.
	fallback *inspect.Where
}

func (rt *router) match(path string) *compiledRoute {
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
func sortRoutes(routes []*compiledRoute) {
	sort.Slice(routes, func(i, j int) bool {
		if len(routes[i].Path) != len(routes[j].Path) {
			return len(routes[i].Path) > len(routes[j].Path)
		}
		return routes[i].Path < routes[j].Path
	})
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
	// kind, route and dest are what the request log names, where what
	// the inspector does.
	kind        kind
	route, dest string
	where       inspect.Where
	fallback    *inspect.Where // the frontend's, when it has a fallback_api
	// refused, when not nil, is why the request is answered by devproxy
	// with an error before any handler runs.
	refused *proxyError
}

// dispatch resolves r's path, routes it by the resolved path and checks it
// against the guards.
func (rt *router) dispatch(r *http.Request) dispatch {
	d := dispatch{r: r, kind: kindDevproxy, route: kindDevproxy.String(), where: inspect.Where{Kind: inspect.KindDevproxy}}
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
		d.kind, d.route, d.dest, d.h, d.where = m.kind, m.Path, m.dest, m.handler, m.where
	case rt.frontend != nil:
		d.kind, d.route, d.dest, d.h, d.where = rt.frontend.kind, rt.frontend.kind.String(), rt.frontend.dest, rt.frontend.handler, rt.frontend.where
		d.fallback = rt.frontend.fallback
	}
	d.refused = rt.guards.check(d.r, rt.frontend != nil && d.h == rt.frontend.handler)
	return d
}
