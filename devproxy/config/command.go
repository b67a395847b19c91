package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// commandFields are the keys of a frontend or route mapping that describe
// the command devproxy starts for it, as found in the file.
type commandFields struct {
	command, dir, env *field
}

// set records f, one of the command, dir and env keys.
func (c *commandFields) set(_ *parser, f field) {
	switch f.name {
	case "command":
		c.command = &f
	case "dir":
		c.dir = &f
	case "env":
		c.env = &f
	}
}

// command reads the command, dir and env keys of the mapping at path into
// a Command; nil when there is no command key. A dir or env without a
// command is a problem, since nothing would use them.
func (p *parser) command(c commandFields, path string) *Command {
	if c.command == nil {
		for _, f := range []*field{c.dir, c.env} {
			if f != nil {
				p.add(f.key, f.path, fmt.Sprintf(`add "command: npm run dev" (the program to start) under %s, or remove %s`, path, f.name),
					"only applies together with command")
			}
		}
		return nil
	}
	cmd := &Command{Dir: p.dir, Line: c.command.key.Line}
	if s, ok := p.text(c.command.val, c.command.path, `a command line such as "npm run dev"`); ok {
		if strings.TrimSpace(s) == "" {
			p.add(resolve(c.command.val), c.command.path, `write the program to start, such as "npm run dev"`, "is empty")
		}
		cmd.Text = s
	}
	if c.dir != nil {
		if s, ok := p.text(c.dir.val, c.dir.path, `a folder such as "../api"`); ok {
			if abs, ok := p.folder(resolve(c.dir.val), c.dir.path, s); ok {
				cmd.Dir = abs
			}
		}
	}
	if c.env != nil {
		cmd.Env = p.env(*c.env)
	}
	return cmd
}

// env reads a mapping of environment variable names to values into
// NAME=value pairs, in file order.
func (p *parser) env(f field) []string {
	n := resolve(f.val)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, f.path, `write each variable on its own line, such as "DATABASE_URL: postgres://localhost/dev"`,
			"want a mapping of variable names to values, got %s", describe(n))
		return nil
	}
	var out []string
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.add(k, f.path, "", "want a variable name, got %s", describe(k))
			continue
		}
		fp := f.path + "." + k.Value
		if !validEnvName(k.Value) {
			p.add(k, fp, "use letters, digits and _, not starting with a digit", "%s is not a valid variable name", quote(k.Value))
			continue
		}
		if line, ok := seen[k.Value]; ok {
			p.add(k, fp, "keep one of them", "variable %s set twice, first on line %d", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		value := ""
		if !isNull(v) {
			if v.Kind != yaml.ScalarNode {
				p.add(v, fp, "quote the value", "want a string, got %s", describe(v))
				continue
			}
			s, ok := p.expand(v, fp, v.Value)
			if !ok {
				continue
			}
			if strings.ContainsRune(s, 0) {
				p.add(v, fp, "", "a variable's value cannot contain NUL")
				continue
			}
			value = s
		}
		out = append(out, k.Value+"="+value)
	}
	return out
}

// frontendMapping reads the long form of frontend: a folder (dir, spa) or
// a dev server devproxy starts (command, with url, dir and env).
func (p *parser) frontendMapping(f field, n *yaml.Node) *Frontend {
	fe := &Frontend{SPA: true, Line: f.key.Line}
	var cmd commandFields
	var dir, spa, urlField, fallback *field
	for _, g := range p.fields(n, f.path, frontendFields(), nil) {
		switch g.name {
		case "command", "env":
			cmd.set(p, g)
		case "dir":
			dir = &g
			cmd.set(p, g)
		case "spa":
			spa = &g
			if b, ok := p.boolean(g.val, g.path); ok {
				fe.SPA = b
			}
		case "fallback_api":
			fallback = &g
			if s, ok := p.text(g.val, g.path, `a URL such as "http://localhost:5000"`); ok {
				fe.FallbackAPI, _ = p.target(resolve(g.val), g.path, s, "http://localhost:5000")
				fe.FallbackLine = g.key.Line
			}
		case "url":
			urlField = &g
			if s, ok := p.text(g.val, g.path, `a URL such as "http://localhost:5173"`); ok {
				fe.URL, _ = p.target(resolve(g.val), g.path, s, "http://localhost:5173")
			}
		}
	}
	if cmd.command != nil {
		fe.Command = p.command(cmd, f.path)
		if spa != nil {
			p.add(spa.key, spa.path, "remove it; spa applies to a folder frontend, and the dev server does its own fallback",
				"only applies to a folder, not to command")
		}
		return fe
	}
	if cmd.env != nil {
		p.add(cmd.env.key, cmd.env.path, `add "command: npm run dev" (the dev server to start), or remove env`,
			"only applies together with command")
	}
	if fallback != nil && urlField == nil {
		p.add(fallback.key, fallback.path, `give the dev server with "url: http://localhost:3000" or "command: npm start"; a folder frontend answers 404 itself, so add a route for the API`,
			"only applies to a dev server (url or command)")
	}
	switch {
	case urlField != nil && dir != nil:
		p.add(urlField.key, urlField.path, "a frontend is either a dev server (url, or command) or a folder (dir); remove one",
			"cannot be used together with dir")
	case urlField != nil:
		if spa != nil {
			p.add(spa.key, spa.path, "remove it; spa applies to a folder frontend", "only applies to a folder, not to url")
		}
	case dir == nil:
		p.add(f.key, f.path, `add "dir: ./dist" with the folder to serve, or "command: npm run dev" with the dev server to start`, "has no dir or command")
	default:
		if s, ok := p.text(dir.val, dir.path, `a folder such as "./dist"`); ok {
			fe.Dir, _ = p.folder(resolve(dir.val), dir.path, s)
		}
	}
	return fe
}
