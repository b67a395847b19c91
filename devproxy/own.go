package devproxy

import (
	"context"
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/inspect"
	"github.com/devproxy/devproxy/internal/status"
)

// The status endpoint's shape is shared with doctor, which reads it.
type (
	statusJSON   = status.Status
	statusRoute  = status.Route
	statusSite   = status.Site
	reloadStatus = status.Reload
)

// serveOwn answers devproxy's own endpoints under ReservedPrefix; site
// is the config of the site the request's Host chose.
func (s *Server) serveOwn(w http.ResponseWriter, r *http.Request, o *outcome, rt *router, site *config.Config) {
	if isInspectorPath(r.URL.Path) {
		s.inspector.ServeHTTP(w, r)
		return
	}
	if r.URL.Path != status.Path && r.URL.Path != status.FrontendPath {
		writeProxyError(w, r, o, &proxyError{
			Status: http.StatusNotFound,
			Err:    "no such devproxy endpoint: " + r.URL.Path,
			Route:  config.ReservedPrefix,
			Hint:   config.ReservedPrefix + "/ is reserved for devproxy; GET " + config.ReservedPrefix + "/status shows the config",
		})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeProxyError(w, r, o, &proxyError{
			Status: http.StatusMethodNotAllowed,
			Err:    sanitize(r.Method) + " " + r.URL.Path + " is not allowed: devproxy's endpoints answer GET and HEAD only",
			Route:  config.ReservedPrefix,
			Hint:   "use GET",
			Header: http.Header{"Allow": {"GET, HEAD"}},
		})
		return
	}
	if r.URL.Path == status.FrontendPath {
		writeJSON(w, s.frontendState(r.Context(), site))
		return
	}
	st := statusJSON{
		Version:  s.opts.Version,
		Config:   rt.cfg.File,
		Listen:   s.ListenAddr(),
		Frontend: frontendString(rt.cfg.Frontend),
		Routes:   statusRoutes(rt.cfg),
		Name:     rt.name,
		Sites:    s.statusSites(rt.cfg),
		Reload:   *s.reload.Load(),
	}
	if l := s.listen.Load(); l != nil {
		st.Listen = *l
	}
	st.URL = s.url(st.Listen)
	st.Inspector = status.Inspector{URL: s.inspectorURL(st.Listen), Capture: rt.capture != nil, Requests: inspectRequests(rt.cfg)}
	st.Protocol = r.Proto
	if r.ProtoMajor == 2 {
		st.Protocol = "h2"
	}
	writeJSON(w, st)
}

// isInspectorPath reports whether path is the inspector's: its page and
// files, and everything under its api/.
func isInspectorPath(path string) bool {
	rest, ok := strings.CutPrefix(path, config.ReservedPrefix)
	if !ok {
		return false
	}
	switch rest {
	case "", "/", "/app.js", "/app.css":
		return true
	}
	return strings.HasPrefix(rest, "/api/")
}

// inspectorURL is the inspector's page on devproxy at addr.
func (s *Server) inspectorURL(addr string) string {
	if s.guest != nil {
		// A guest is reached by its names only, on the shared address.
		if name := s.router.Load().name; name != "" {
			return strings.TrimSuffix(s.siteURL(name), "/") + status.InspectorPath
		}
	}
	return strings.TrimSuffix(s.url(addr), "/") + status.InspectorPath
}

// inspectRequests is how many requests the inspector keeps under cfg.
func inspectRequests(cfg *config.Config) int {
	if n := cfg.Inspect.Requests; n > 0 {
		return n
	}
	return inspect.DefaultMaxExchanges
}

// writeJSON answers v as indented JSON that is never cached.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// frontendState probes cfg's frontend dev server, as the waiting page
// asks whether to reload.
func (s *Server) frontendState(ctx context.Context, cfg *config.Config) status.Frontend {
	f := cfg.Frontend
	if f == nil || f.URL == nil {
		return status.Frontend{Up: true}
	}
	row := routeRow{target: f.URL}
	err := s.probeTargets(ctx, []routeRow{row})[probeKey(row)]
	if err != nil {
		return status.Frontend{Target: f.URL.String(), Error: probeReason(f.URL, err)}
	}
	return status.Frontend{Up: true, Target: f.URL.String()}
}

func statusRoutes(cfg *config.Config) []statusRoute {
	routes := make([]statusRoute, 0, len(cfg.Routes))
	for _, r := range cfg.Routes {
		sr := statusRoute{Path: r.Path, Respond: r.Respond != nil}
		if r.Target != nil {
			sr.Target = r.Target.String()
		}
		routes = append(routes, sr)
	}
	return routes
}

