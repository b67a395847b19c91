package devproxy

import (
	"net/http"
	"net/url"
	"strings"
)

// resolveDots applies the path rule to raw, a request's path exactly as
// sent: its dot segments (".", "..", with either dot written %2e or %2E)
// are removed as RFC 3986 section 5.2.4 says, and every other byte is kept
// as sent, so %2F stays %2F. It refuses a ".." that climbs above the root,
// and a segment that hides a dot segment a target could find by decoding
// it: behind an encoded slash (..%2F), a backslash (..\ or %5C, a
// separator on Windows servers) or a path parameter (..;x, which Tomcat
// drops before it resolves). raw is returned unchanged, without
// allocating, when it needs no change.
func resolveDots(raw string) (string, *proxyError) {
	if raw == "" || raw[0] != '/' || !strings.ContainsAny(raw, ".%\\") {
		return raw, nil
	}
	changed := false
	for seg := range strings.SplitSeq(raw[1:], "/") {
		switch dot, hidden := classifySegment(seg); {
		case hidden:
			return "", badPath(raw, "segment "+quoteText(seg)+" hides a dot segment behind an encoded slash, a backslash or a ';', which a target could decode and resolve outside the route",
				"send real slashes and no dot segments; devproxy refuses a path that could leave the route it matched")
		case dot != 0:
			changed = true
		}
	}
	if !changed {
		return raw, nil
	}
	segs := strings.Split(raw[1:], "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		last := i == len(segs)-1
		switch dot, _ := classifySegment(seg); dot {
		case 0:
			out = append(out, seg)
			continue
		case 2:
			if len(out) == 0 {
				return "", badPath(raw, `".." climbs above the root`,
					"remove the extra \"..\"; a path cannot go above /")
			}
			out = out[:len(out)-1]
		}
		if last {
			// A trailing dot segment names a folder: "/a/b/.." is "/a/".
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/"), nil
}

// classifySegment reports whether seg is a dot segment, "." (dot 1) or
// ".." (dot 2), counting %2e as a dot, and whether, not being one, it hides
// one that a target could find by decoding it.
func classifySegment(seg string) (dot int, hidden bool) {
	if !strings.ContainsAny(seg, ".%\\") {
		return 0, false
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c == '%' && i+2 < len(seg) && ishex(seg[i+1]) && ishex(seg[i+2]) {
			c = unhex(seg[i+1])<<4 | unhex(seg[i+2])
			i += 2
		}
		b.WriteByte(c)
	}
	decoded := b.String()
	switch decoded {
	case ".":
		return 1, false
	case "..":
		return 2, false
	}
	for part := range strings.FieldsFuncSeq(decoded, func(r rune) bool { return r == '/' || r == '\\' }) {
		part, _, _ = strings.Cut(part, ";")
		if part == "." || part == ".." {
			return 0, true
		}
	}
	return 0, false
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// badPath is the 400 for a request path that the path rule refuses.
func badPath(raw, why, hint string) *proxyError {
	return &proxyError{Status: http.StatusBadRequest, Route: kindDevproxy.String(),
		Err: "request path " + quoteText(raw) + " refused: " + why, Hint: hint}
}

// withPath returns a shallow copy of r whose escaped path is resolved in
// place of raw, in its URL and, for an origin-form request, in its
// RequestURI, which is what is forwarded.
func withPath(r *http.Request, raw, resolved string) *http.Request {
	r2 := r.WithContext(r.Context())
	u := *r.URL
	if p, err := url.PathUnescape(resolved); err == nil {
		u.Path = p
	} else {
		u.Path = resolved
	}
	u.RawPath = resolved
	r2.URL = &u
	if strings.HasPrefix(r.RequestURI, raw) {
		r2.RequestURI = resolved + r.RequestURI[len(raw):]
	}
	return r2
}
