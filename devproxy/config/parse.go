package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/devproxy/devproxy/internal/regularfile"
	"github.com/devproxy/devproxy/internal/web"
	"gopkg.in/yaml.v3"
)

// The fields each mapping in devproxy.yaml accepts come from the key
// tables in schema.go, which the JSON Schema is made from too.
func topFields() []string { return names(topKeys()) }

func logFields() []string { return names(logKeys()) }

func inspectFields() []string { return names(inspectKeys()) }

func tlsFields() []string { return names(tlsKeys()) }

func frontendFields() []string { return names(frontendKeys()) }

func routeFields() []string { return names(routeKeys()) }

func corsFields() []string { return names(corsKeys()) }

func respondFields() []string { return names(respondKeys()) }

func siteFields() []string { return names(siteKeys()) }

// Parse parses and validates a devproxy.yaml. file names it in errors
// and its folder resolves relative paths; lookupEnv nil means os.LookupEnv.
// The error, when not nil, is Errors listing every problem in the file.
func Parse(file string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	return ParseFor(file, data, lookupEnv, nil)
}

// ParseFor is Parse for a server that listens, or is about to listen, on
// the addresses in listening besides the config's own listen: a frontend or
// route target on any of them is devproxy itself.
func ParseFor(file string, data []byte, lookupEnv func(string) (string, bool), listening []string) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		// Only a vanished working directory gets here; a relative Dir still
		// resolves the file's paths the same way.
		dir = filepath.Dir(file)
	}
	p := &parser{file: file, dir: dir, lookupEnv: lookupEnv}
	cfg := &Config{File: file, Dir: dir, Listen: DefaultListen}
	p.document(data, cfg)
	p.selfTargets(append([]string{cfg.Listen}, listening...))
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, p.errs
	}
	cfg.Warnings = shadowWarnings(cfg)
	return cfg, nil
}

// Load reads file and calls Parse. A missing file returns an
// error for which errors.Is(err, fs.ErrNotExist) is true.
func Load(file string, lookupEnv func(string) (string, bool)) (*Config, error) {
	cfg, _, err := LoadFor(file, lookupEnv, nil)
	return cfg, err
}

// LoadFor reads file and calls ParseFor. It also returns the bytes it
// parsed, so that a server watching the file can tell a later save of the
// same bytes from a change.
func LoadFor(file string, lookupEnv func(string) (string, bool), listening []string) (*Config, []byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := ParseFor(file, data, lookupEnv, listening)
	if err != nil {
		return nil, nil, err
	}
	return cfg, data, nil
}

// parser collects the problems of one file while it fills a Config, so that
// the user sees them all at once.
type parser struct {
	file      string
	dir       string
	lookupEnv func(string) (string, bool)
	errs      Errors
	// expanded counts the bytes that aliases and ${VAR}s have produced so
	// far; overspent is set once the file went past maxExpanded.
	expanded  int
	overspent bool
	// targets are the frontend and route targets, checked against the
	// listen address once the whole file is read.
	targets []targetRef
	// siteRefs are the names of the sites, checked against allowed_hosts
	// once the whole file is read.
	siteRefs []siteRef
}

// maxExpanded bounds the bytes a config's values may expand to, all of
// them together. Without it a file of a megabyte whose aliases repeat a
// large anchored value (a "billion laughs") or whose ${VAR}s repeat a long
// variable builds gigabytes: the bound is in bytes, since a few nodes can
// stand for any size. A mock body this large belongs in a file.
const maxExpanded = 16 << 20

// expandHint is the fix for a value that expands past maxExpanded.
const expandHint = "an alias (*name) or ${VAR} repeats its whole value each time it is used; " +
	"put a large body in a file and use file: instead"

// spend charges size bytes of expanded values to the file, at n. It
// reports false, once with a config error, when the file would go past
// maxExpanded.
func (p *parser) spend(n *yaml.Node, field string, size int) bool {
	if p.overspent {
		return false
	}
	if size > maxExpanded-p.expanded {
		p.overspent = true
		p.add(n, field, expandHint, "expands to more than %d MiB", maxExpanded>>20)
		return false
	}
	p.expanded += size
	return true
}

// targetRef is a target URL and where the file names it.
type targetRef struct {
	n     *yaml.Node
	field string
	u     *url.URL
}

// target checks a target URL as httpURL does and remembers it.
func (p *parser) target(n *yaml.Node, field, s, example string) (*url.URL, bool) {
	u, ok := p.httpURL(n, field, s, example)
	if ok {
		p.targets = append(p.targets, targetRef{n: n, field: field, u: u})
	}
	return u, ok
}

