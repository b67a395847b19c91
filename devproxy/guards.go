package devproxy

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/web"
)

// guards keep devproxy safe by default: a dev server hands out source code
// and unauthenticated local APIs to whoever reaches it, so devproxy answers
// only requests that a browser on this machine, or a local tool, makes.
type guards struct {
	// hosts are the extra Host names accepted (allowed_hosts, and the
	// listen address's host name).
	hosts map[string]bool
	// origins are the extra browser origins trusted (allowed_origins and
	// the cors blocks' origins), canonical (see canonicalOrigin).
	origins map[string]bool
	// named is set when the config has sites: every name below localhost
	// is then an origin of its own, never one with localhost.
	named bool
	// delegate leaves the origin checks to the devproxy a request is
	// forwarded to (a guest, which knows its own trusted origins): only
	// CONNECT, absolute-form targets and the Host are checked here.
	delegate bool
}

func newGuards(cfg *config.Config, trusted []string) *guards {
	g := &guards{hosts: map[string]bool{}, origins: map[string]bool{}}
	for _, h := range cfg.AllowedHosts {
		g.hosts[strings.ToLower(h)] = true
	}
	if host, _, err := net.SplitHostPort(cfg.Listen); err == nil && host != "" {
		g.hosts[strings.ToLower(host)] = true
	}
	for _, o := range trusted {
		if c, ok := web.CanonicalOrigin(o); ok {
			g.origins[c] = true
		}
	}
	return g
}

// trusted reports whether origin is one the config trusts.
func (g *guards) trusted(origin string) bool {
	o, ok := web.CanonicalOrigin(origin)
	return ok && g.origins[o]
}

// refuse answers 403 with the reason and how to allow the request.
func refuse(err, hint string) *proxyError {
	return &proxyError{Status: http.StatusForbidden, Err: err, Route: kindDevproxy.String(), Hint: hint}
}

// check returns why r must be refused, or nil. frontend tells whether r
// goes to the frontend, whose sources must not be loaded cross-site.
func (g *guards) check(r *http.Request, frontend bool) *proxyError {
	if r.Method == http.MethodConnect {
		return &proxyError{Status: http.StatusMethodNotAllowed, Err: "CONNECT is refused: devproxy is not a forward proxy", Route: kindDevproxy.String(),
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
	if g.delegate {
		return nil
	}
	origin := headerGet(r.Header, "Origin")
	if isWebSocket(r) {
		if origin != "" && !g.sameOrigin(r, origin) && !g.trusted(origin) {
			return refuse("WebSocket from origin "+quoteText(origin)+" refused (cross-site WebSocket hijacking protection)",
				"if that page is yours, add it to allowed_origins in the config: allowed_origins: ["+sanitize(origin)+"]")
		}
		return nil
	}
	if g.crossSite(r, origin) {
		from := origin
		if from == "" {
			from = "another site"
		}
		return refuse(r.Method+" from "+sanitize(from)+" refused (cross-site request protection)",
			"if that page is yours, add its origin to allowed_origins in the config")
	}
	if frontend && headerGet(r.Header, "Sec-Fetch-Mode") == "no-cors" && headerGet(r.Header, "Sec-Fetch-Dest") == "script" &&
		!g.sameSiteScript(r) {
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
		port = web.DefaultPort(u.Scheme)
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
	if web.IsLocalhost(host) || g.hosts[host] {
		return true
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

// sameOrigin reports whether origin is devproxy's own, as the browser
// reached it: the same scheme and port, and the same host, where localhost
// and the loopback addresses count as one host (a dev server's hot-reload
// client may name either).
func (g *guards) sameOrigin(r *http.Request, origin string) bool {
	if web.IsRequestOrigin(r, origin) {
		return true
	}
	o, ok := web.CanonicalOrigin(origin)
	own, ok2 := web.RequestOrigin(r)
	if !ok || !ok2 {
		return false
	}
	ou, _ := url.Parse(o)
	wu, _ := url.Parse(own)
	return ou.Scheme == wu.Scheme && ou.Port() == wu.Port() &&
		g.loopbackAlias(ou.Hostname()) && g.loopbackAlias(wu.Hostname())
}

// loopbackAlias reports whether host counts as one host with the other
// loopback names: localhost, *.localhost and the loopback addresses, but
// with sites only localhost and the addresses, so that a page of one site
// cannot open a WebSocket to another.
func (g *guards) loopbackAlias(host string) bool {
	if g.named && strings.HasSuffix(strings.TrimSuffix(strings.ToLower(host), "."), ".localhost") {
		return false
	}
	return web.IsLoopback(host)
}

// crossSite reports whether r is a state-changing request from another
// origin that the config does not trust, the check of Go's
// http.CrossOriginProtection with the origin compared by scheme, host and
// port: a page on https://localhost:8080 is not devproxy's
// http://localhost:8080. Safe methods are never refused; a browser's own
// Sec-Fetch-Site is believed; a request with neither it nor Origin comes
// from no browser.
func (g *guards) crossSite(r *http.Request, origin string) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	switch headerGet(r.Header, "Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
		return origin != "" && !web.IsRequestOrigin(r, origin) && !g.trusted(origin)
	default:
		return !g.trusted(origin)
	}
}

// sameSiteScript reports whether a no-cors script load (which carries no
// Origin) comes from devproxy's own origin or a trusted page: the browser
// says same-origin, or the Referer's origin is devproxy's or trusted.
// Sec-Fetch-Site "same-site" is not enough: a page on another port, or on
// https, is the same site and another origin.
func (g *guards) sameSiteScript(r *http.Request) bool {
	switch headerGet(r.Header, "Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host == "" {
		return false
	}
	o := ref.Scheme + "://" + ref.Host
	return web.IsRequestOrigin(r, o) || g.trusted(o)
}

// isWebSocket reports whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(headerGet(r.Header, "Upgrade"), "websocket") && headerHasToken(r.Header, "Connection", "upgrade")
}

// dropOtherUpgrades removes an Upgrade to anything but websocket (h2c
// above all), so that only WebSocket upgrades ever reach a target. It
// gives r a header map of its own rather than changing the one it has:
// the inspector keeps that one as the client sent it.
func dropOtherUpgrades(r *http.Request) {
	if headerGet(r.Header, "Upgrade") != "" && !strings.EqualFold(headerGet(r.Header, "Upgrade"), "websocket") {
		r.Header = r.Header.Clone()
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
