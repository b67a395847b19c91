package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/devproxy/devproxy/internal/gitname"
	"gopkg.in/yaml.v3"
)

// Site is one entry of the sites block: a host name with its own frontend
// and routes, served to requests whose Host is that name. Each site is an
// origin of its own for the browser (cookies, storage) and for devproxy's
// cross-site checks.
type Site struct {
	// Name is the host name in lower case, without a port or final dot:
	// "shop.localhost", or a wildcard "*.shop.localhost" that matches
	// every name below shop.localhost (not shop.localhost itself).
	Name string
	// Frontend receives every request of the site that none of its
	// routes claims; nil when the site has none.
	Frontend *Frontend
	// Routes are the site's path-prefixed routes in file order.
	Routes []Route
	// Line is the line of the site's key in the file, 0 when unknown.
	Line int
}

// Wildcard reports whether the site's name is a "*.name" pattern.
func (s *Site) Wildcard() bool { return strings.HasPrefix(s.Name, "*.") }

// Matches reports whether host, lower case with no port or final dot, is
// the site's name or, for a wildcard, a name below it.
func (s *Site) Matches(host string) bool {
	if s.Wildcard() {
		return strings.HasSuffix(host, s.Name[1:])
	}
	return host == s.Name
}

// ForSite returns c as seen by one of its sites: c's settings with the
// site's frontend and routes in place of the top-level ones, and no sites.
// c itself is not changed.
func (c *Config) ForSite(s *Site) *Config {
	v := *c
	v.Frontend, v.Routes, v.Sites, v.Warnings = s.Frontend, s.Routes, nil, nil
	return &v
}

// siteRef is a site's name as the file gives it, checked against
// allowed_hosts once the whole file is read.
type siteRef struct {
	n    *yaml.Node
	path string
	name string
}

// sites reads the sites block: host name -> {frontend, routes}.
func (p *parser) sites(f field) []Site {
	var out []Site
	p.entries(f, keyedMapping{
		entry:     "site",
		blockHint: `put each site on its own line under sites:, such as "shop.localhost: {frontend: http://localhost:5173}"`,
		blockWant: "a mapping of host names to sites",
		keyHint:   `write a host name such as "shop.localhost"`,
		keyWant:   "a host name",
		key:       p.siteName,
	}, func(k, v *yaml.Node, fp, name string, ok bool) {
		if ok {
			p.siteRefs = append(p.siteRefs, siteRef{n: k, path: fp, name: name})
		}
		s := p.site(k, v, fp)
		s.Name, s.Line = name, k.Line
		if ok {
			out = append(out, s)
		}
	})
	return out
}

// site reads the mapping of one site.
func (p *parser) site(k, v *yaml.Node, fp string) Site {
	var s Site
	n := resolve(v)
	if n.Kind != yaml.MappingNode {
		hint := `write "frontend: http://localhost:5173" (or a folder) under it, and routes: if it has any`
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			hint = fmt.Sprintf("write %q", k.Value+": {frontend: "+n.Value+"}")
		}
		p.add(n, fp, hint, "want a mapping with frontend and routes, got %s", describe(n))
		return s
	}
	for _, g := range p.fields(n, fp, siteFields(), siteHint) {
		switch g.name {
		case "frontend":
			s.Frontend = p.frontend(g)
		case "routes":
			s.Routes = p.routes(g)
		}
	}
	return s
}

func siteHint(name string) string {
	switch {
	case strings.HasPrefix(name, "/"):
		return fmt.Sprintf("routes go under routes:, e.g. \"routes: {%s: http://localhost:5000}\"", name)
	case slices.Contains(topFields(), name):
		return name + " applies to every site: write it at the top of the file, not under a site"
	}
	return ""
}