// selfTargets refuses a target that is devproxy itself, which would send
// every request round in a loop: a target on a port devproxy listens on,
// at an address that reaches that listener.
func (p *parser) selfTargets(listening []string) {
	for _, t := range p.targets {
		for _, l := range listening {
			if !reachesListener(t.u, l) {
				continue
			}
			what := "your API's own address, e.g. http://localhost:5000"
			if t.field == "frontend" {
				what = "your dev server's own address, e.g. http://localhost:5173 for Vite"
			}
			p.add(t.n, t.field, "point it at "+what+", not at the address you open in the browser",
				"%s is devproxy itself: devproxy listens on %s, so every request would come back to it", quote(t.u.String()), l)
			break
		}
	}
}

// reachesListener reports whether a connection to u's host and port
// reaches a listener on listen: the same port, and a host that is the
// listener's, or any loopback name for a loopback or wildcard listener, or
// any of this machine's addresses for a wildcard one.
func reachesListener(u *url.URL, listen string) bool {
	lh, lp, err := net.SplitHostPort(listen)
	if err != nil || lp == "0" || lp == "" {
		return false
	}
	port := u.Port()
	if port == "" {
		port = web.DefaultPort(u.Scheme)
	}
	if port != lp {
		return false
	}
	th := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	lh = strings.ToLower(lh)
	wildcard := lh == "" || lh == "0.0.0.0" || lh == "::"
	// Connecting to the unspecified address reaches the loopback
	// interface.
	loopback := web.IsLoopback(th) || th == "0.0.0.0" || th == "::"
	switch {
	case th == lh:
		return true
	case wildcard && loopback, web.IsLoopback(lh) && loopback:
		return true
	case wildcard:
		ip := net.ParseIP(th)
		if ip == nil {
			return false
		}
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return true
			}
		}
	}
	return false
}

// add records a problem at n.
func (p *parser) add(n *yaml.Node, field, hint, format string, args ...any) {
	line, col := 1, 0
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	p.errs = append(p.errs, &Error{
		File:  p.file,
		Line:  line,
		Col:   col,
		Field: field,
		Msg:   fmt.Sprintf(format, args...),
		Hint:  hint,
	})
}

func (p *parser) document(data []byte, cfg *Config) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err != io.EOF {
			p.syntaxError(data, err)
		}
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			p.syntaxError(data, err)
			return
		}
		at := &extra
		if at.Line == 0 && len(at.Content) > 0 {
			at = at.Content[0]
		}
		p.add(at, "", `remove the "---" line and everything after it`,
			"found a second YAML document; devproxy.yaml holds one")
		return
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	root = resolve(root)
	if isNull(root) {
		return
	}
	if root.Kind != yaml.MappingNode {
		p.add(root, "", `start with a line such as "listen: 127.0.0.1:8080"`,
			"want a mapping of settings such as listen, frontend and routes, got %s", describe(root))
		return
	}
	var httpsOff bool
	var httpsField field
	var nameNode *yaml.Node
	for _, f := range p.fields(root, "", topFields(), topHint) {
		switch f.name {
		case "listen":
			if s, ok := p.listen(f); ok {
				cfg.Listen = s
			}
		case "https":
			if b, ok := p.boolean(f.val, f.path); ok {
				cfg.HTTPS = b
				httpsOff = !b
				httpsField = f
			}
		case "tls":
			cfg.TLS = p.tlsFiles(f)
		case "name":
			if s, ok := p.text(f.val, f.path, `a name such as "shop"`); ok {
				if host, problem, fix := CheckName(s); problem != "" {
					p.add(resolve(f.val), f.path, fix, "%s", problem)
				} else {
					cfg.Name, cfg.NameLine = host, f.key.Line
					nameNode = resolve(f.val)
				}
			}
		case "frontend":
			cfg.Frontend = p.frontend(f)
		case "allowed_hosts":
			cfg.AllowedHosts = p.list(f, p.host)
		case "allowed_origins":
			cfg.AllowedOrigins = p.list(f, p.origin)
		case "routes":
			cfg.Routes = p.routes(f)
		case "sites":
			cfg.Sites = p.sites(f)
		case "log":
			cfg.Log = p.logSettings(f)
		case "inspect":
			cfg.Inspect = p.inspectSettings(f)
		}
	}
	p.siteHosts(cfg.AllowedHosts)
	for _, st := range cfg.Sites {
		if cfg.Name != "" && st.Name == cfg.Name {
			p.add(nameNode, "name", "choose another name, or move the frontend and routes into that site",
				"%s is also a site, on line %d", quote(cfg.Name), st.Line)
		}
	}
	if cfg.TLS != nil {
		if httpsOff {
			p.add(resolve(httpsField.val), httpsField.path, "remove https: false to serve the tls certificate, or remove the tls block",
				"is false, but tls on line %d gives a certificate to serve", cfg.TLS.Line)
		}
		cfg.HTTPS = true
	}
}

