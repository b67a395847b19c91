package devproxy

import (
	"net/http"
	"sort"
	"strings"
)

// router is one compiled config: the routes sorted for matching and the
// handlers that serve them. It is immutable; a reload builds a new one.
type router struct {
	cfg *Config
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
	*Route
	handler http.Handler
	// dest is how the request log names the destination: the target's
	// host:port, or "mock".
	dest string
}

// frontend is the compiled catch-all for requests no route claims.
type frontend struct {
	handler http.Handler
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
