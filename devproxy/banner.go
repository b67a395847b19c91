package devproxy

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
)

// routeRow is one line of a route table.
type routeRow struct {
	path   string
	kind   kind
	dest   string   // target URL, "mock", or the frontend
	opts   string   // " (strip_prefix, …)" or ""
	target *url.URL // what to probe; nil for mocks and folders

	insecure bool // the route accepts any certificate
}

// routeRows lists cfg's routes longest prefix first, as the router
// matches, then the frontend.
func routeRows(cfg *config.Config) []routeRow {
	routes := make([]*compiledRoute, 0, len(cfg.Routes))
	for i := range cfg.Routes {
		routes = append(routes, &compiledRoute{Route: &cfg.Routes[i]})
	}
	sortRoutes(routes)
	rows := make([]routeRow, 0, len(routes)+1)
	for _, r := range routes {
		row := routeRow{path: r.Path, kind: kindMock, dest: kindMock.String(), opts: routeOptions(r.Route), target: r.Target, insecure: r.Insecure}
		switch {
		case r.Target != nil:
			row.kind, row.dest = kindProxy, r.Target.String()
		case r.Replay != nil:
			row.kind, row.dest = kindProxy, replayVia+" "+relativeTo(cfg.Dir, r.Replay.Dir)
		}
		if r.Command != nil {
			// A command is still starting when the banner is written:
			// its own line says when it answers.
			row.target, row.opts = nil, commandOption(r.Command)+row.opts
		}
		rows = append(rows, row)
	}
	switch f := cfg.Frontend; {
	case f == nil && len(cfg.Sites) > 0 && len(cfg.Routes) == 0:
		rows = append(rows, routeRow{path: "/", dest: "no frontend: localhost lists the sites"})
	case f == nil:
		rows = append(rows, routeRow{path: "/", dest: "no frontend: / lists the routes"})
	case f.Command != nil:
		rows = append(rows, routeRow{path: "/", dest: f.URL.String(), opts: commandOption(f.Command) + " (frontend dev server)"})
	case f.URL != nil:
		rows = append(rows, routeRow{path: "/", dest: f.URL.String(), opts: " (frontend dev server)", target: f.URL})
	case f.SPA:
		rows = append(rows, routeRow{path: "/", dest: f.Dir, opts: " (folder, SPA fallback)"})
	default:
		rows = append(rows, routeRow{path: "/", dest: f.Dir, opts: " (folder)"})
	}
	if f := cfg.Frontend; f != nil && f.FallbackAPI != nil {
		rows = append(rows, routeRow{path: kindFallback.String(), kind: kindFallback, dest: f.FallbackAPI.String(),
			opts: " (what the dev server does not serve, but page loads)", target: f.FallbackAPI})
	}
	return rows
}

// allRouteRows is routeRows of cfg and of each of its sites, for probes.
func allRouteRows(cfg *config.Config) []routeRow {
	rows := routeRows(cfg)
	for i := range cfg.Sites {
		rows = append(rows, routeRows(cfg.ForSite(&cfg.Sites[i]))...)
	}
	return rows
}

// WriteRoutes prints the route table of cfg, longest prefix first as the
// router matches, then the frontend.
func WriteRoutes(w io.Writer, cfg *config.Config) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range routeRows(cfg) {
		fmt.Fprintf(tw, "  %s\t→ %s%s\n", r.path, r.dest, r.opts)
	}
	_ = tw.Flush()
}

// commandOption names the command devproxy runs for a route.
func commandOption(c *config.Command) string {
	return " (runs " + sanitize(c.Text) + ")"
}

func routeOptions(r *config.Route) string {
	var opts []string
	if r.StripPrefix {
		opts = append(opts, "strip_prefix")
	}
	if r.PreserveHost {
		opts = append(opts, "host: preserve")
	}
	if r.Insecure {
		opts = append(opts, "insecure")
	}
	if r.Timeout != 0 && r.Timeout != config.DefaultTimeout {
		opts = append(opts, "timeout "+r.Timeout.String())
	}
	return routeOptionsEnd(r, opts)
}

// routeOptionsEnd adds the record, replay, fallback and injection keys
// of r to opts and writes them.
func routeOptionsEnd(r *config.Route, opts []string) string {
	if r.Record != nil {
		opts = append(opts, "record")
	}
	if r.Replay != nil && (r.Replay.Auto || r.Target != nil) {
		if r.Replay.Auto {
			opts = append(opts, "replay while down")
		} else {
			opts = append(opts, "replay")
		}
	}
	if r.Fallback != nil {
		opts = append(opts, "fallback "+r.Fallback.String())
	}
	if in := r.Inject; in.Active() {
		opts = append(opts, "injects "+injectSummary(in))
	}
	if len(opts) == 0 {
		return ""
	}
	return " (" + strings.Join(opts, ", ") + ")"
}

