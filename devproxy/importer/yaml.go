package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// YAML returns the devproxy.yaml for the result, with a comment on each
// route naming where it came from. schemaFile, when not empty, is named in
// the modeline that lets editors complete and check the file.
func (r *Result) YAML(schemaFile string) []byte {
	var b strings.Builder
	p := r.Project
	if schemaFile != "" {
		fmt.Fprintf(&b, "# yaml-language-server: $schema=./%s\n", schemaFile)
	}
	what := "this project"
	if p.Tool != "" {
		what = "this " + string(p.Tool) + " project"
		if p.Framework != "" {
			what = fmt.Sprintf("this %s project (%s)", p.Tool, p.Framework)
		}
	}
	fmt.Fprintf(&b, "# Written by devproxy init from %s.\n", what)
	// devproxy starts a detected dev server itself (the runner); an
	// unknown project's script may be anything, so it is only named.
	command := p.Tool != "" && p.Command != ""
	switch {
	case command:
		fmt.Fprintf(&b, "# Run devproxy: it starts the dev server with %q itself.\n", p.Command)
	case p.Command != "":
		fmt.Fprintf(&b, "# Start the dev server with %q, then run devproxy.\n", p.Command)
	}
	b.WriteString("\n")
	if r.Listen != "" {
		fmt.Fprintf(&b, "# not devproxy's default port, which the dev server or a target uses\nlisten: %s\n\n", r.Listen)
	}
	fb := r.Fallback
	switch {
	case !command && fb == nil && p.Port > 0:
		fmt.Fprintf(&b, "# the dev server; port from %s\n", p.PortFrom)
		fmt.Fprintf(&b, "frontend: http://localhost:%d\n", p.Port)
	case !command && (fb == nil || p.Port == 0):
		b.WriteString("# frontend: http://localhost:5173   # your dev server's URL, or a folder such as ./dist\n")
		if fb != nil {
			fmt.Fprintf(&b, "# with it, from %s:\n#   fallback_api: %s\n", fb.From, fb.Target)
		}
	default:
		switch {
		case command && p.Port > 0:
			fmt.Fprintf(&b, "# the dev server, which devproxy starts; port from %s\n", p.PortFrom)
		case command:
			b.WriteString("# the dev server, which devproxy starts on a free port it passes as PORT\n")
		default:
			fmt.Fprintf(&b, "# the dev server; port from %s\n", p.PortFrom)
		}
		b.WriteString("frontend:\n")
		if command {
			fmt.Fprintf(&b, "  command: %s\n", scalar(p.Command))
		}
		if p.Port > 0 {
			fmt.Fprintf(&b, "  url: http://localhost:%d\n", p.Port)
		}
		if command && len(p.Env) > 0 {
			b.WriteString("  env:\n")
			for _, e := range p.Env {
				fmt.Fprintf(&b, "    # %s\n    %s: %s\n", e.Why, e.Name, quoted(e.Value))
			}
		}
		if fb != nil {
			fmt.Fprintf(&b, "  # from %s\n", fb.From)
			for _, c := range fb.Comment {
				fmt.Fprintf(&b, "  # %s\n", c)
			}
			fmt.Fprintf(&b, "  fallback_api: %s\n", scalar(fb.Target))
		}
	}
	b.WriteString("\n")
	active := 0
	for _, rt := range r.Routes {
		if !rt.Disabled {
			active++
		}
	}
	if len(r.Routes) == 0 && fb != nil {
		b.WriteString("# fallback_api takes the API's requests; add a route for any other server, e.g. /auth: http://localhost:7000\nroutes: {}\n")
		return []byte(b.String())
	}
	if len(r.Routes) == 0 {
		b.WriteString("# No proxy rules were found; add your APIs, e.g. /api: http://localhost:5000\nroutes: {}\n")
		return []byte(b.String())
	}
	b.WriteString("routes:\n")
	for i, rt := range r.Routes {
		if i > 0 {
			b.WriteString("\n")
		}
		writeRoute(&b, rt)
	}
	if active == 0 {
		// Keep the file a valid mapping of routes while every route is
		// commented out.
		b.WriteString("\n# (every route above is commented out)\n")
	}
	return []byte(b.String())
}

func writeRoute(b *strings.Builder, rt Route) {
	fmt.Fprintf(b, "  # from %s\n", rt.From)
	for _, c := range rt.Comment {
		fmt.Fprintf(b, "  # %s\n", c)
	}
	var lines []string
	long := rt.StripPrefix || rt.PreserveHost || rt.Insecure || len(rt.Headers) > 0 || rt.Timeout != ""
	if !long {
		lines = append(lines, fmt.Sprintf("%s: %s", scalar(rt.Path), scalar(rt.Target)))
	} else {
		lines = append(lines, scalar(rt.Path)+":", "  target: "+scalar(rt.Target))
		if rt.StripPrefix {
			lines = append(lines, "  strip_prefix: true")
		}
		if rt.PreserveHost {
			lines = append(lines, "  host: preserve")
		}
		if rt.Insecure {
			lines = append(lines, "  insecure: true")
		}
		if rt.Timeout != "" {
			lines = append(lines, "  timeout: "+rt.Timeout)
		}
		if len(rt.Headers) > 0 {
			lines = append(lines, "  headers:")
			for _, h := range rt.Headers {
				lines = append(lines, fmt.Sprintf("    %s: %s", scalar(h[0]), quoted(h[1])))
			}
		}
	}
	for _, l := range lines {
		if rt.Disabled {
			fmt.Fprintf(b, "  # %s\n", l)
		} else {
			fmt.Fprintf(b, "  %s\n", l)
		}
	}
}

// scalar writes s plain when YAML reads it back as the same string, and
// double-quoted otherwise.
func scalar(s string) string {
	plain := regexp.MustCompile(`^[A-Za-z0-9_/.%+@-]([A-Za-z0-9_/.%+@:=~?&,;!$'()*\[\] -]*[A-Za-z0-9_/.%+@:=~?&,;!$'()*\[\]-])?$`)
	switch strings.ToLower(s) {
	case "", "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~":
		return strconv.Quote(s)
	}
	if !plain.MatchString(s) || strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return strconv.Quote(s)
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.Quote(s)
	}
	return s
}

// quoted always double-quotes, for header values, which are text whatever
// they look like.
func quoted(s string) string { return strconv.Quote(s) }