// statusSites lists cfg's sites with the URL each is opened at.
func (s *Server) statusSites(cfg *config.Config) []statusSite {
	var out []statusSite
	for i := range cfg.Sites {
		st := &cfg.Sites[i]
		ss := statusSite{Name: st.Name, Frontend: frontendString(st.Frontend), Routes: statusRoutes(cfg.ForSite(st))}
		if !st.Wildcard() {
			ss.URL = s.siteURL(st.Name)
		}
		out = append(out, ss)
	}
	return out
}

// siteURL is the address of the site named name: devproxy's URL with the
// site's name for its host.
func (s *Server) siteURL(name string) string {
	u, err := url.Parse(s.url(s.currentListen()))
	if err != nil {
		return ""
	}
	if port := u.Port(); port != "" {
		u.Host = net.JoinHostPort(name, port)
	} else {
		u.Host = name
	}
	return u.String()
}

// currentListen is the address devproxy listens on, or will: for a
// guest, the address it shares.
func (s *Server) currentListen() string {
	if s.guest != nil {
		return s.guest.addr
	}
	if l := s.listen.Load(); l != nil {
		return *l
	}
	return s.ListenAddr()
}

// serveSites answers a request whose Host names no site, or that the
// top-level site, having no frontend and no routes, leaves to the sites:
// a page or list of the sites, never another site's app.
func (s *Server) serveSites(w http.ResponseWriter, r *http.Request, o *outcome, rt *router, unknown bool) {
	sites := s.statusSites(rt.cfg)
	host := siteHost(r.Host)
	if !unknown && r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodGet {
			_ = sitesPage.Execute(w, sites)
		}
		return
	}
	pe := &proxyError{
		Status: http.StatusNotFound,
		Err:    "no site is named " + quoteText(host),
		Hint:   "open one of the sites below, or add " + sanitize(host) + ": under sites: in the config",
		Sites:  sites,
	}
	if !unknown {
		pe.Err = "no route matches " + sanitize(r.URL.Path) + " and " + sanitize(orNone(host)) + " has no frontend"
		pe.Hint = "open one of the sites below, or set frontend: at the top of the config"
	}
	writeProxyError(w, r, o, pe)
}

var sitesPage = template.Must(template.New("sites").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>devproxy</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}
td,th{padding:.2rem 1rem .2rem 0;text-align:left}code{background:#f3f3f3;padding:.1rem .3rem}</style></head><body>
<h1>devproxy</h1>
<p>These sites are served:</p>
<table><tr><th>site</th><th>frontend</th></tr>
{{range .}}<tr><td>{{if .URL}}<a href="{{.URL}}"><code>{{.Name}}</code></a>{{else}}<code>{{.Name}}</code>{{end}}</td><td><code>{{.Frontend}}</code></td></tr>
{{end}}</table></body></html>
`))

// frontendString names the frontend as the user wrote it: a URL or a
// folder; "" when there is none.
func frontendString(f *config.Frontend) string {
	switch {
	case f == nil:
		return ""
	case f.URL != nil:
		return f.URL.String()
	default:
		return f.Dir
	}
}

// serveNoFrontend answers requests no route claims when cfg, the config
// of the request's site, has no frontend: / lists the routes, anything
// else is a 404 that lists them too.
func serveNoFrontend(w http.ResponseWriter, r *http.Request, o *outcome, cfg *config.Config) {
	routes := statusRoutes(cfg)
	if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodGet {
			_ = routesPage.Execute(w, routes)
		}
		return
	}
	writeProxyError(w, r, o, &proxyError{
		Status: http.StatusNotFound,
		Err:    "no route matches " + sanitize(r.URL.Path) + " and no frontend is configured",
		Hint:   "add a route for it, or set frontend: to a dev server URL or a folder",
		Routes: routes,
	})
}

var routesPage = template.Must(template.New("routes").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>devproxy</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}
td,th{padding:.2rem 1rem .2rem 0;text-align:left}code{background:#f3f3f3;padding:.1rem .3rem}</style></head><body>
<h1>devproxy</h1>
<p>No frontend is configured: set <code>frontend:</code> to a dev server URL or a folder. These routes are served:</p>
<table><tr><th>path</th><th>goes to</th></tr>
{{range .}}<tr><td><a href="{{.Path}}"><code>{{.Path}}</code></a></td><td>{{if .Respond}}mock{{else}}<code>{{.Target}}</code>{{end}}</td></tr>
{{else}}<tr><td colspan="2">no routes yet: add some under <code>routes:</code></td></tr>{{end}}
</table></body></html>
`))
