package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// resolve follows an alias (*name) to the node its anchor (&name) marks.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what n is in words a user recognises from the file, for
// "want …, got …" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!bool":
			return n.Value
		case "!!int", "!!float":
			return "the number " + strings.Trim(quote(n.Value), `"`)
		}
		return quote(n.Value)
	}
	return "an unexpected value"
}

// quote quotes s for a message: whole, with control characters and
// invalid UTF-8 escaped. A value is never cut: the part cut off may be the
// very part that is wrong.
func quote(s string) string { return strconv.Quote(s) }

// text returns the string value of a scalar, with environment variables
// expanded. Numbers are read as text, so "listen: 8080" gets a message about
// the address rather than about its type.
func (p *parser) text(v *yaml.Node, field, want string) (string, bool) {
	return p.textHint(v, field, want, "")
}

// textHint is text with a hint for a value that is not a string.
func (p *parser) textHint(v *yaml.Node, field, want, hint string) (string, bool) {
	n := resolve(v)
	if n.Kind != yaml.ScalarNode || isNull(n) || n.ShortTag() == "!!bool" {
		p.add(n, field, hint, "want %s, got %s", want, describe(n))
		return "", false
	}
	return p.expand(n, field, n.Value)
}

// fromEnv reports whether a scalar gets its value from the environment, in
// which case its text decides its type: "${INSECURE:-false}" is a boolean.
func fromEnv(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && strings.Contains(n.Value, "${")
}

func (p *parser) boolean(v *yaml.Node, field string) (bool, bool) {
	n := resolve(v)
	if n.Kind == yaml.ScalarNode {
		switch {
		case n.ShortTag() == "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, true
			}
		case fromEnv(n):
			s, ok := p.expand(n, field, n.Value)
			if !ok {
				return false, false
			}
			if b, err := strconv.ParseBool(s); err == nil && (s == "true" || s == "false") {
				return b, true
			}
			p.add(n, field, "write true or false", "want true or false, got %s", quote(s))
			return false, false
		}
	}
	hint := ""
	switch strings.ToLower(n.Value) {
	case "true", "false":
		hint = "write " + strings.ToLower(n.Value) + " without quotes"
	case "yes", "on", "y":
		hint = "write true"
	case "no", "off", "n":
		hint = "write false"
	}
	p.add(n, field, hint, "want true or false, got %s", describe(n))
	return false, false
}

func (p *parser) integer(v *yaml.Node, field, want string) (int, bool) {
	n := resolve(v)
	if n.Kind == yaml.ScalarNode {
		switch {
		case n.ShortTag() == "!!int":
			var i int
			if err := n.Decode(&i); err == nil {
				return i, true
			}
		case fromEnv(n):
			s, ok := p.expand(n, field, n.Value)
			if !ok {
				return 0, false
			}
			if i, err := strconv.Atoi(s); err == nil {
				return i, true
			}
			p.add(n, field, "", "want %s, got %s", want, quote(s))
			return 0, false
		}
	}
	hint := ""
	if _, err := strconv.Atoi(n.Value); err == nil && n.Kind == yaml.ScalarNode {
		hint = "write " + n.Value + " without quotes"
	}
	p.add(n, field, hint, "want %s, got %s", want, describe(n))
	return 0, false
}

// duration reads a Go duration such as "30s"; unit is the unit the hint
// suggests for a bare number.
func (p *parser) duration(v *yaml.Node, field, unit string) (time.Duration, bool) {
	example := "30s"
	if unit == "ms" {
		example = "150ms"
	}
	n := resolve(v)
	if n.Kind != yaml.ScalarNode || isNull(n) || n.ShortTag() == "!!bool" {
		p.add(n, field, "write "+strconv.Quote(example), "want a duration such as %s, got %s", example, describe(n))
		return 0, false
	}
	s, ok := p.expand(n, field, n.Value)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		hint := fmt.Sprintf("write a number with a unit (ms, s, m, h), such as %q", example)
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && s != "" {
			hint = "write " + strconv.Quote(strings.TrimSpace(s)+unit)
		}
		p.add(n, field, hint, "%s is not a duration", quote(s))
		return 0, false
	}
	return d, true
}