// tlsFiles reads the tls mapping: tls: {cert: FILE, key: FILE}.
func (p *parser) tlsFiles(f field) *TLSFiles {
	n := resolve(f.val)
	if n.Kind != yaml.MappingNode {
		p.add(n, f.path, `write "tls: {cert: localhost.pem, key: localhost-key.pem}"`, "want a mapping, got %s", describe(n))
		return nil
	}
	t := &TLSFiles{Line: f.key.Line}
	ok := true
	for _, g := range p.fields(n, f.path, tlsFields(), nil) {
		s, good := p.text(g.val, g.path, "a file name")
		if good {
			s, good = p.regularFile(resolve(g.val), g.path, s)
		}
		ok = ok && good
		switch g.name {
		case "cert":
			t.Cert = s
		case "key":
			t.Key = s
		}
	}
	for _, missing := range []struct{ name, got string }{{"cert", t.Cert}, {"key", t.Key}} {
		if missing.got == "" && ok {
			p.add(n, joinPath(f.path, missing.name), "give both files, as mkcert makes them: tls: {cert: localhost.pem, key: localhost-key.pem}", "is missing")
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return t
}

// logSettings reads the log mapping: log: {frontend: all}.
func (p *parser) logSettings(f field) LogSettings {
	var ls LogSettings
	n := resolve(f.val)
	if n.Kind != yaml.MappingNode {
		p.add(n, f.path, `write "log: {frontend: all}"`, "want a mapping, got %s", describe(n))
		return ls
	}
	for _, g := range p.fields(n, f.path, logFields(), nil) {
		s, ok := p.text(g.val, g.path, `"all" or "pages"`)
		if !ok {
			continue
		}
		switch s {
		case "all":
			ls.FrontendAll = true
		case "pages":
		default:
			p.add(resolve(g.val), g.path, `write "all" to log every frontend request, or "pages" (the default) for page loads and failures only`,
				"unknown value %s", quote(s))
		}
	}
	return ls
}

// inspectSettings reads inspect: true, false, or a mapping such as
// inspect: {requests: 5000}, which keeps the capture on.
func (p *parser) inspectSettings(f field) InspectSettings {
	var is InspectSettings
	n := resolve(f.val)
	if n.Kind != yaml.MappingNode {
		if b, ok := p.boolean(f.val, f.path); ok {
			is.Off = !b
		}
		return is
	}
	for _, g := range p.fields(n, f.path, inspectFields(), nil) {
		if g.name != "requests" {
			continue
		}
		want := fmt.Sprintf("a number of requests from 1 to %d", maxInspectRequests)
		if i, ok := p.integer(g.val, g.path, want); ok {
			if i < 1 || i > maxInspectRequests {
				p.add(resolve(g.val), g.path, fmt.Sprintf("write a number from 1 to %d (the default is %d); inspect: false stops the capture", maxInspectRequests, DefaultInspectRequests),
					"want %s, got %d", want, i)
				continue
			}
			is.Requests = i
		}
	}
	return is
}

// syntaxError turns an error of the YAML library into a Error. The
// library reports "yaml: line N: problem", or no line at all for some
// problems; those are placed where they can be found, else on line 1.
func (p *parser) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, tail
			}
		}
	}
	hint := ""
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			line = 1 + bytes.Count(data[:i], []byte("\n"))
		}
		msg = fmt.Sprintf("*%s refers to an anchor &%s that is not defined before it", name, name)
		hint = fmt.Sprintf("define &%s before using *%s", name, name)
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		line = 1 + bytes.Count(data[:i], []byte("\n"))
		msg = "the file is not valid UTF-8 text"
		hint = "save it as UTF-8"
	}
	line = min(max(line, 1), countLines(data))
	if hint == "" && strings.Contains(msg, "cannot start any token") && bytes.Contains(data, []byte("\t")) {
		hint = "indent with spaces; YAML does not allow tabs for indentation"
	}
	p.errs = append(p.errs, &Error{
		File: p.file,
		Line: line,
		Msg:  "invalid YAML: " + strings.ReplaceAll(msg, "!!", ""),
		Hint: hint,
	})
}

// countLines counts lines as YAML does, where "\r\n", "\r" and "\n" each
// end a line.
func countLines(data []byte) int {
	n := 1
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			n++
		case '\n':
			n++
		}
	}
	return n
}

// field is one known key of a mapping with its value.
type field struct {
	name     string
	key, val *yaml.Node
	path     string
}

