package importer

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// sampleSuffixes are the paths a rewrite is tried on below its route's
// prefix: a prefix strip or replacement treats them all alike.
func sampleSuffixes() []string {
	return []string{"/devproxy-sample/1", "/1", "/a/b.json", ""}
}

// jsBase is the literal start of a context, as base() in load.mjs
// computes it: the key of the rewrite samples.
func jsBase(c string) string {
	s := strings.TrimPrefix(c, "^")
	if i := strings.IndexAny(s, "*([.+?\\$"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, "/")
}

// literalPrefix unescapes a regex fragment that matches one literal path,
// such as \/api\/v1, and reports false for anything with a metacharacter.
func literalPrefix(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte(`/.-_~`, s[i+1]) >= 0:
			i++
			b.WriteByte(s[i])
		case strings.IndexByte(`\^$.|?*+()[]{}`, c) >= 0:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// prefixOf turns a context (a path, a glob such as /api/** or, for regex,
// a regular expression such as ^/api/.*) into a route prefix. how says how
// a pattern was read, for the route's comment; ok is false for a context
// that is not a prefix.
func prefixOf(c string, regex bool) (prefix, how string, ok bool) {
	if regex || strings.HasPrefix(c, "^") {
		re := c
		if strings.HasPrefix(re, "/") && strings.LastIndexByte(re, '/') > 0 && regex {
			re = re[1:strings.LastIndexByte(re, '/')]
		}
		if !strings.HasPrefix(re, "^") {
			return "", "", false
		}
		body := re[1:]
		for _, tail := range []string{"(/.*)?", "(\\/.*)?", "/.*", "\\/.*", ".*", "/", "\\/"} {
			if t, cut := strings.CutSuffix(body, tail); cut {
				body = t
				break
			}
		}
		lit, ok := literalPrefix(body)
		lit = strings.TrimRight(lit, "/")
		if !ok || !strings.HasPrefix(lit, "/") || lit == "" {
			return "", "", false
		}
		return lit, fmt.Sprintf("the regex %s, read as the prefix %s (devproxy matches whole path segments)", c, lit), true
	}
	if !strings.HasPrefix(c, "/") {
		return "", "", false
	}
	p := c
	glob := false
	if i := strings.IndexByte(p, '*'); i >= 0 {
		p, glob = p[:i], true
	}
	p = strings.TrimRight(p, "/")
	if p == "" || strings.ContainsAny(p, "*?[]{}!") {
		return "", "", false
	}
	if glob {
		return p, fmt.Sprintf("the pattern %s, read as the prefix %s", c, p), true
	}
	return p, "", true
}

// addRules translates proxy entries into routes, noting what does not
// translate.
func (im *importer) addRules(rules []jsRule) {
	for _, r := range rules {
		im.addRule(r)
	}
}

func (im *importer) addRule(r jsRule) {
	if r.ContextFunction {
		im.note(r.From, "a function decides which paths are proxied; devproxy routes by path prefix: add a route for each prefix it accepts")
		return
	}
	if r.Target == nil || *r.Target == "" {
		im.note(r.From, "has no target; not imported")
		return
	}
	target := strings.TrimRight(*r.Target, "/")
	var wsNote string
	// A WebSocket target is the same server over HTTP: devproxy forwards
	// the upgrade on an http(s) target.
	if rest, ok := strings.CutPrefix(target, "ws://"); ok {
		target, wsNote = "http://"+rest, "target "+*r.Target+" written as http://, which carries its WebSockets"
	} else if rest, ok := strings.CutPrefix(target, "wss://"); ok {
		target, wsNote = "https://"+rest, "target "+*r.Target+" written as https://, which carries its WebSockets"
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		im.note(r.From, "target %q is not an http(s) URL; not imported", *r.Target)
		return
	}
	if r.Router != "" {
		what := map[string]string{"function": "a router function", "object": "a router table"}[r.Router]
		if what == "" {
			what = "a router"
		}
		im.note(r.From, "%s picks the target per request, which devproxy cannot express: imported with the default target %s; add a route per target by hand", what, target)
	}
	if r.Bypass {
		im.note(r.From, "the bypass function is not translated (devproxy does not run JavaScript): requests it sent to the dev server now go to the target; add a route with respond: or a more precise prefix if you need it")
	}
	if r.Configure {
		im.note(r.From, "configure/onProxyReq hooks are not translated; set fixed request headers with headers:")
	}
	if len(r.Unknown) > 0 {
		im.note(r.From, "options not translated: %s", strings.Join(r.Unknown, ", "))
	}
	for _, c := range r.Contexts {
		prefix, how, ok := prefixOf(c, r.Regex)
		if !ok {
			im.note(r.From, "%q is not a path prefix (devproxy routes by prefix): not imported; add a route for each prefix it should match", c)
			continue
		}
		rt := Route{Path: prefix, Target: target, From: r.From}
		if wsNote != "" {
			rt.Comment = append(rt.Comment, wsNote)
		}
		if how != "" {
			rt.Comment = append(rt.Comment, "from "+how)
		}
		if r.ChangeOrigin == nil || !*r.ChangeOrigin {
			rt.PreserveHost = true
			rt.Comment = append(rt.Comment, "no changeOrigin: the browser's Host is sent, as before")
		}
		if r.Secure != nil && !*r.Secure && u.Scheme == "https" {
			rt.Insecure = true
		}
		for name, v := range r.Headers {
			rt.Headers = append(rt.Headers, [2]string{name, fmt.Sprint(v)})
		}
		sort.Slice(rt.Headers, func(i, j int) bool { return rt.Headers[i][0] < rt.Headers[j][0] })
		if r.Timeout != nil && *r.Timeout > 0 {
			rt.Timeout = (time.Duration(*r.Timeout) * time.Millisecond).String()
		}
		if r.MountStripped {
			rt.StripPrefix = true
			rt.Comment = append(rt.Comment, "http-proxy-middleware 3 forwards the path below app.use's mount path")
		}
		if !im.rewrite(r, c, &rt) {
			continue
		}
		if i := slices.IndexFunc(im.res.Routes, func(o Route) bool { return o.Path == rt.Path && !o.Disabled }); i >= 0 {
			im.note(r.From, "%s is already routed by %s; not imported twice", rt.Path, im.res.Routes[i].From)
			continue
		}
		im.res.Routes = append(im.res.Routes, rt)
	}
}

// rewrite reads what the rule's rewrite did to the samples: remove the
// prefix (strip_prefix), replace it with another path (strip_prefix and a
// base path on the target), or leave the path alone. Anything else is
// noted and the route is not imported.
func (im *importer) rewrite(r jsRule, c string, rt *Route) bool {
	if r.RewriteUnread != "" {
		im.note(r.From, "pathRewrite %s needs Node to be understood: %s not imported; install Node.js and run devproxy init again, or add the route by hand", r.RewriteUnread, rt.Path)
		return false
	}
	if r.Rewrite == nil {
		return true
	}
	if jsBase(c) != rt.Path {
		im.note(r.From, "the rewrite of %q could not be tried on paths below %s: not imported", c, rt.Path)
		return false
	}
	same, strip := true, true
	base, replaced := "", true
	first := ""
	for i, suf := range sampleSuffixes() {
		in := rt.Path + suf
		out, ok := r.Rewrite[in]
		if !ok {
			im.note(r.From, "the rewrite of %q could not be tried on %s: not imported", c, in)
			return false
		}
		if first == "" && out != in {
			first = in + " into " + out
		}
		same = same && out == in
		strip = strip && (out == suf || suf == "" && out == "/")
		b, ok := strings.CutSuffix(out, suf)
		if i == 0 {
			base = b
		}
		replaced = replaced && ok && b == base && (suf != "" || b != "")
	}
	switch {
	case same:
		return true
	case strip:
		rt.StripPrefix = true
		return true
	case replaced && strings.HasPrefix(base, "/") && !strings.ContainsAny(base, "?#"):
		rt.StripPrefix = true
		rt.Target += strings.TrimRight(base, "/")
		rt.Comment = append(rt.Comment, fmt.Sprintf("the rewrite replaces %s with %s", rt.Path, base))
		return true
	}
	im.note(r.From, "the rewrite turns %s, which is not a prefix removal or replacement: not imported; add a route by hand", first)
	return false
}

// devServerNotes say what to change in the dev server's settings behind
// devproxy, from the README's table of dev servers.
func (im *importer) devServerNotes() {
	p := im.res.Project
	switch p.Tool {
	case Vite:
		if p.Framework != "Astro" {
			im.note("", "Vite needs no change behind devproxy: its HMR socket uses the page's origin (keep server.hmr.clientPort and server.hmr.host unset)")
		}
	case Webpack:
		file := im.webpackFile
		if file == "" {
			file = "webpack.config.js"
		}
		if !strings.Contains(im.webSocketURL, "auto://0.0.0.0:0") {
			im.note(file, "set devServer.client.webSocketURL: 'auto://0.0.0.0:0/ws', or the hot-reload socket goes to the dev server's own port, around devproxy")
		}
	case CRA:
		env, _ := os.ReadFile(filepath.Join(im.dir, ".env"))
		switch {
		case strings.Contains(string(env), "WDS_SOCKET_PORT=0"):
		case p.Command != "":
			// devproxy starts the dev server: the setting goes with it.
			im.res.Project.Env = append(im.res.Project.Env,
				EnvVar{Name: "WDS_SOCKET_PORT", Value: "0", Why: "the hot-reload socket on the page's port, devproxy's, not the dev server's own"},
				EnvVar{Name: "BROWSER", Value: "none", Why: "no tab on the dev server's own port; open devproxy's address instead"})
		default:
			im.note(".env", "add WDS_SOCKET_PORT=0, or the hot-reload socket goes to the dev server's own port, around devproxy")
		}
	case Angular:
		im.note("", "ng serve needs no change behind devproxy; use --allowed-hosts only for a name other than localhost")
	case Next:
		im.note("", "next dev needs no change behind devproxy; for a name other than localhost, list it in allowedDevOrigins in next.config.js")
	}
	if slices.ContainsFunc(im.res.Routes, func(r Route) bool { return !r.Disabled }) && p.Tool != "" {
		im.note("", "devproxy now answers the imported paths before the dev server sees them: its own proxy settings can go once you are happy")
	}
}