// expand replaces ${NAME} and ${NAME:-default} in s, the value of n. The
// default applies when NAME is unset or empty, as in a shell. A "$" not
// followed by "{" stays as it is.
func (p *parser) expand(n *yaml.Node, field, s string) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	const hint = "write ${NAME} or ${NAME:-default}"
	var b strings.Builder
	ok := true
	// write adds an expanded piece, charged to the file's expansion
	// bound before it is built.
	write := func(v string) bool {
		if !p.spend(n, field, len(v)) {
			ok = false
			return false
		}
		b.WriteString(v)
		return true
	}
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			if !write(s) {
				return "", false
			}
			break
		}
		if !write(s[:i]) {
			return "", false
		}
		rest := s[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			p.add(n, field, `close it with "}"`, "unterminated %s", quote(s[i:]))
			return "", false
		}
		ref := rest[:j]
		name, def, hasDef := strings.Cut(ref, ":-")
		switch v, set := p.lookupEnv(name); {
		case !validEnvName(name):
			p.add(n, field, hint, "%s is not a valid variable reference", quote("${"+ref+"}"))
			ok = false
		case strings.Contains(def, "${"):
			p.add(n, field, "", "a default cannot contain another ${…}: %s", quote("${"+ref+"}"))
			ok = false
		case set && (v != "" || !hasDef):
			if !write(v) {
				return "", false
			}
		case hasDef:
			if !write(def) {
				return "", false
			}
		default:
			p.add(n, field, fmt.Sprintf("set %s, or write ${%s:-default}", name, name),
				"environment variable %s is not set", name)
			ok = false
		}
		s = rest[j+1:]
	}
	return b.String(), ok
}

func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// httpURL checks an http or https URL with a host and no query, fragment or
// user info; example is the fix the hints suggest. A trailing slash in the
// path is dropped so that base paths join cleanly.
func (p *parser) httpURL(n *yaml.Node, field, s, example string) (*url.URL, bool) {
	if s == "" {
		p.add(n, field, "write "+strconv.Quote(example), "is empty")
		return nil, false
	}
	if !strings.Contains(s, "://") {
		hint := "write " + strconv.Quote("http://"+s)
		if isDigits(s) {
			hint = "write " + strconv.Quote("http://localhost:"+s)
		} else if !looksLikeHostPort(s) {
			hint = fmt.Sprintf("write a full URL such as %q", example)
		}
		p.add(n, field, hint, "%s has no scheme", quote(s))
		return nil, false
	}
	u, err := parseURL(s)
	if err != nil {
		p.add(n, field, "", "%s is not a valid URL: %s", quote(s), urlErrMsg(err))
		return nil, false
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		_, rest, _ := strings.Cut(s, "://")
		scheme := "http"
		if u.Scheme == "wss" {
			scheme = "https"
		}
		hint := fmt.Sprintf("write %q; devproxy speaks http and https", scheme+"://"+rest)
		if u.Scheme == "ws" || u.Scheme == "wss" {
			hint = fmt.Sprintf("write %q; WebSocket upgrades go through http and https targets", scheme+"://"+rest)
		}
		p.add(n, field, hint, "%s has scheme %s, want http or https", quote(s), quote(u.Scheme))
		return nil, false
	}
	clean := *u
	clean.User, clean.RawQuery, clean.ForceQuery, clean.Fragment, clean.RawFragment = nil, "", false, "", ""
	write := "write " + strconv.Quote(clean.String())
	switch {
	case u.Hostname() == "":
		p.add(n, field, "write "+strconv.Quote(example), "%s has no host", quote(s))
	case u.User != nil:
		p.add(n, field, "remove it; send credentials with headers:, such as Authorization",
			"%s has a user name or password", quote(s))
	case u.RawQuery != "" || u.ForceQuery:
		p.add(n, field, write, "%s has a query", quote(s))
	case u.Fragment != "" || strings.Contains(s, "#"):
		p.add(n, field, write, "%s has a fragment", quote(s))
	case strings.HasSuffix(u.Host, ":"):
		p.add(n, field, "write "+strconv.Quote(strings.Replace(s, u.Host, strings.TrimSuffix(u.Host, ":"), 1)),
			"%s has an empty port", quote(s))
	case u.Port() != "" && !validPort(u.Port(), 1):
		p.add(n, field, "", "port %s in %s is not a number from 1 to 65535", quote(u.Port()), quote(s))
	default:
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = strings.TrimRight(u.RawPath, "/")
		return u, true
	}
	return nil, false
}

func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u, nil
}

// urlErrMsg is the reason of a url.Parse error without the quoted input,
// which the caller's message already shows.
func urlErrMsg(err error) string {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return strings.TrimPrefix(err.Error(), "net/url: ")
}

func validPort(s string, lowest int) bool {
	if !isDigits(s) || len(s) > 5 {
		return false
	}
	n, _ := strconv.Atoi(s)
	return n >= lowest && n <= 65535
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHostRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_'
}

// suggest is the hint for an unknown field name: the nearest known name when
// one is close, else the list of known names.
func suggest(name string, known []string) string {
	if best := Nearest(strings.ToLower(name), known); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "known fields: " + strings.Join(known, ", ")
}