// bannerInfo is what the start-up banner shows.
type bannerInfo struct {
	version string
	cfg     *config.Config
	open    string           // the URL to open devproxy at
	also    string           // localhost's URL when open is a name's, or ""
	inspect string           // the inspector's URL
	capture bool             // whether the inspector captures requests
	ready   time.Duration    // from start to listening
	probes  map[string]error // by probeKey
	note    string           // a last line, or ""
	// siteURL returns the URL of the site named name (a wildcard
	// stays one); called only when cfg has sites.
	siteURL func(name string) string
}

// readyIn says how long start-up took, in whole milliseconds as Vite
// does (at least 1, as "ready in 0 ms" reads like an error).
func readyIn(d time.Duration) string {
	return fmt.Sprintf("ready in %d ms", max(d.Milliseconds(), 1))
}

// banner logs what devproxy serves: its version, how long start-up took,
// the URL to open, the config file, and every route with the state of its
// upstream.
func (l *logger) banner(bi bannerInfo) {
	version, cfg, probes := bi.version, bi.cfg, bi.probes
	rows := routeRows(cfg)
	open := bi.open
	if l.json {
		capture := bi.capture
		l.jsonLine(jsonLine{Level: "info", Msg: "devproxy listening", Version: version, URL: open, Config: cfg.File,
			DurationMS: float64(max(bi.ready.Microseconds(), 1)) / 1000, Inspector: bi.inspect, Capture: &capture})
		l.jsonRows("", rows, probes)
		for i := range cfg.Sites {
			st := &cfg.Sites[i]
			jl := jsonLine{Level: "info", Msg: "site", Site: st.Name}
			if !st.Wildcard() {
				jl.URL = bi.siteURL(st.Name)
			}
			l.jsonLine(jl)
			l.jsonRows(st.Name, routeRows(cfg.ForSite(st)), probes)
		}
		return
	}
	b := l.p.title.appendText(nil, "devproxy "+version)
	b = append(b, "  "+readyIn(bi.ready)+"\n"...)
	b = append(b, "  config "+cfg.File+"\n"...)
	b = append(b, "  ➜ open "...)
	b = l.p.url.appendText(b, open)
	if bi.also != "" {
		b = append(b, "  (also "...)
		b = l.p.url.appendText(b, bi.also)
		b = append(b, ')')
	}
	b = append(b, "\n  ➜ inspect "...)
	b = l.p.url.appendText(b, bi.inspect)
	if !bi.capture {
		b = append(b, " (capture off)"...)
	}
	b = append(b, "\n\n"...)
	b = l.appendRows(b, "  ", rows, probes)
	for i := range cfg.Sites {
		st := &cfg.Sites[i]
		b = append(b, "\n  ➜ "...)
		b = l.p.url.appendText(b, bi.siteURL(st.Name))
		b = append(b, '\n')
		b = l.appendRows(b, "    ", routeRows(cfg.ForSite(st)), probes)
	}
	b = append(b, '\n')
	if bi.note != "" {
		b = append(b, "  "+bi.note+"\n\n"...)
	}
	l.out.write(b)
}

// jsonRows logs one JSON line for each route of rows, of the site named
// site ("" for the top-level routes).
func (l *logger) jsonRows(site string, rows []routeRow, probes map[string]error) {
	for _, r := range rows {
		jl := jsonLine{Level: "info", Msg: "route", Route: r.path, Site: site, Target: r.dest}
		if r.target != nil {
			err := probes[probeKey(r)]
			up := err == nil
			jl.Up = &up
			if err != nil {
				jl.Level, jl.Error = "warn", probeReason(r.target, err)
			}
		}
		l.jsonLine(jl)
	}
}

// appendRows appends a route table, each row after indent, its paths
// aligned, with the state of each probed target.
func (l *logger) appendRows(b []byte, indent string, rows []routeRow, probes map[string]error) []byte {
	width := 0
	for _, r := range rows {
		width = max(width, len(r.path))
	}
	for _, r := range rows {
		b = append(b, indent...)
		p := l.p.route(r.path)
		if r.path == "/" {
			p = l.p.frontend
		}
		b = p.appendText(b, r.path)
		b = append(b, strings.Repeat(" ", width-len(r.path))...)
		b = append(b, "  → "...)
		dp := l.p.target
		if r.kind == kindMock {
			dp = l.p.mock
		}
		b = dp.appendText(b, r.dest)
		b = append(b, r.opts...)
		if r.target != nil {
			if err := probes[probeKey(r)]; err != nil {
				b = append(b, "  "...)
				b = l.p.bad.appendText(b, "down: "+probeReason(r.target, err))
			} else {
				b = append(b, "  "...)
				b = l.p.good.appendText(b, "up")
			}
		}
		b = append(b, '\n')
	}
	return b
}