// fields returns the pairs of mapping m whose keys are in known, in file
// order, and reports unknown and repeated keys. hint, when not nil, may
// explain an unknown key better than a did-you-mean.
func (p *parser) fields(m *yaml.Node, path string, known []string, hint func(string) string) []field {
	var out []field
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(k, path, "", "want a field name, got %s", describe(k))
			continue
		}
		name := k.Value
		fp := joinPath(path, name)
		if prev, ok := seen[name]; ok {
			p.add(k, fp, "keep one of them", "set twice, first on line %d", prev.Line)
			continue
		}
		seen[name] = k
		if !slices.Contains(known, name) {
			h := ""
			if hint != nil {
				h = hint(name)
			}
			if h == "" {
				h = suggest(name, known)
			}
			p.add(k, fp, h, "unknown field")
			continue
		}
		out = append(out, field{name: name, key: k, val: v, path: fp})
	}
	return out
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func topHint(name string) string {
	if strings.HasPrefix(name, "/") {
		return fmt.Sprintf("routes go under routes:, e.g. \"routes: {%s: http://localhost:5000}\"", name)
	}
	return ""
}

func routeHint(name string) string {
	if slices.Contains(respondFields(), name) && !slices.Contains(routeFields(), name) {
		return fmt.Sprintf("%s belongs under respond:", name)
	}
	return ""
}

func (p *parser) listen(f field) (string, bool) {
	s, ok := p.text(f.val, f.path, "an address such as "+strconv.Quote(exampleListen))
	if !ok {
		return "", false
	}
	if problem, fix := CheckListen(s); problem != "" {
		p.add(resolve(f.val), f.path, "write "+strconv.Quote(fix), "%s", problem)
		return "", false
	}
	return s, true
}

// exampleListen is the address a listen hint offers when s gives no better.
const exampleListen = "127.0.0.1:8080"

// CheckListen says what is wrong with s as a listen address (the config's
// listen, the -listen flag), and fix is the address to write instead.
// problem is empty when s is a valid host:port.
func CheckListen(s string) (problem, fix string) {
	switch {
	case s == "":
		return "is empty", exampleListen
	case strings.Contains(s, "://"):
		fix = exampleListen
		if u, err := parseURL(s); err == nil && u.Host != "" {
			fix = u.Host
		}
		return quote(s) + " has a scheme; want host:port", fix
	case isDigits(s):
		return quote(s) + " has no host", "127.0.0.1:" + s
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		fix = exampleListen
		if !strings.Contains(s, ":") {
			fix = s + ":8080"
		}
		return quote(s) + " is not host:port", fix
	}
	if !validPort(port, 0) {
		return fmt.Sprintf("port %s in %s is not a number from 0 to 65535", quote(port), quote(s)), net.JoinHostPort(host, "8080")
	}
	return "", ""
}

func (p *parser) frontend(f field) *Frontend {
	n := resolve(f.val)
	switch {
	case n.Kind == yaml.MappingNode:
		return p.frontendMapping(f, n)
	case n.Kind == yaml.ScalarNode && !isNull(n) && n.ShortTag() != "!!bool":
		s, ok := p.expand(n, f.path, n.Value)
		if !ok {
			return nil
		}
		return p.frontendString(n, f, s)
	}
	p.add(n, f.path, `write "http://localhost:5173" for a dev server or "./dist" for a folder`,
		"want a URL, a folder or a mapping with dir and spa, got %s", describe(n))
	return nil
}

func (p *parser) frontendString(n *yaml.Node, f field, s string) *Frontend {
	lower := strings.ToLower(s)
	switch {
	case s == "":
		p.add(n, f.path, `write "http://localhost:5173" for a dev server or "./dist" for a folder`, "is empty")
		return nil
	case strings.Contains(lower, "://"):
		u, ok := p.target(n, f.path, s, "http://localhost:5173")
		if !ok {
			return nil
		}
		return &Frontend{URL: u, Line: f.key.Line}
	case looksLikeHostPort(s):
		p.add(n, f.path, "write "+strconv.Quote("http://"+s), "%s has no scheme", quote(s))
		return nil
	}
	dir, ok := p.folder(n, f.path, s)
	if !ok {
		return nil
	}
	return &Frontend{Dir: dir, SPA: true, Line: f.key.Line}
}

// looksLikeHostPort reports whether s reads as host:port (with an optional
// path) rather than as a folder, as in "localhost:5173" or "[::1]:5173/app".
func looksLikeHostPort(s string) bool {
	hostport, _, _ := strings.Cut(s, "/")
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || !isDigits(hostport[i+1:]) {
		return false
	}
	host := hostport[:i]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return true
	}
	for _, r := range host {
		if !isHostRune(r) {
			return false
		}
	}
	return true
}

// isHostName reports whether s is made of the characters of a host name.
func isHostName(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return !isHostRune(r) }) < 0
}

