// Package web holds the facts of the web platform that the config parser,
// the proxy's guards and doctor must agree on: what an origin is and when
// two are the same, which host names are this machine, the schemes' default
// ports, and what a valid header name is.
package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// DefaultPort is the port a URL of scheme means when it names none.
func DefaultPort(scheme string) string {
	if strings.EqualFold(scheme, "https") {
		return "443"
	}
	return "80"
}

// IsLocalhost reports whether host is localhost or a name under it
// (app.localhost), which always mean this machine.
func IsLocalhost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// IsLoopback reports whether host is localhost, *.localhost or a loopback
// IP literal.
func IsLoopback(host string) bool {
	if IsLocalhost(host) {
		return true
	}
	return host == "::1" || strings.HasPrefix(host, "127.")
}

// CanonicalOrigin returns an origin as a browser serializes it:
// "scheme://host[:port]" in lower case, the scheme's default port left out,
// so that "http://LocalHost:80" and "http://localhost" compare equal. It
// reports false for anything that is not an http or https origin (a path, a
// user, "null").
func CanonicalOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return Origin(u.Scheme, u.Host)
}

// Origin builds the canonical origin of scheme and a host[:port] as a Host
// header or a URL carries it.
func Origin(scheme, hostport string) (string, bool) {
	scheme = strings.ToLower(scheme)
	if (scheme != "http" && scheme != "https") || hostport == "" {
		return "", false
	}
	host, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if strings.HasSuffix(hostport, ":") {
		// "localhost:" has an empty port, which means the default one.
		host = strings.TrimSuffix(hostport, ":")
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" {
		return "", false
	}
	if port == DefaultPort(scheme) {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" {
		return scheme + "://" + host, true
	}
	return scheme + "://" + host + ":" + port, true
}

// RequestOrigin is the origin a browser reached to send r: https when r
// came over TLS, and r's Host. It reports false when r has no Host (an
// HTTP/1.0 tool), which is no browser's.
func RequestOrigin(r *http.Request) (string, bool) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return Origin(scheme, r.Host)
}

// IsRequestOrigin reports whether origin is exactly the origin r was sent
// to: the same scheme, host and port.
func IsRequestOrigin(r *http.Request, origin string) bool {
	o, ok := CanonicalOrigin(origin)
	if !ok {
		return false
	}
	own, ok := RequestOrigin(r)
	return ok && o == own
}

// IsToken reports whether s is an HTTP token (RFC 9110, 5.6.2): a valid
// header name or method.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// SplitList splits comma-separated header values into trimmed, non-empty
// elements.
func SplitList(values []string) []string {
	var out []string
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// CORSSafelistedMethod reports whether a request with method m needs no
// preflight on its method's account (Fetch standard, "CORS-safelisted
// method").
func CORSSafelistedMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodPost
}

// HostPort returns u's host:port with the scheme's default port filled in.
func HostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return u.Host + ":" + DefaultPort(u.Scheme)
}
