package devproxy

import (
	"net/http"
	"net/netip"
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
	// sites are the named sites of the sites block; nil when the config
	// has none, and routes, frontend and guards above serve every Host.
	sites *siteSet
	// name is the host name routes and frontend are served as besides
	// localhost, such as "shop.localhost"; "" for none.
	name string
}

// site is one compiled site of the sites block: its routes, frontend and
// guards, which trust the site's own origin and cors origins only.
type site struct {
	name string // "shop.localhost" or "*.shop.localhost"
	// cfg is the config as the site sees it (config.ForSite).
	cfg      *config.Config
	routes   []*compiledRoute
	frontend *compiledFrontend
	guards   *guards
	// guest marks a name of another devproxy registered with this one:
	// every request goes to it, devproxy's own paths too.
	guest bool
}

// siteSet finds the site of a Host: an exact name first, then the longest
// wildcard that matches.
type siteSet struct {
	exact     map[string]*site
	wildcards []*site // longest name first
	all       []*site // in file order, for the listing and the banner
}

func newSiteSet(sites []*site) *siteSet {
	ss := &siteSet{exact: map[string]*site{}, all: sites}
	for _, st := range sites {
		if strings.HasPrefix(st.name, "*.") {
			ss.wildcards = append(ss.wildcards, st)
		} else {
			ss.exact[st.name] = st
		}
	}
	sort.SliceStable(ss.wildcards, func(i, j int) bool { return len(ss.wildcards[i].name) > len(ss.wildcards[j].name) })
	return ss
}

// lookup returns the site named host (lower case, no port or final dot),
// or nil.
func (ss *siteSet) lookup(host string) *site {
	if st := ss.exact[host]; st != nil {
		return st
	}
	for _, st := range ss.wildcards {
		if strings.HasSuffix(host, st.name[1:]) {
			return st
		}
	}
	return nil
}

// siteHost is the name a Host header gives, as sites are named.
func siteHost(hostport string) string {
	return strings.TrimSuffix(strings.ToLower(hostOnly(hostport)), ".")
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
	return matchRoute(rt.routes, path)
}

// matchRoute returns the first of routes, sorted longest first, whose
// prefix path has.
func matchRoute(routes []*compiledRoute, path string) *compiledRoute {
	for _, r := range routes {
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
	// uncaptured is set for a guest's own endpoints, which are forwarded
	// to it but, like this devproxy's own, never captured.
	uncaptured bool
	// site is the named site the Host chose; nil for the top-level one.
	site *site
	// unknownSite is set when the config has sites and the Host names
	// none of them: devproxy answers with the list of sites.
	unknownSite bool
	// scoped is set when the Host is a separate origin from the
	// top-level one (localhost, an IP address): its inspector sees the
	// exchanges of scope only, the site's name ("" for the frontend's
	// own name, the Host for a name no site has).
	scoped bool
	scope  string
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
	routes, frontend, g := rt.routes, rt.frontend, rt.guards
	if rt.sites != nil {
		host := siteHost(r.Host)
		switch st := rt.sites.lookup(host); {
		case host == rt.name:
			d.scoped = true
		case st != nil:
			d.site, d.scoped, d.scope = st, true, st.name
			routes, frontend, g = st.routes, st.frontend, st.guards
			if st.guest {
				// The guest's own endpoints are its to answer, and
				// its inspector's requests stay out of this one's.
				d.uncaptured, d.own = d.own, false
			}
		case !rt.topLevelHost(host):
			// Never another site's app: the page lists the sites.
			d.unknownSite, d.scoped, d.scope = true, true, host
			routes, frontend = nil, nil
		}
	}
	switch m := matchRoute(routes, path); {
	case d.own:
	case m != nil:
		d.kind, d.route, d.dest, d.h, d.where = m.kind, m.Path, m.dest, m.handler, m.where
	case frontend != nil && d.site != nil && d.site.guest:
		d.kind, d.route, d.dest, d.h, d.where = frontend.kind, d.site.name, frontend.dest, frontend.handler, frontend.where
	case frontend != nil:
		d.kind, d.route, d.dest, d.h, d.where = frontend.kind, frontend.kind.String(), frontend.dest, frontend.handler, frontend.where
		d.fallback = frontend.fallback
	}
	d.refused = g.check(d.r, frontend != nil && d.h == frontend.handler)
	return d
}

// topLevelHost reports whether host, in a config with sites, is served
// by the top-level frontend and routes: no name (an HTTP/1.0 tool),
// localhost, an IP address, the listen address's host or a name in
// allowed_hosts that no site claims.
func (rt *router) topLevelHost(host string) bool {
	if host == "" || host == "localhost" || host == rt.name || rt.guards.hosts[host] {
		return true
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

// siteConfig is the config that serves d: its site's, or the top-level
// one.
func (rt *router) siteConfig(d *dispatch) *config.Config {
	if d.site != nil {
		return d.site.cfg
	}
	return rt.cfg
}