// folder resolves s against the config's folder and checks that it is a
// folder.
func (p *parser) folder(n *yaml.Node, field, s string) (string, bool) {
	if s == "" {
		p.add(n, field, `write a folder such as "./dist"`, "is empty")
		return "", false
	}
	abs := p.abs(s)
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		hint := "build the frontend first, or fix the path; a relative path starts at the config file's folder"
		if strings.HasPrefix(s, "~") {
			hint = "devproxy does not expand ~; write the path relative to the config file or in full"
		}
		p.add(n, field, hint, "folder %s does not exist", quote(abs))
		return "", false
	case err != nil:
		p.add(n, field, "", "cannot read folder %s: %s", quote(abs), pathErrMsg(err))
		return "", false
	case !st.IsDir():
		p.add(n, field, "name the folder that holds index.html", "%s is not a folder", quote(abs))
		return "", false
	}
	return abs, true
}

// regularFile resolves s against the config's folder and checks that it is a
// regular file.
func (p *parser) regularFile(n *yaml.Node, field, s string) (string, bool) {
	if s == "" {
		p.add(n, field, `write a file such as "mocks/hello.json"`, "is empty")
		return "", false
	}
	abs := p.abs(s)
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.add(n, field, "create it, or fix the path; a relative path starts at the config file's folder",
			"file %s does not exist", quote(abs))
		return "", false
	case err != nil:
		p.add(n, field, "", "cannot read file %s: %s", quote(abs), pathErrMsg(err))
		return "", false
	case st.IsDir():
		p.add(n, field, "name a file inside it", "%s is a folder, want a file", quote(abs))
		return "", false
	case !st.Mode().IsRegular():
		// A device such as /dev/zero never ends and a FIFO blocks its
		// reader: a mock reads its whole file for each request.
		p.add(n, field, "name a regular file", "%s is %s, not a regular file", quote(abs), regularfile.Kind(st.Mode()))
		return "", false
	}
	return abs, true
}

func (p *parser) abs(s string) string {
	s = filepath.FromSlash(s)
	if filepath.IsAbs(s) {
		return filepath.Clean(s)
	}
	return filepath.Join(p.dir, s)
}

func pathErrMsg(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// list calls item for each element of the list in f and returns the values
// it accepts.
func (p *parser) list(f field, item func(n *yaml.Node, path, s string) (string, bool)) []string {
	n := resolve(f.val)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		hint := ""
		if n.Kind == yaml.ScalarNode {
			hint = fmt.Sprintf("write [%s]", n.Value)
		}
		p.add(n, f.path, hint, "want a list, got %s", describe(n))
		return nil
	}
	var out []string
	for i, c := range n.Content {
		path := fmt.Sprintf("%s[%d]", f.path, i)
		s, ok := p.text(c, path, "a string")
		if !ok {
			continue
		}
		if v, ok := item(resolve(c), path, s); ok {
			out = append(out, v)
		}
	}
	return out
}

// host checks one of allowed_hosts: a bare host name, compared without
// regard to case.
func (p *parser) host(n *yaml.Node, field, s string) (string, bool) {
	switch {
	case s == "":
		p.add(n, field, `write a host name such as "myapp.test"`, "is empty")
		return "", false
	case strings.Contains(s, "://"):
		hint := ""
		if u, err := parseURL(s); err == nil && u.Hostname() != "" {
			hint = "write " + strconv.Quote(u.Hostname())
		}
		p.add(n, field, hint, "%s has a scheme; want a host name", quote(s))
		return "", false
	case strings.Contains(s, "/"):
		before, _, _ := strings.Cut(s, "/")
		p.add(n, field, "write "+strconv.Quote(before), "%s has a path; want a host name", quote(s))
		return "", false
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		p.add(n, field, "write "+strconv.Quote(h), "%s has a port; want a host name", quote(s))
		return "", false
	}
	h := strings.ToLower(strings.TrimSuffix(s, "."))
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || strings.IndexFunc(label, func(r rune) bool { return !isHostRune(r) || r == '.' }) >= 0 {
			p.add(n, field, "", "%s is not a host name", quote(s))
			return "", false
		}
	}
	return h, true
}