// siteName checks a site's key and returns it normalised: lower case, no
// final dot.
func (p *parser) siteName(k *yaml.Node, field, s string) (string, bool) {
	const example = "shop.localhost"
	switch {
	case s == "":
		p.add(k, field, "write a host name such as "+strconv.Quote(example), "a site needs a host name")
		return "", false
	case strings.Contains(s, "://"):
		hint := "write a host name such as " + strconv.Quote(example)
		if u, err := parseURL(s); err == nil && u.Hostname() != "" {
			hint = "write " + strconv.Quote(u.Hostname())
		}
		p.add(k, field, hint, "%s has a scheme; a site is named by its host name only", quote(s))
		return "", false
	case strings.Contains(s, "/"):
		before, _, _ := strings.Cut(s, "/")
		p.add(k, field, "write "+strconv.Quote(before)+"; paths go under the site's routes:", "%s has a path; want a host name", quote(s))
		return "", false
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		p.add(k, field, "write "+strconv.Quote(h)+"; every site is served on the listen address", "%s has a port; want a host name", quote(s))
		return "", false
	}
	if net.ParseIP(strings.Trim(s, "[]")) != nil {
		p.add(k, field, "name the site, such as "+strconv.Quote(example)+"; an IP address reaches the top-level frontend and routes",
			"%s is an IP address; want a host name", quote(s))
		return "", false
	}
	h := strings.ToLower(strings.TrimSuffix(s, "."))
	rest := h
	if r, ok := strings.CutPrefix(h, "*."); ok {
		rest = r
	}
	for label := range strings.SplitSeq(rest, ".") {
		if label == "*" || strings.Contains(label, "*") {
			p.add(k, field, "write the wildcard as the first label only, such as "+strconv.Quote("*."+example),
				"%s has a * that is not the whole first label", quote(s))
			return "", false
		}
		if !validLabel(label) {
			p.add(k, field, "use letters, digits and - in each part of the name, such as "+strconv.Quote(example),
				"%s is not a host name", quote(s))
			return "", false
		}
	}
	if rest == "localhost" {
		if h == rest {
			p.add(k, field, "name the site below it, such as "+strconv.Quote(example)+"; the top-level frontend and routes serve localhost",
				"%s is the top-level site", quote(s))
		} else {
			p.add(k, field, "name a wildcard below a site, such as "+strconv.Quote("*."+example),
				"%s would claim every name of localhost", quote(s))
		}
		return "", false
	}
	return h, true
}

// CheckName checks s as the name of the top-level site (the name key, the
// -name flag) and returns its host name below .localhost: "shop" and
// "shop.localhost" are "shop.localhost", "fix-login.shop" is
// "fix-login.shop.localhost". problem, when not empty, says what is
// wrong, and hint how to fix it.
func CheckName(s string) (host, problem, hint string) {
	const example = `write a name such as "shop", served as shop.localhost`
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	h = strings.TrimSuffix(strings.TrimSuffix(h, "localhost"), ".")
	switch {
	case strings.TrimSpace(s) == "":
		return "", "is empty", example
	case strings.Contains(s, "://") || strings.ContainsAny(s, ":/"):
		return "", quote(s) + " is not a name; want a name such as shop, with no scheme, port or path", example
	case h == "":
		return "", quote(s) + " is localhost itself, which always serves the frontend", example
	}
	var fixed []string
	ok := true
	for label := range strings.SplitSeq(h, ".") {
		if !validLabel(label) {
			ok = false
		}
		if l := gitname.Label(label); l != "" {
			fixed = append(fixed, l)
		}
	}
	if !ok {
		fix := example
		if len(fixed) > 0 {
			fix = "write " + strconv.Quote(strings.Join(fixed, "."))
		}
		return "", quote(s) + " is not a name: use letters, digits and - between dots", fix
	}
	return h + ".localhost", "", ""
}

// validLabel reports whether s is a DNS label: 1 to 63 letters, digits and
// hyphens, not starting or ending with a hyphen.
func validLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// siteHosts refuses a site whose name is outside .localhost and not in
// allowed_hosts: browsers resolve *.localhost to this machine by
// themselves, any other name must be declared for this machine first.
func (p *parser) siteHosts(allowed []string) {
	for _, s := range p.siteRefs {
		if s.name == "localhost" || strings.HasSuffix(s.name, ".localhost") || slices.Contains(allowed, s.name) {
			continue
		}
		if strings.HasPrefix(s.name, "*.") {
			p.add(s.n, s.path, "name it below .localhost, such as "+strconv.Quote("*."+firstLabel(strings.TrimPrefix(s.name, "*."))+".localhost")+
				", or list each name under sites: and allowed_hosts:",
				"%s is a wildcard outside .localhost; allowed_hosts lists single names", quote(s.name))
			continue
		}
		p.add(s.n, s.path, "add it to allowed_hosts (allowed_hosts: ["+s.name+"]) and point it at 127.0.0.1 in /etc/hosts, or name it "+
			strconv.Quote(firstLabel(s.name)+".localhost"),
			"%s is not a .localhost name and not in allowed_hosts", quote(s.name))
	}
}

func firstLabel(h string) string {
	l, _, _ := strings.Cut(h, ".")
	return l
}
