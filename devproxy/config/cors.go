package config

import (
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	"github.com/devproxy/devproxy/internal/web"
	"gopkg.in/yaml.v3"
)

// cors reads a route's cors block.
func (p *parser) cors(f field) *CORS {
	n := resolve(f.val)
	if n.Kind != yaml.MappingNode {
		p.add(n, f.path, `write "cors: {origins: [http://localhost:3000]}"`,
			"want a mapping with origins, credentials, headers and max_age, got %s", describe(n))
		return nil
	}
	c := &CORS{MaxAge: DefaultCORSMaxAge, Line: f.key.Line}
	hasOrigins := false
	for _, g := range p.fields(n, f.path, corsFields(), nil) {
		switch g.name {
		case "origins":
			hasOrigins = true
			c.Origins, c.Line = p.corsOrigins(g), g.key.Line
		case "credentials":
			c.Credentials, _ = p.boolean(g.val, g.path)
		case "headers":
			c.Headers = p.tokens(g, "Authorization", true, "leave headers out to allow whatever the preflight asks for")
		case "methods":
			c.Methods = p.tokens(g, "PUT", false, "leave methods out to allow whatever the preflight asks for")
		case "expose":
			c.Expose = p.tokens(g, "X-Total-Count", true, "leave expose out to expose every header of the response")
		case "max_age":
			if d, ok := p.duration(g.val, g.path, "s"); ok {
				if d < 0 {
					p.add(resolve(g.val), g.path, `write a duration such as "10m", or 0`, "must not be negative")
				} else {
					c.MaxAge = d
				}
			}
		}
	}
	if !hasOrigins {
		p.add(f.key, f.path, `add "origins: [http://localhost:3000]" with the origins of the pages that call this route`,
			"has no origins")
	}
	return c
}

// corsOrigins reads cors.origins: a list of origins, or one string, where
// each string may hold several origins separated by commas so that one
// environment variable can list them all.
func (p *parser) corsOrigins(f field) []string {
	n := resolve(f.val)
	var items []*yaml.Node
	switch {
	case n.Kind == yaml.SequenceNode:
		items = n.Content
	case n.Kind == yaml.ScalarNode && !isNull(n) && n.ShortTag() != "!!bool":
		items = []*yaml.Node{n}
	default:
		p.add(n, f.path, `write ["http://localhost:3000"]`, "want a list of origins, got %s", describe(n))
		return nil
	}
	if len(items) == 0 {
		p.add(n, f.path, `write ["http://localhost:3000"]`, "lists no origins")
		return nil
	}
	var out []string
	for i, c := range items {
		path := f.path
		if n.Kind == yaml.SequenceNode {
			path = f.path + "[" + strconv.Itoa(i) + "]"
		}
		s, ok := p.text(c, path, "an origin such as \"http://localhost:3000\"")
		if !ok {
			continue
		}
		c = resolve(c)
		if strings.TrimSpace(s) == "" {
			p.add(c, path, `write "http://localhost:3000"`, "is empty")
			continue
		}
		for part := range strings.SplitSeq(s, ",") {
			part = strings.TrimSpace(part)
			switch part {
			case "":
				continue
			case "*", "null":
				p.add(c, path, `list the origins of the pages that call this route, such as "http://localhost:3000"`,
					"%s is not allowed; devproxy answers only the origins it lists", quote(part))
				continue
			}
			if o, ok := p.origin(c, path, part); ok && !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// tokens reads a list of header names (canonical form) or of methods
// (upper case); example is a valid element for the hints, and star the hint
// for "*", which browsers do not honour with credentials.
func (p *parser) tokens(f field, example string, header bool, star string) []string {
	n := resolve(f.val)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		hint := "write [" + example + "]"
		if n.Kind == yaml.ScalarNode {
			hint = "write [" + n.Value + "]"
		}
		p.add(n, f.path, hint, "want a list, got %s", describe(n))
		return nil
	}
	out := []string{}
	for i, c := range n.Content {
		path := f.path + "[" + strconv.Itoa(i) + "]"
		s, ok := p.text(c, path, "a name such as "+strconv.Quote(example))
		if !ok {
			continue
		}
		c = resolve(c)
		switch {
		case s == "*":
			p.add(c, path, star, `"*" is not allowed; list the names`)
			continue
		case !web.IsToken(s):
			p.add(c, path, "", "%s is not a valid name", quote(s))
			continue
		}
		if header {
			s = textproto.CanonicalMIMEHeaderKey(s)
		} else {
			s = strings.ToUpper(s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