// origin checks one of allowed_origins: scheme://host[:port], as browsers
// send it in the Origin header.
func (p *parser) origin(n *yaml.Node, field, s string) (string, bool) {
	const example = "http://localhost:3000"
	o, prob := web.ParseOrigin(s)
	if prob == nil {
		return o, true
	}
	write := "write " + strconv.Quote(prob.Write)
	switch prob.Fault {
	case web.OriginEmpty:
		p.add(n, field, "write "+strconv.Quote(example), "is empty")
	case web.OriginNoScheme:
		hint := "write " + strconv.Quote(example)
		if hostport := strings.TrimRight(s, "/"); looksLikeHostPort(hostport) || isHostName(hostport) {
			hint = "write " + strconv.Quote("http://"+hostport)
		}
		p.add(n, field, hint, "%s has no scheme", quote(s))
	case web.OriginNotURL:
		p.add(n, field, "write "+strconv.Quote(example), "%s is not an origin: %s", quote(s), prob.Detail)
	case web.OriginScheme:
		scheme, _, _ := strings.Cut(prob.Write, "://")
		p.add(n, field, "only pages served over http or https can be allowed, such as "+strconv.Quote(example),
			"%s has scheme %s, want http or https", quote(s), quote(scheme))
	case web.OriginNoHost:
		p.add(n, field, "write "+strconv.Quote(example), "%s has no host", quote(s))
	case web.OriginUser:
		p.add(n, field, write, "%s has a user name or password; an origin has none", quote(s))
	case web.OriginQuery:
		p.add(n, field, write, "%s has a query; an origin has none", quote(s))
	case web.OriginFragment:
		p.add(n, field, write, "%s has a fragment; an origin has none", quote(s))
	case web.OriginTrailingSlash:
		p.add(n, field, write, "%s has a trailing slash", quote(s))
	case web.OriginPath:
		p.add(n, field, write, "%s has a path; an origin has none", quote(s))
	case web.OriginEmptyPort:
		p.add(n, field, write, "%s has an empty port", quote(s))
	case web.OriginBadPort:
		p.add(n, field, "", "port %s in %s is not a number from 1 to 65535", quote(prob.Detail), quote(s))
	}
	return "", false
}

// keyedMapping describes a block whose keys name its entries, such as
// routes: (path prefixes) and sites: (host names), for entries.
type keyedMapping struct {
	entry     string // what one entry is called: "route", "site"
	blockHint string // how to write the block when it is not a mapping
	blockWant string // what the block must be, as in "want a mapping of …"
	keyHint   string // how to write a key that is not a scalar
	keyWant   string // what a key must be, as in "want a path prefix"
	// key checks a key and returns it normalised; false means it is not
	// usable, and key has said why.
	key func(k *yaml.Node, field, s string) (string, bool)
}

// entries reads the block of f as m describes it and calls each for every
// entry whose key is a scalar, in order: name is the key normalised, ok is
// false when the key is not usable or names an entry already read (which
// entries reports once, for both spellings of one name).
func (p *parser) entries(f field, m keyedMapping, each func(k, v *yaml.Node, fp, name string, ok bool)) {
	n := resolve(f.val)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, f.path, m.blockHint, "want %s, got %s", m.blockWant, describe(n))
		return
	}
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(k, f.path, m.keyHint, "want %s, got %s", m.keyWant, describe(k))
			continue
		}
		fp := f.path + "." + k.Value
		name, ok := m.key(k, fp, k.Value)
		if ok {
			if prev, dup := seen[name]; dup {
				if prev.Value == k.Value {
					p.add(k, fp, "keep one of them", "%s set twice, first on line %d", m.entry, prev.Line)
				} else {
					p.add(k, fp, "merge them into one "+m.entry,
						"%s and %s on line %d are the same %s %s", quote(k.Value), quote(prev.Value), prev.Line, m.entry, quote(name))
				}
				ok = false
			} else {
				seen[name] = k
			}
		}
		each(k, v, fp, name, ok)
	}
}

func (p *parser) routes(f field) []Route {
	var out []Route
	p.entries(f, keyedMapping{
		entry:     "route",
		blockHint: `put each route on its own line under routes:, such as "/api: http://localhost:5000"`,
		blockWant: "a mapping of path prefixes to targets",
		keyHint:   `write a path prefix such as "/api"`,
		keyWant:   "a path prefix",
		key:       p.routePath,
	}, func(k, v *yaml.Node, fp, prefix string, ok bool) {
		r := p.route(k, v, fp)
		r.Path, r.Line = prefix, k.Line
		if ok {
			out = append(out, r)
		}
	})
	return out
}

