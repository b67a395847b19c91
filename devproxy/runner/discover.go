package runner

import (
	"net"
	"net/url"
	"regexp"
	"strings"
)

// ansiEscape matches CSI sequences (colours, cursor moves), OSC sequences
// (titles, hyperlinks) ended by BEL or ST, and two-byte escapes.
var ansiEscape = regexp.MustCompile(`\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])`)

// StripANSI returns s without terminal escape sequences, for a log that is
// not a terminal and for reading what a command printed.
func StripANSI(s string) string {
	if !strings.Contains(s, "\x1b") {
		return s
	}
	return ansiEscape.ReplaceAllString(s, "")
}

// announcement matches a line in which a dev server says where it listens:
// Vite, Nuxt and Angular's "Local:", Next's "- Local:", CRA's "Local:",
// Astro's "Local", webpack-dev-server's "Loopback:", and the "listening on",
// "running at", "ready on", "started server on" of plain servers. Lines
// about a proxy or the network address are left to the other patterns: only
// a loopback host is taken.
var announcement = regexp.MustCompile(`(?i)(?:\blocal\b|\bloopback\b|\blistening\b|\brunning (?:at|on)\b|\bready on\b|\bstarted server on\b|\bserver started\b|\bopen your browser on\b|\bavailable (?:at|on)\b|\bserving (?:at|on)\b).*?(https?://[^\s,'"<>)]+)`)

// DiscoverURL returns the loopback URL that line announces, with ANSI
// escapes removed and a wildcard host (0.0.0.0, [::]) replaced by localhost;
// ok is false when the line announces none.
func DiscoverURL(line string) (u string, ok bool) {
	if !strings.Contains(line, "://") {
		return "", false
	}
	line = StripANSI(line)
	if strings.Contains(strings.ToLower(line), "proxy") {
		return "", false
	}
	m := announcement.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	parsed, err := url.Parse(strings.TrimRight(m[1], ".;:"))
	if err != nil || parsed.Host == "" {
		return "", false
	}
	host := parsed.Hostname()
	switch {
	case host == "0.0.0.0" || host == "::":
		parsed.Host = net.JoinHostPort("localhost", parsed.Port())
		if parsed.Port() == "" {
			parsed.Host = "localhost"
		}
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
	default:
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return "", false
		}
	}
	return parsed.String(), true
}

// sameServer reports whether two loopback URLs reach the same server:
// every host DiscoverURL returns is loopback, so scheme and port decide.
func sameServer(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return false
	}
	return ua.Scheme == ub.Scheme && portOf(ua) == portOf(ub)
}

// portOf returns u's port, or the scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}
