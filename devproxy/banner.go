package devproxy

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// ExampleConfig is a minimal devproxy.yaml, shown when none is found.
const ExampleConfig = `  frontend: http://localhost:5173   # your dev server, or a folder such as ./dist
  routes:
    /api: http://localhost:5000      # your API
`

// WriteBanner prints what devproxy serves: the URL to open and the routes.
func WriteBanner(w io.Writer, cfg *Config, listen string) {
	fmt.Fprintf(w, "devproxy %s serving %s\n", Version, cfg.File)
	fmt.Fprintf(w, "  open %s\n", URL(listen))
	WriteRoutes(w, cfg)
}

// WriteRoutes prints the route table of cfg, longest prefix first as the
// router matches, then the frontend.
func WriteRoutes(w io.Writer, cfg *Config) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	routes := make([]*route, 0, len(cfg.Routes))
	for i := range cfg.Routes {
		routes = append(routes, &route{Route: &cfg.Routes[i]})
	}
	sortRoutes(routes)
	for _, r := range routes {
		dest := "mock"
		if r.Target != nil {
			dest = r.Target.String()
		}
		fmt.Fprintf(tw, "  %s\t→ %s%s\n", r.Path, dest, routeOptions(r.Route))
	}
	switch f := cfg.Frontend; {
	case f == nil:
		fmt.Fprintf(tw, "  /\t→ no frontend: / lists the routes\n")
	case f.URL != nil:
		fmt.Fprintf(tw, "  /\t→ %s (frontend dev server)\n", f.URL)
	case f.SPA:
		fmt.Fprintf(tw, "  /\t→ %s (folder, SPA fallback)\n", f.Dir)
	default:
		fmt.Fprintf(tw, "  /\t→ %s (folder)\n", f.Dir)
	}
	_ = tw.Flush()
}

func routeOptions(r *Route) string {
	var s string
	if r.StripPrefix {
		s += " strip_prefix"
	}
	if r.PreserveHost {
		s += " host: preserve"
	}
	if r.Insecure {
		s += " insecure"
	}
	if r.Timeout != 0 && r.Timeout != DefaultTimeout {
		s += " timeout " + r.Timeout.String()
	}
	if s == "" {
		return ""
	}
	return " (" + s[1:] + ")"
}