// routePath checks a route's key and returns it normalised.
func (p *parser) routePath(k *yaml.Node, field, s string) (string, bool) {
	switch {
	case s == "":
		p.add(k, field, `write a path prefix such as "/api"`, "a route needs a path prefix")
		return "", false
	case !strings.HasPrefix(s, "/"):
		p.add(k, field, "write "+strconv.Quote("/"+s), "%s does not start with \"/\"", quote(s))
		return "", false
	case strings.ContainsAny(s, "?#"):
		before, _, _ := strings.Cut(s, "?")
		before, _, _ = strings.Cut(before, "#")
		p.add(k, field, "write "+strconv.Quote(before)+"; a route matches the path only",
			"%s has a query or fragment", quote(s))
		return "", false
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		p.add(k, field, "", "%s contains a space or control character", quote(s))
		return "", false
	}
	trimmed := strings.TrimRight(s, "/")
	clean := path.Clean(s)
	for seg := range strings.SplitSeq(trimmed, "/") {
		if seg == "." || seg == ".." {
			p.add(k, field, "write "+strconv.Quote(clean), "%s has a %q segment", quote(s), seg)
			return "", false
		}
	}
	switch {
	case trimmed == "":
		p.add(k, field, "leave it out; frontend: receives every request that no route claims",
			"a route for %s would claim every request", quote(s))
		return "", false
	case strings.Contains(trimmed, "//"):
		p.add(k, field, "write "+strconv.Quote(clean), "%s has an empty segment", quote(s))
		return "", false
	case trimmed == ReservedPrefix || strings.HasPrefix(trimmed, ReservedPrefix+"/"):
		p.add(k, field, "choose another prefix",
			"%s is under %s, which devproxy keeps for its own endpoints", quote(s), ReservedPrefix)
		return "", false
	}
	return trimmed, true
}

// route reads the value of one route, short or long form.
func (p *parser) route(k, v *yaml.Node, fp string) Route {
	r := Route{Timeout: DefaultTimeout}
	n := resolve(v)
	switch {
	case isNull(n):
		p.add(k, fp, `write "`+k.Value+`: http://localhost:5000", or add target: or respond: under it`,
			"route has no target")
		return r
	case n.Kind == yaml.ScalarNode && n.ShortTag() != "!!bool":
		if s, ok := p.expand(n, fp, n.Value); ok {
			r.Target, _ = p.target(n, fp, s, "http://localhost:5000")
		}
		return r
	case n.Kind != yaml.MappingNode:
		p.add(n, fp, `write a target such as "http://localhost:5000", or a mapping with target: or respond:`,
			"want a target URL or a mapping, got %s", describe(n))
		return r
	}
	var target, respond *field
	var proxyOnly []field
	var cmd commandFields
	keys := map[string]*field{}
	for _, f := range p.fields(n, fp, routeFields(), routeHint) {
		keys[f.name] = &f
		switch f.name {
		case "record":
			proxyOnly = append(proxyOnly, f)
			r.Record = p.record(f)
		case "record_secrets":
			proxyOnly = append(proxyOnly, f)
		case "replay":
			r.Replay = p.replay(f)
		case "fallback":
			proxyOnly = append(proxyOnly, f)
			r.Fallback = p.fallbackURL(f)
		case "latency":
			p.latency(f, &r.Inject)
		case "fail":
			p.fail(f, &r.Inject)
		case "throttle":
			p.throttle(f, &r.Inject)
		case "rate_limit":
			p.rateLimit(f, &r.Inject)
		case "target":
			target = &f
			if s, ok := p.text(f.val, f.path, `a URL such as "http://localhost:5000"`); ok {
				r.Target, _ = p.target(resolve(f.val), f.path, s, "http://localhost:5000")
			}
		case "respond":
			respond = &f
			r.Respond = p.respond(f)
		case "cors":
			r.CORS = p.cors(f)
		case "command", "dir", "env":
			cmd.set(p, f)
		case "strip_prefix":
			proxyOnly = append(proxyOnly, f)
			r.StripPrefix, _ = p.boolean(f.val, f.path)
		case "host":
			proxyOnly = append(proxyOnly, f)
			if s, ok := p.text(f.val, f.path, "target or preserve"); ok {
				switch s {
				case "target":
				case "preserve":
					r.PreserveHost = true
				default:
					p.add(resolve(f.val), f.path,
						`write "preserve" to send the browser's Host upstream, or "target" (the default) to send the target's`,
						"%s is not target or preserve", quote(s))
				}
			}
		case "insecure":
			proxyOnly = append(proxyOnly, f)
			r.Insecure, _ = p.boolean(f.val, f.path)
		case "headers":
			proxyOnly = append(proxyOnly, f)
			r.Headers = p.headers(f)
		case "timeout":
			proxyOnly = append(proxyOnly, f)
			if d, ok := p.duration(f.val, f.path, "s"); ok {
				if d <= 0 {
					p.add(resolve(f.val), f.path, `write a duration such as "30s"`, "must be more than 0")
				} else {
					r.Timeout = d
				}
			}
		}
	}
	r.Command = p.command(cmd, fp)
	p.offline(&r, k, fp, keys)
	replay := keys["replay"]
	if replay != nil && respond != nil {
		p.add(replay.key, replay.path, "a mock answers itself; remove replay, or respond to answer from the recordings",
			"cannot be used together with respond")
	}
	switch {
	case target != nil && respond != nil:
		p.add(respond.key, respond.path, "a route either forwards to target or answers with respond; remove one",
			"cannot be used together with target")
	case cmd.command != nil && respond != nil:
		p.add(cmd.command.key, cmd.command.path, "a mock needs no program; remove command, or respond to forward to the command",
			"cannot be used together with respond")
	case target == nil && respond == nil && cmd.command != nil:
		// The command's port is picked when it starts.
	case target == nil && respond == nil && replay != nil:
		// The recordings answer; no target is needed.
	case target == nil && respond == nil:
		p.add(k, fp, "add target: http://localhost:5000, respond: to answer with a mock, or replay: to answer from recordings",
			"route has neither target nor respond")
	case respond != nil:
		for _, f := range proxyOnly {
			hint := "remove it"
			if f.name == "headers" {
				hint = "to set headers on the mock's response, move headers under respond:"
			}
			p.add(f.key, f.path, hint, "only applies to a route with target, not to respond")
		}
	}
	return r
}

