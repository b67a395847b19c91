package config

import (
	"slices"
	"strings"
)

// devServerPath is a path a frontend dev server serves itself, and what.
type devServerPath struct{ path, owner string }

// devServerPaths are the paths frontend dev servers serve themselves:
// their client, hot-reload sockets and build output. A route over one of
// them sends the dev server's own requests to an API, and hot reload or
// the whole app stops working with no error in devproxy's log.
func devServerPaths() []devServerPath {
	return []devServerPath{
		{"/@vite", "Vite's client and hot reload"},
		{"/@fs", "Vite's files outside the root"},
		{"/_next", "Next.js's build output and hot reload"},
		{"/sockjs-node", "the webpack-dev-server (Create React App) hot-reload socket"},
		{"/ws", "the webpack-dev-server hot-reload socket"},
		{"/__webpack_hmr", "webpack-hot-middleware's hot-reload stream"},
		{"/ng-cli-ws", "the Angular CLI's hot-reload socket"},
	}
}

// shadowWarnings warns of each route, top-level or of a site, that takes
// over a path the frontend dev server beside it serves itself. A folder
// frontend has no such paths.
func shadowWarnings(cfg *Config) []*Error {
	out := routeShadows(cfg.File, "", cfg.Frontend, cfg.Routes)
	for _, s := range cfg.Sites {
		out = append(out, routeShadows(cfg.File, "sites."+s.Name+".", s.Frontend, s.Routes)...)
	}
	slices.SortStableFunc(out, func(a, b *Error) int { return a.Line - b.Line })
	return out
}

// routeShadows warns of the routes that shadow fe's paths; prefix starts
// each field, "" for the top-level routes.
func routeShadows(file, prefix string, fe *Frontend, routes []Route) []*Error {
	if fe == nil || fe.URL == nil {
		return nil
	}
	var out []*Error
	for _, r := range routes {
		for _, d := range devServerPaths() {
			if !underPath(d.path, r.Path) && !underPath(r.Path, d.path) {
				continue
			}
			out = append(out, &Error{
				File: file, Line: r.Line, Field: prefix + "routes." + r.Path,
				Msg:  quote(r.Path) + " shadows " + d.path + ", " + d.owner + ": those requests go to the route, not to the dev server",
				Hint: "move the route under a prefix of its own, such as /api" + r.Path + ", or remove it",
			})
			break
		}
	}
	return out
}

// underPath reports whether path is prefix or below it, on a segment
// boundary.
func underPath(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
