package devproxy

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// guards keep devproxy safe by default: a dev server hands out source code
// and unauthenticated local APIs to whoever reaches it, so devproxy answers
// only requests that a browser on this machine, or a local tool, makes.
type guards struct {
	// hosts are the extra Host names accepted (allowed_hosts, and the
	// listen address's host name).
	hosts map[string]bool
	// origins are the extra browser origins trusted (allowed_origins).
	origins map[string]bool
	cop     *http.CrossOriginProtection
}

func newGuards(cfg *Config, trusted []string) *guards {
	g := &guards{hosts: map[string]bool{}, origins: map[string]bool{}, cop: http.NewCrossOriginProtection()}
	for _, h := range cfg.AllowedHosts {
		g.hosts[strings.ToLower(h)] = true
	}
	if host, _, err := net.SplitHostPort(cfg.Listen); err == nil && host != "" {
		g.hosts[strings.ToLower(host)] = true
	}
	for _, o := range trusted {
		o = strings.ToLower(o)
		g.origins[o] = true
		// The parser validated the origin; a failure here is impossible.
		_ = g.cop.AddTrustedOrigin(o)
	}
	return g
}

// refuse answers 403 with the reason and how to allow the request.
func refuse(err, hint string) *proxyError {
	return &proxyError{Status: http.StatusForbidden, Err: err, Route: "devproxy", Hint: hint}
}

// check returns why r must be refused, or nil. frontend tells whether r
// goes to the frontend, whose sources must not be loaded cross-site.
func (g *guards) check(r *http.Request, frontend bool) *proxyError {
	if r.Method == http.MethodConnect {
		return &proxyError{Status: http.StatusMethodNotAllowed, Err: "CONNECT is refused: devproxy is not a forward proxy", Route: "devproxy",
			Hint: "devproxy only forwards to the targets in its config"}
	}
	if !strings.HasPrefix(r.RequestURI, "/") && r.RequestURI != "*" {
		// An absolute-form target (GET http://other/ HTTP/1.1) is how a
		// client talks to a forward proxy; devproxy is none.
		if !g.ownAddress(r) {
			return refuse("request for another host refused: devproxy is not an open proxy",
				"send requests to devproxy's own address, e.g. GET /api/… with Host: localhost:8080")
		}
	}
	if !g.hostAllowed(r.Host) {
		host := hostOnly(r.Host)
		return refuse("Host "+quoteText(r.Host)+" is not allowed (DNS rebinding protection)",
			"to use this name for this machine, add it to allowed_hosts in the config: allowed_hosts: ["+host+"]")
	}
	origin := r.Header.Get("Origin")
	if isWebSocket(r) {
		if origin != "" && !g.sameOrigin(r, origin) && !g.origins[strings.ToLower(origin)] {
			return refuse("WebSocket from origin "+quoteText(origin)+" refused (cross-site WebSocket hijacking protection)",
				"if that page is yours, add it to allowed_origins in the config: allowed_origins: ["+origin+"]")
		}
		return nil
	}
	if err := g.cop.Check(r); err != nil {
		from := origin
		if from == "" {
			from = "another site"
		}
		return refuse(r.Method+" from "+from+" refused (cross-site request protection)",
			"if that page is yours, add its origin to allowed_origins in the config")
	}
	if frontend && r.Header.Get("Sec-Fetch-Site") == "cross-site" && r.Header.Get("Sec-Fetch-Mode") == "no-cors" &&
		r.Header.Get("Sec-Fetch-Dest") == "script" {
		// Another site loading the dev server's modules as scripts could
		// read the app's source code.
		return refuse("cross-site script load of a frontend source refused (source theft protection)",
			"load the app from devproxy's own origin, or add the page's origin to allowed_origins")
	}
	return nil
}

// ownAddress reports whether an absolute-form request names devproxy
// itself: an allowed host on the port the request came in on.
func (g *guards) ownAddress(r *http.Request) bool {
	u, err := url.Parse(r.RequestURI)
	if err != nil || u.Host == "" || !g.hostAllowed(u.Host) {
		return false
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	_, lport, _ := net.SplitHostPort(local.String())
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	return port == lport
}

// hostAllowed reports whether a Host header names this machine: localhost,
// *.localhost, an IP address, or a name in allowed_hosts. An empty Host
// (an HTTP/1.0 tool) is no browser.
func (g *guards) hostAllowed(hostport string) bool {
	if hostport == "" {
		return true
	}
	host := strings.TrimSuffix(strings.ToLower(hostOnly(hostport)), ".")
	if isLocalhostName(host) || g.hosts[host] {
		return true
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

// sameOrigin reports whether origin is devproxy's own, as the browser
// reached it; localhost and the loopback addresses on the same port count
// as devproxy too.
func (g *guards) sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	_, rport, _ := net.SplitHostPort(r.Host)
	return rport != "" && u.Port() == rport && isLoopbackName(strings.ToLower(u.Hostname())) && isLoopbackName(strings.ToLower(hostOnly(r.Host)))
}

// isWebSocket reports whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") && headerHasToken(r.Header, "Connection", "upgrade")
}

// dropOtherUpgrades removes an Upgrade to anything but websocket (h2c
// above all), so that only WebSocket upgrades ever reach a target.
func dropOtherUpgrades(r *http.Request) {
	if r.Header.Get("Upgrade") != "" && !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		r.Header.Del("Upgrade")
		r.Header.Del("Http2-Settings")
	}
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h[name] {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// hostOnly strips the port from a Host header.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// quoteText quotes request-derived text for a message.
func quoteText(s string) string {
	return `"` + sanitize(s) + `"`
}