func (p *parser) headers(f field) []Header {
	n := resolve(f.val)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, f.path, `write each header on its own line, such as "X-Dev-User: alice"`,
			"want a mapping of header names to values, got %s", describe(n))
		return nil
	}
	var out []Header
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.add(k, f.path, "", "want a header name, got %s", describe(k))
			continue
		}
		fp := f.path + "." + k.Value
		if !web.IsToken(k.Value) {
			p.add(k, fp, "", "%s is not a valid header name", quote(k.Value))
			continue
		}
		name := textproto.CanonicalMIMEHeaderKey(k.Value)
		if line, ok := seen[name]; ok {
			p.add(k, fp, "keep one of them", "header %s set twice, first on line %d", name, line)
			continue
		}
		seen[name] = k.Line
		value := ""
		if !isNull(v) {
			s, ok := p.text(v, fp, "a string")
			if !ok {
				continue
			}
			if strings.ContainsAny(s, "\r\n\x00") {
				p.add(v, fp, "", "a header value cannot contain a line break or NUL")
				continue
			}
			value = s
		}
		out = append(out, Header{Name: name, Value: value})
	}
	return out
}

func (p *parser) respond(f field) *Respond {
	n := resolve(f.val)
	if n.Kind != yaml.MappingNode {
		p.add(n, f.path, `write "respond: {status: 200, json: {ok: true}}"`,
			"want a mapping with status, json, body or file, got %s", describe(n))
		return nil
	}
	r := &Respond{Status: 200}
	var bodyField string
	for _, g := range p.fields(n, f.path, respondFields(), nil) {
		if g.name == "json" || g.name == "body" || g.name == "file" {
			if bodyField != "" {
				p.add(g.key, g.path, "give one of json, body or file", "cannot be used together with %s", bodyField)
				continue
			}
			bodyField = g.name
		}
		switch g.name {
		case "status":
			p.status(g, r)
		case "json":
			if b, ok := p.json(g); ok {
				r.Body, r.ContentType = b, "application/json"
			}
		case "body":
			s := ""
			if v := resolve(g.val); !isNull(v) {
				var ok bool
				if s, ok = p.textHint(g.val, g.path, "a string", "use json: for structured data"); !ok {
					continue
				}
			}
			// A body is copied for each route that uses it, so an alias of
			// one costs its size each time.
			if !p.spend(resolve(g.val), g.path, len(s)) {
				continue
			}
			r.Body, r.ContentType = []byte(s), "text/plain; charset=utf-8"
		case "file":
			if s, ok := p.text(g.val, g.path, `a file such as "mocks/hello.json"`); ok {
				if abs, ok := p.regularFile(resolve(g.val), g.path, s); ok {
					r.File = abs
					r.ContentType = mime.TypeByExtension(filepath.Ext(abs))
					if r.ContentType == "" {
						r.ContentType = "application/octet-stream"
					}
				}
			}
		case "headers":
			r.Headers = p.headers(g)
		case "delay":
			if d, ok := p.duration(g.val, g.path, "ms"); ok {
				if d < 0 {
					p.add(resolve(g.val), g.path, `write a duration such as "150ms", or 0`, "must not be negative")
				} else {
					r.Delay = d
				}
			}
		}
	}
	return r
}

func (p *parser) status(f field, r *Respond) {
	code, ok := p.integer(f.val, f.path, "a status code such as 200")
	if !ok {
		return
	}
	n := resolve(f.val)
	switch {
	case code >= 100 && code < 200:
		p.add(n, f.path, "write a status from 200 to 599",
			"%d is an informational status that a mock cannot send; want 200 to 599", code)
	case code < 200 || code > 599:
		p.add(n, f.path, "write a status from 200 to 599", "%d is not an HTTP status; want 200 to 599", code)
	default:
		r.Status = code
	}
}
