package importer

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// noNode notes, once, that a JavaScript file could not be read, and why.
func (im *importer) noNode(file string) {
	im.note(file, "not read: cannot run node (%v); install Node.js, or add its routes to devproxy.yaml by hand", im.nodeErr)
}

// loaded runs load.mjs and reports a failure in a note; it returns nil
// when nothing was read.
func (im *importer) loaded(mode, file, pkgName string) *jsResult {
	if im.nodeErr != nil {
		im.noNode(file)
		return nil
	}
	res, err := im.load(mode, file)
	switch {
	case err != nil:
		im.note(file, "not read: %v", err)
		return nil
	case res.Missing != "":
		im.note(file, "not read: the project's %s package is not installed; run npm install (or your package manager's install) and devproxy init again", res.Missing)
		return nil
	case res.Error != "":
		im.note(file, "not read: loading it with %s failed: %s; fix the error (or the missing environment), then run devproxy init again", pkgName, cleanSpace(res.Error))
		return nil
	}
	for _, w := range res.Warnings {
		im.note(file, "%s", w)
	}
	return res
}

func (im *importer) vite() {
	p := &im.res.Project
	mode, names := "vite", []string{"vite.config.ts", "vite.config.js", "vite.config.mjs", "vite.config.mts", "vite.config.cjs", "vite.config.cts"}
	if p.Framework == "Astro" {
		mode, names = "astro", []string{"astro.config.mjs", "astro.config.ts", "astro.config.js", "astro.config.mts"}
	}
	file := findFile(im.dir, names...)
	if file == "" {
		im.note("", "no %s: Vite runs with its defaults and has no proxy rules to import", names[0])
		return
	}
	res := im.loaded(mode, file, "Vite's loadConfigFromFile")
	if res == nil {
		return
	}
	if n, ok := port(res.Port); ok {
		where := "server.port"
		if mode == "astro" {
			where = "vite.server.port"
		}
		p.Port, p.PortFrom = n, file+" "+where
	}
	if h := res.HMR; h != nil {
		for _, s := range []struct {
			key string
			v   any
		}{{"server.hmr.clientPort", h.ClientPort}, {"server.hmr.host", h.Host}, {"server.hmr.port", h.Port}} {
			if s.v != nil {
				im.note(file, "%s is set: behind devproxy the HMR socket must use the page's origin; remove %s (see the README's dev server table)", s.key, s.key)
			}
		}
	}
	im.addRules(res.Rules)
}

func (im *importer) cra() {
	im.craProxyField()
	if findFile(im.dir, filepath.Join("src", "setupProxy.js")) == "" {
		return
	}
	res := im.loaded("setupproxy", "src/setupProxy.js", "a stand-in for Create React App's app")
	if res == nil {
		return
	}
	if res.StandIn {
		im.note("src/setupProxy.js", "http-proxy-middleware is not installed: read with a stand-in that records createProxyMiddleware's options without checking them; run npm install for an exact import")
	}
	im.addRules(res.Rules)
}

// craProxyField imports package.json's "proxy". A string is CRA's
// catch-all; an object is the react-scripts 1 form, path -> options.
func (im *importer) craProxyField() {
	raw := im.pkg.Proxy
	if len(raw) == 0 {
		return
	}
	var target string
	if json.Unmarshal(raw, &target) == nil {
		const from = `package.json "proxy"`
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			im.note(from, "%q is not an http(s) URL, which Create React App refuses too; not imported", target)
			return
		}
		target = strings.TrimRight(target, "/")
		im.res.Fallback = &Fallback{Target: target, From: from, Comment: []string{
			"Create React App sent every request that is not a page load (Accept: text/html),",
			"not a file of public/ and not its own socket there, whatever its path:",
			"devproxy sends what the dev server does not serve (it answers 404 or its page).",
		}}
		return
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		im.note(`package.json "proxy"`, "not read: want a URL string or an object of paths, got %s", strings.TrimSpace(string(raw)))
		return
	}
	im.addRules(staticRules(entries, `package.json "proxy"`))
}