// Nearest returns the name of known closest to name by edit distance, or ""
// when none is close enough to be the one meant: at most two edits, and
// at most half the known name. The request log uses it for a path that
// missed a route by a typo, the CLI for a mistyped flag.
func Nearest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		d := editDistance(name, k)
		if d < bestDist && d <= len(k)/2 {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps of
// adjacent characters that turn a into b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// json encodes the YAML value of f as JSON, keeping the order of mapping
// keys. The bytes it writes count against the file's expansion bound, as
// they are written: an alias costs the size of what it stands for.
func (p *parser) json(f field) ([]byte, bool) {
	e := &jsonEncoder{p: p, active: make(map[*yaml.Node]bool)}
	e.value(f.val, f.path)
	if !e.ok() {
		return nil, false
	}
	return e.buf.Bytes(), true
}

// jsonEncoder writes a YAML node tree as JSON; active holds the anchors
// being written, to catch one that contains itself.
type jsonEncoder struct {
	p      *parser
	buf    bytes.Buffer
	active map[*yaml.Node]bool
	failed bool
	// nodes counts the values written, to bound the work of aliases of
	// small values as maxExpanded bounds the memory.
	nodes int
}

// maxJSONNodes bounds the values one json: may write: a mock of a million
// values is far past any fixture.
const maxJSONNodes = 1_000_000

// room charges size more bytes of output at n, and reports whether they
// fit in the file's expansion bound.
func (e *jsonEncoder) room(n *yaml.Node, field string, size int) bool {
	if e.failed {
		return false
	}
	if !e.p.spend(n, field, size) {
		e.failed = true
		return false
	}
	return true
}

func (e *jsonEncoder) ok() bool { return !e.failed }

func (e *jsonEncoder) fail(n *yaml.Node, field, hint, format string, args ...any) {
	e.failed = true
	e.p.add(n, field, hint, format, args...)
}

func (e *jsonEncoder) value(n *yaml.Node, field string) {
	// Every value writes at least a byte or two ("[]", "null"): charging
	// them bounds the work of aliases of empty values too.
	if !e.room(n, field, 2) {
		return
	}
	if e.nodes++; e.nodes > maxJSONNodes {
		e.fail(n, field, expandHint, "expands to more than %d values", maxJSONNodes)
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			e.fail(n, field, "", "alias %s has no anchor", quote(n.Value))
			return
		}
		if e.active[n.Alias] {
			e.fail(n, field, "", "alias *%s refers to a value that contains it", n.Value)
			return
		}
		e.active[n.Alias] = true
		e.value(n.Alias, field)
		delete(e.active, n.Alias)
	case yaml.MappingNode:
		e.buf.WriteByte('{')
		seen := make(map[string]int)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				e.fail(k, field, "", "want a key, got %s", describe(k))
				return
			}
			fp := field + "." + k.Value
			if line, ok := seen[k.Value]; ok {
				e.fail(k, fp, "keep one of them", "set twice, first on line %d", line)
				return
			}
			seen[k.Value] = k.Line
			if i > 0 {
				e.buf.WriteByte(',')
			}
			if !e.room(k, fp, len(k.Value)) {
				return
			}
			e.string(k.Value)
			e.buf.WriteByte(':')
			e.value(n.Content[i+1], fp)
		}
		e.buf.WriteByte('}')
	case yaml.SequenceNode:
		e.buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				e.buf.WriteByte(',')
			}
			e.value(c, fmt.Sprintf("%s[%d]", field, i))
		}
		e.buf.WriteByte(']')
	case yaml.ScalarNode:
		e.scalar(n, field)
	default:
		e.fail(n, field, "", "want a JSON value, got %s", describe(n))
	}
}

func (e *jsonEncoder) scalar(n *yaml.Node, field string) {
	switch n.ShortTag() {
	case "!!null":
		e.buf.WriteString("null")
		return
	case "!!str":
		s, ok := e.p.expand(n, field, n.Value)
		if !ok || !e.room(n, field, len(s)) {
			e.failed = true
			return
		}
		e.string(s)
		return
	}
	var v any
	if err := n.Decode(&v); err != nil {
		e.fail(n, field, "remove the explicit type before the value, or fix the value", "cannot read %s", quote(n.Value))
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		e.fail(n, field, "quote it to send a string", "%s cannot be written as JSON", quote(n.Value))
		return
	}
	if !e.room(n, field, len(b)) {
		return
	}
	e.buf.Write(b)
}

// string writes s as a JSON string, leaving <, > and & as they are since the
// body is not embedded in HTML. It writes into the encoder's buffer
// directly: an alias-heavy value writes millions of strings.
func (e *jsonEncoder) string(s string) {
	const hex = "0123456789abcdef"
	b := &e.buf
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 end a line in JavaScript before ES2019.
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
