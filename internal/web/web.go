// Package web holds the facts of the web platform that the config parser,
// the proxy's guards and doctor must agree on: what an origin is and when
// two are the same, which host names are this machine, the schemes' default
// ports, and what a valid header name is.
package web

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
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

// OriginFault is what keeps a string from being an origin.
type OriginFault int

const (
	// OriginEmpty: the string is empty.
	OriginEmpty OriginFault = iota + 1
	// OriginNoScheme: no "scheme://" ("localhost:3000").
	OriginNoScheme
	// OriginNotURL: not even a URL; Detail has the parser's words.
	OriginNotURL
	// OriginScheme: a scheme other than http or https.
	OriginScheme
	// OriginNoHost: no host ("http://").
	OriginNoHost
	// OriginUser: a user name or password.
	OriginUser
	// OriginQuery: a query.
	OriginQuery
	// OriginFragment: a fragment.
	OriginFragment
	// OriginTrailingSlash: the path "/" ("http://localhost:3000/").
	OriginTrailingSlash
	// OriginPath: any other path.
	OriginPath
	// OriginEmptyPort: a colon and no port ("http://localhost:").
	OriginEmptyPort
	// OriginBadPort: a port that is not a number from 1 to 65535; Detail
	// has the port.
	OriginBadPort
)

// OriginProblem says why a string is not an origin, for the config parser
// and doctor to word.
type OriginProblem struct {
	Fault OriginFault
	// Write is scheme://host[:port] of the string in lower case, what the
	// user most likely means; empty when the string has no scheme and host.
	Write string
	// Detail is the URL parser's reason for OriginNotURL and the port for
	// OriginBadPort; empty for the others.
	Detail string
}

// ParseOrigin parses s as a browser sends an origin in the Origin header,
// scheme://host[:port], and returns it canonical (see Origin), or what is
// wrong with it.
func ParseOrigin(s string) (string, *OriginProblem) {
	if s == "" {
		return "", &OriginProblem{Fault: OriginEmpty}
	}
	if !strings.Contains(s, "://") {
		return "", &OriginProblem{Fault: OriginNoScheme}
	}
	u, err := url.Parse(s)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return "", &OriginProblem{Fault: OriginNotURL, Detail: strings.TrimPrefix(err.Error(), "net/url: ")}
	}
	write := strings.ToLower(u.Scheme + "://" + u.Host)
	problem := func(f OriginFault) (string, *OriginProblem) {
		return "", &OriginProblem{Fault: f, Write: write}
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme != "http" && scheme != "https":
		return problem(OriginScheme)
	case u.Hostname() == "":
		return "", &OriginProblem{Fault: OriginNoHost}
	case u.User != nil:
		return problem(OriginUser)
	case u.RawQuery != "" || u.ForceQuery:
		return problem(OriginQuery)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return problem(OriginFragment)
	case u.Path == "/":
		return problem(OriginTrailingSlash)
	case u.Path != "" || u.Opaque != "":
		return problem(OriginPath)
	case strings.HasSuffix(u.Host, ":"):
		return "", &OriginProblem{Fault: OriginEmptyPort, Write: strings.TrimSuffix(write, ":")}
	case u.Port() != "" && !validPort(u.Port()):
		return "", &OriginProblem{Fault: OriginBadPort, Write: write, Detail: u.Port()}
	}
	o, _ := Origin(u.Scheme, u.Host) // the host is not empty
	return o, nil
}

func validPort(s string) bool {
	if len(s) > 5 {
		return false
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535 && strings.Trim(s, "0123456789") == ""
}

// CanonicalOrigin is ParseOrigin, forgiving a trailing slash and an empty
// port, as the proxy's guards read the Origin header and the config's
// origins: "http://LocalHost:80/" and "http://localhost" compare equal. It
// reports false for anything else that is not an http or https origin (a
// path, a user, "null").
func CanonicalOrigin(s string) (string, bool) {
	o, p := ParseOrigin(s)
	if p == nil {
		return o, true
	}
	if p.Fault == OriginTrailingSlash || p.Fault == OriginEmptyPort {
		scheme, hostport, _ := strings.Cut(p.Write, "://")
		return Origin(scheme, hostport)
	}
	return "", false
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