func (im *importer) angular() {
	p := &im.res.Project
	file, port, from := angularServe(im.dir, im.pkg, p)
	if port > 0 {
		p.Port, p.PortFrom = port, from
	}
	if file == "" {
		return
	}
	if _, err := os.Stat(filepath.Join(im.dir, file)); err != nil {
		im.note(file, "not read: %s names it as the proxy config, but it does not exist", from)
		return
	}
	if strings.HasSuffix(file, ".json") && im.nodeErr != nil {
		data, err := os.ReadFile(filepath.Join(im.dir, file))
		if err != nil {
			im.note(file, "not read: %v", err)
			return
		}
		im.staticProxyJSON(file, data)
		return
	}
	if res := im.loaded("angular", file, "node"); res != nil {
		im.addRules(res.Rules)
	}
}

// staticProxyJSON reads a proxy config in JSON without Node: the object
// form, and the array form of entries with context.
func (im *importer) staticProxyJSON(file string, data []byte) {
	im.note(file, "read without Node (%v): pathRewrite rules other than a plain prefix removal are not understood", im.nodeErr)
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(data, &entries); err == nil {
		im.addRules(staticRules(entries, file))
		return
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(data, &list); err != nil {
		im.note(file, "not read: %v", err)
		return
	}
	for i, e := range list {
		var ctx []string
		if json.Unmarshal(e["context"], &ctx) != nil {
			var one string
			json.Unmarshal(e["context"], &one)
			ctx = []string{one}
		}
		r := staticRule(fmt.Sprintf("%s[%d]", file, i), ctx, e)
		im.addRules([]jsRule{r})
	}
}

// staticRules reads the object form of a proxy config from JSON.
func staticRules(entries map[string]json.RawMessage, from string) []jsRule {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []jsRule
	for _, k := range keys {
		var target string
		if json.Unmarshal(entries[k], &target) == nil {
			out = append(out, jsRule{From: fmt.Sprintf("%s['%s']", from, k), Contexts: []string{k}, Target: &target})
			continue
		}
		var opts map[string]json.RawMessage
		json.Unmarshal(entries[k], &opts)
		out = append(out, staticRule(fmt.Sprintf("%s['%s']", from, k), []string{k}, opts))
	}
	return out
}

func staticRule(from string, ctx []string, opts map[string]json.RawMessage) jsRule {
	r := jsRule{From: from, Contexts: ctx}
	var s string
	if json.Unmarshal(opts["target"], &s) == nil {
		r.Target = &s
	}
	var b bool
	if json.Unmarshal(opts["changeOrigin"], &b) == nil {
		r.ChangeOrigin = &b
	}
	var sec bool
	if json.Unmarshal(opts["secure"], &sec) == nil {
		r.Secure = &sec
	}
	json.Unmarshal(opts["headers"], &r.Headers)
	if raw, ok := opts["pathRewrite"]; ok {
		var pr map[string]string
		json.Unmarshal(raw, &pr)
		r.Rewrite = staticRewrite(pr, ctx)
		if r.Rewrite == nil {
			r.RewriteUnread = strings.TrimSpace(string(raw))
		}
	}
	for k := range opts {
		switch k {
		case "target", "changeOrigin", "secure", "headers", "pathRewrite", "context", "logLevel", "ws":
		default:
			r.Unknown = append(r.Unknown, k)
		}
	}
	sort.Strings(r.Unknown)
	return r
}

// staticRewrite understands, without Node, the one pathRewrite that needs
// no JavaScript regex: {"^/prefix": ""} removing a literal prefix.
func staticRewrite(pr map[string]string, ctx []string) map[string]string {
	if len(pr) != 1 {
		return nil
	}
	for re, to := range pr {
		lit, ok := literalPrefix(strings.TrimPrefix(re, "^"))
		if !strings.HasPrefix(re, "^") || !ok || (to != "" && to != "/") {
			return nil
		}
		out := map[string]string{}
		for _, c := range ctx {
			b := jsBase(c)
			if b != lit {
				return nil
			}
			for _, suf := range sampleSuffixes() {
				out[b+suf] = suf
			}
		}
		return out
	}
	return nil
}

// angularServe finds the proxy config and port of ng serve: the script's
// --proxy-config and --port first, then angular.json's serve options.
func angularServe(dir string, pkg *packageJSON, p *Project) (file string, port int, from string) {
	for _, s := range []string{"start", "dev", "serve"} {
		cmd := pkg.Scripts[s]
		if m := regexp.MustCompile(`--proxy-config[= ](\S+)`).FindStringSubmatch(cmd); m != nil {
			file = filepath.ToSlash(filepath.Clean(m[1]))
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "angular.json"))
	if err != nil {
		return file, 0, ""
	}
	var aj struct {
		DefaultProject string `json:"defaultProject"`
		Projects       map[string]struct {
			Architect map[string]struct {
				Options struct {
					ProxyConfig string `json:"proxyConfig"`
					Port        int    `json:"port"`
				} `json:"options"`
			} `json:"architect"`
		} `json:"projects"`
	}
	if err := json.Unmarshal(data, &aj); err != nil {
		return file, 0, ""
	}
	names := make([]string, 0, len(aj.Projects))
	for n := range aj.Projects {
		names = append(names, n)
	}
	sort.Strings(names)
	if aj.DefaultProject != "" {
		names = append([]string{aj.DefaultProject}, names...)
	}
	for _, n := range names {
		serve, ok := aj.Projects[n].Architect["serve"]
		if !ok {
			continue
		}
		if file == "" {
			file = filepath.ToSlash(filepath.Clean(serve.Options.ProxyConfig))
			if serve.Options.ProxyConfig == "" {
				file = ""
			}
		}
		// A --port in the script wins over angular.json, as in ng serve.
		if serve.Options.Port > 0 && !strings.HasPrefix(p.PortFrom, "package.json") {
			port, from = serve.Options.Port, fmt.Sprintf("angular.json projects.%s.architect.serve.options.port", n)
		}
		break
	}
	return file, port, from
}

func (im *importer) webpack() {
	file := ""
	for _, s := range []string{"dev", "start", "serve"} {
		if m := regexp.MustCompile(`(?:--config|-c)[= ](\S+)`).FindStringSubmatch(im.pkg.Scripts[s]); m != nil {
			file = filepath.ToSlash(filepath.Clean(m[1]))
			break
		}
	}
	if file == "" {
		file = findFile(im.dir, "webpack.config.js", "webpack.config.mjs", "webpack.config.cjs", "webpack.config.ts")
	}
	if file == "" {
		im.note("", "no webpack.config.js: no devServer.proxy to import")
		return
	}
	im.webpackFile = file
	if strings.HasSuffix(file, ".ts") {
		im.note(file, "not read: a TypeScript webpack config needs webpack-cli's loader; add its devServer.proxy routes by hand")
		return
	}
	res := im.loaded("webpack", file, "node")
	if res == nil {
		return
	}
	if n, ok := port(res.Port); ok {
		im.res.Project.Port, im.res.Project.PortFrom = n, file+" devServer.port"
	}
	if res.WebSocketURL != nil {
		im.webSocketURL = *res.WebSocketURL
	}
	im.addRules(res.Rules)
}

func (im *importer) next() {
	file := findFile(im.dir, "next.config.js", "next.config.mjs", "next.config.cjs", "next.config.ts")
	if file == "" {
		return
	}
	res := im.loaded("next", file, "Next.js's loadConfig")
	if res == nil {
		return
	}
	for _, r := range res.Rules {
		im.nextRewrite(r)
	}
}

// nextRewrite translates a rewrite of /prefix/:path* to an external URL;
// rewrites inside the app stay Next's.
func (im *importer) nextRewrite(r jsRule) {
	dest := r.Destination
	if !strings.HasPrefix(dest, "http://") && !strings.HasPrefix(dest, "https://") {
		return
	}
	src, ok := strings.CutSuffix(r.Source, "/:path*")
	base, ok2 := strings.CutSuffix(dest, "/:path*")
	lit, ok3 := literalPrefix(src)
	switch {
	case r.Has:
		im.note(r.From, "%s -> %s has has/missing conditions, which devproxy cannot express; not imported", r.Source, dest)
		return
	case !ok || !ok2 || !ok3 || lit == "":
		im.note(r.From, "%s -> %s is not a prefix rewrite (/prefix/:path* -> URL/:path*); add a route by hand", r.Source, dest)
		return
	}
	rt := Route{Path: lit, From: r.From}
	if strings.HasSuffix(base, lit) && strings.Count(base, "/") > 2 {
		rt.Target = strings.TrimSuffix(base, lit)
	} else {
		rt.Target, rt.StripPrefix = base, true
	}
	im.res.Routes = append(im.res.Routes, rt)
}
