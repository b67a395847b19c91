package devproxy

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// canonicalOrigin returns an origin as a browser serializes it:
// "scheme://host[:port]" in lower case, the scheme's default port left out,
// so that "http://LocalHost:80" and "http://localhost" compare equal. It
// reports false for anything that is not an http or https origin (a path, a
// user, "null").
func canonicalOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return originFrom(u.Scheme, u.Host)
}

// originFrom builds the canonical origin of scheme and a host[:port] as a
// Host header or URL carries it.
func originFrom(scheme, hostport string) (string, bool) {
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
	if port == defaultPort(scheme) {
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

// requestOrigin is devproxy's own origin as the browser reached it for r:
// https when r came over TLS, and r's Host. It reports false when r has no
// Host (an HTTP/1.0 tool), which is no browser's own origin.
func requestOrigin(r *http.Request) (string, bool) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return originFrom(scheme, r.Host)
}

// isOwnOrigin reports whether origin is exactly devproxy's own origin for r:
// the same scheme, host and port.
func isOwnOrigin(r *http.Request, origin string) bool {
	o, ok := canonicalOrigin(origin)
	if !ok {
		return false
	}
	own, ok := requestOrigin(r)
	return ok && o == own
}
