package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// packageJSON is the part of package.json that Import reads.
type packageJSON struct {
	Scripts         map[string]string `json:"scripts"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	// Proxy is Create React App's "proxy" field: a string URL, or an
	// object in the form react-scripts 1 read.
	Proxy json.RawMessage `json:"proxy"`
}

func (p *packageJSON) has(name string) bool {
	_, a := p.Dependencies[name]
	_, b := p.DevDependencies[name]
	return a || b
}

func readPackage(dir string) (*packageJSON, error) {
	file := filepath.Join(dir, "package.json")
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no package.json in %s: run devproxy init in the frontend's project folder", dir)
	}
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("read %s: %v", file, err)
	}
	return &p, nil
}

// detect recognises the dev server from the dependencies, in the order
// that puts a framework before the tool it runs on.
func detect(dir string, pkg *packageJSON) Project {
	p := Project{Dir: dir}
	frameworks := []struct{ dep, name string }{
		{"@sveltejs/kit", "SvelteKit"},
		{"astro", "Astro"},
		{"@remix-run/dev", "Remix"},
		{"@react-router/dev", "React Router"},
		{"@solidjs/start", "SolidStart"},
		{"vue", "Vue"},
		{"svelte", "Svelte"},
		{"solid-js", "Solid"},
		{"preact", "Preact"},
		{"react", "React"},
	}
	switch {
	case pkg.has("next"):
		p.Tool = Next
	case pkg.has("nuxt"):
		p.Tool = Nuxt
	case pkg.has("@angular/cli") || pkg.has("@angular-devkit/build-angular") || pkg.has("@angular/build"):
		p.Tool = Angular
	case pkg.has("react-scripts"):
		p.Tool = CRA
	case pkg.has("vite") || pkg.has("astro") || pkg.has("@sveltejs/kit") || pkg.has("@react-router/dev") || pkg.has("@remix-run/dev"):
		p.Tool = Vite
		for _, f := range frameworks {
			if pkg.has(f.dep) {
				p.Framework = f.name
				break
			}
		}
	case pkg.has("webpack-dev-server") || pkg.has("webpack-cli"):
		p.Tool = Webpack
	}
	for _, s := range []string{"dev", "start", "serve"} {
		if cmd, ok := pkg.Scripts[s]; ok {
			p.Command = runScript(dir, s)
			if port, ok := scriptPort(cmd); ok {
				p.Port, p.PortFrom = port, fmt.Sprintf("package.json scripts.%s", s)
			}
			break
		}
	}
	if p.Port == 0 {
		if port, ok := defaultPort(p); ok {
			p.Port, p.PortFrom = port, fmt.Sprintf("%s's default", p.toolName())
		}
	}
	return p
}

func (p Project) toolName() string {
	if p.Framework == "Astro" {
		return "Astro"
	}
	return string(p.Tool)
}

func defaultPort(p Project) (int, bool) {
	switch {
	case p.Framework == "Astro":
		return 4321, true
	case p.Tool == Vite:
		return 5173, true
	case p.Tool == CRA, p.Tool == Next, p.Tool == Nuxt:
		return 3000, true
	case p.Tool == Angular:
		return 4200, true
	case p.Tool == Webpack:
		return 8080, true
	}
	return 0, false
}

// runScript is the command that runs a package.json script with the
// project's package manager, known by its lock file.
func runScript(dir, script string) string {
	pm := "npm"
	for _, l := range []struct{ file, pm string }{
		{"pnpm-lock.yaml", "pnpm"}, {"yarn.lock", "yarn"}, {"bun.lock", "bun"}, {"bun.lockb", "bun"},
	} {
		if _, err := os.Stat(filepath.Join(dir, l.file)); err == nil {
			pm = l.pm
			break
		}
	}
	if pm == "npm" && script == "start" {
		return "npm start"
	}
	return pm + " run " + script
}

// scriptPort finds the port a script sets: --port N, --port=N, -p N or a
// PORT=N before the command.
func scriptPort(cmd string) (int, bool) {
	re := regexp.MustCompile(`(?:^|\s)(?:--port[= ]|-p\s+|PORT=)(\d{1,5})(?:\s|$)`)
	m := re.FindStringSubmatch(cmd)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > 65535 {
		return 0, false
	}
	return n, true
}

// findFile returns the first of names that exists in dir.
func findFile(dir string, names ...string) string {
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err == nil && st.Mode().IsRegular() {
			return n
		}
	}
	return ""
}

// cleanSpace shortens a message from node to one line without colors.
func cleanSpace(s string) string {
	s = regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(s, "")
	return strings.Join(strings.Fields(s), " ")
}
