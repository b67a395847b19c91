package doctor

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/devproxy/devproxy/internal/neterr"
	"github.com/devproxy/devproxy/internal/web"
)

// Check is one question for Diagnose: may a page on Origin make this
// request with fetch?
type Check struct {
	// URL is the absolute http or https URL the page fetches.
	URL string
	// Origin is the page's origin, scheme://host[:port].
	Origin string
	// Method is the request method; GET when empty.
	Method string
	// Headers are the names of the custom request headers the page sets,
	// e.g. Authorization.
	Headers []string
	// ContentType is the Content-Type the page sends; none when empty.
	ContentType string
	// Credentials is fetch's credentials: 'include' (cookies, HTTP
	// authentication). Default false: the browser's default, 'same-origin'.
	Credentials bool
	// Send sends the request itself even when its method is not safe (not
	// GET or HEAD). Default false: for such a request only the preflight is
	// sent, or, when none is needed, a GET stands in for it.
	Send bool
	// Client sends the requests; nil means a client without cookies or a
	// proxy that waits up to 10 s for an answer. Its redirects are never
	// followed.
	Client *http.Client
}

// Verdict is Diagnose's answer: what a browser would do, why, and how to
// fix it.
type Verdict struct {
	URL    string `json:"url"`
	Origin string `json:"origin"`
	Method string `json:"method"`
	// Verdict is "allowed" or "blocked".
	Verdict string `json:"verdict"`
	// Reason is the browser's console message for a blocked request, or
	// why it is allowed.
	Reason string `json:"reason"`
	// Mistake names the common mistake behind a block, when it is one.
	Mistake string `json:"mistake,omitempty"`
	// Header is the response header that is wrong or missing.
	Header string `json:"header,omitempty"`
	// Want is the header line the server must send instead.
	Want string `json:"want,omitempty"`
	// Preflight is the OPTIONS request sent first; nil when the request
	// needs none.
	Preflight *Exchange `json:"preflight,omitempty"`
	// Request is the request itself, or the GET that stood in for it.
	Request *Exchange `json:"request,omitempty"`
	// Notes are warnings that do not block the request today.
	Notes []string `json:"notes,omitempty"`
	// Fixes say how to send the right headers in common servers.
	Fixes []Fix `json:"fixes,omitempty"`
}

// Allowed reports whether the browser would let the page read the
// response.
func (v *Verdict) Allowed() bool { return v.Verdict == "allowed" }

// Exchange is one request Diagnose sent and what came back.
type Exchange struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// RequestHeaders are the headers sent that matter to CORS.
	RequestHeaders http.Header `json:"request_headers"`
	// Status is the response status; 0 when no response came.
	Status int `json:"status,omitempty"`
	// Headers are the response headers that matter to CORS.
	Headers http.Header `json:"headers,omitempty"`
	// Error says why no response came.
	Error string `json:"error,omitempty"`
}

// Fix is the way to send the right headers in one kind of server.
type Fix struct {
	// Where names the server, e.g. "Express (cors)".
	Where string `json:"where"`
	// Text is the code or config to use.
	Text string `json:"text"`
}

// maxPreflightCache is the longest Chromium caches a preflight answer,
// whatever Access-Control-Max-Age says.
const maxPreflightCache = 2 * time.Hour

// Diagnose sends the requests a browser would send for c, as the Fetch
// standard describes them, and judges the answers as a browser would. An
// error means c itself is wrong (not a URL, not an origin).
func Diagnose(ctx context.Context, c Check) (*Verdict, error) {
	target, err := url.Parse(c.URL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("%q is not an http or https URL", c.URL)
	}
	target.Fragment, target.RawFragment = "", ""
	origin, err := parseOrigin(c.Origin)
	if err != nil {
		return nil, err
	}
	method := normalizeMethod(c.Method)
	if !web.IsToken(method) {
		return nil, fmt.Errorf("%q is not a method", c.Method)
	}
	for _, h := range c.Headers {
		if !web.IsToken(h) {
			return nil, fmt.Errorf("%q is not a header name", h)
		}
	}
	client := c.Client
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d := &diagnosis{
		ctx:         ctx,
		client:      &noRedirects,
		c:           c,
		target:      target,
		origin:      origin,
		method:      method,
		unsafe:      unsafeHeaders(c.Headers, c.ContentType),
		credentials: c.Credentials,
		v:           &Verdict{URL: target.String(), Origin: origin, Method: method},
	}
	d.run()
	d.v.Fixes = d.fixes()
	return d.v, nil
}

// diagnosis is the state of one Diagnose call.
type diagnosis struct {
	ctx         context.Context
	client      *http.Client
	c           Check
	target      *url.URL
	origin      string
	method      string
	unsafe      []string // lower-case names of the headers that need a preflight
	credentials bool
	v           *Verdict
	// stuck says a request got a connection but no answer in time.
	stuck bool
}

func (d *diagnosis) run() {
	v := d.v
	if strings.EqualFold(originOf(d.target), d.origin) {
		v.Verdict = "allowed"
		v.Reason = "same origin: the browser makes no CORS check"
		return
	}
	preflight := !web.CORSSafelistedMethod(d.method) || len(d.unsafe) > 0
	if preflight && !d.preflight() {
		return
	}
	method := d.method
	if !safeMethod(method) && !d.c.Send {
		if preflight {
			v.Verdict = "allowed"
			v.Reason = "the preflight allows the request"
			v.Notes = append(v.Notes, fmt.Sprintf("the %s itself was not sent, so its response is unchecked: it needs Access-Control-Allow-Origin too; add --send to send it", method))
			d.cacheNotes(v.Preflight.Headers)
			return
		}
		v.Notes = append(v.Notes, fmt.Sprintf("a GET stood in for the %s, which was not sent; add --send to send the %s itself", method, method))
		method = http.MethodGet
	}
	ex, res := d.send(method, false)
	v.Request = ex
	if res == nil {
		d.unreachable(ex)
		return
	}
	if d.access(res.Header, "") {
		if res.StatusCode >= 300 && res.StatusCode < 400 && res.Header.Get("Location") != "" {
			v.Notes = append(v.Notes, fmt.Sprintf("the answer is a redirect to %s: the browser follows it and checks that answer too; run doctor on it", res.Header.Get("Location")))
		}
		v.Verdict = "allowed"
		v.Reason = "the response allows the origin"
		d.varyNote(res.Header)
		d.cacheNotes(res.Header)
	}
}

// preflight sends the OPTIONS request and judges its answer; false means
// the request is blocked and v says why.
func (d *diagnosis) preflight() bool {
	v := d.v
	ex, res := d.send(http.MethodOptions, true)
	v.Preflight = ex
	if res == nil {
		d.unreachable(ex)
		return false
	}
	const prefix = "Response to preflight request doesn't pass access control check: "
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		loc := res.Header.Get("Location")
		d.block(prefix+"Redirect is not allowed for a preflight request.", "preflight redirected",
			"Location", "", fmt.Sprintf("the OPTIONS request got %d to %q (an added slash, http to https, or a login page); a preflight must be answered where it is sent", res.StatusCode, loc))
		return false
	}
	if !d.access(res.Header, prefix) {
		if res.StatusCode < 200 || res.StatusCode > 299 {
			d.preflightStatusMistake(res.StatusCode)
		}
		return false
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		d.block(prefix+"It does not have HTTP ok status.", "", "", "", "")
		d.preflightStatusMistake(res.StatusCode)
		return false
	}
	methods := web.SplitList(res.Header.Values("Access-Control-Allow-Methods"))
	if !web.CORSSafelistedMethod(d.method) && !slices.Contains(methods, d.method) &&
		(d.credentials || !slices.Contains(methods, "*")) {
		mistake := ""
		if slices.Contains(methods, "*") {
			mistake = `"*" in Access-Control-Allow-Methods means any method only without credentials`
		}
		d.block(fmt.Sprintf("Method %s is not allowed by Access-Control-Allow-Methods in preflight response.", d.method),
			d.method+" is missing from Access-Control-Allow-Methods", "Access-Control-Allow-Methods", d.method, mistake)
		return false
	}
	allowed := web.SplitList(res.Header.Values("Access-Control-Allow-Headers"))
	star := slices.Contains(allowed, "*")
	for _, name := range d.unsafe {
		if slices.ContainsFunc(allowed, func(s string) bool { return strings.EqualFold(s, name) }) {
			continue
		}
		if star && !d.credentials {
			// The Fetch standard keeps Authorization out of the wildcard;
			// Chromium still lets it through, and doctor judges as
			// Chromium does.
			if name == "authorization" {
				v.Notes = append(v.Notes, `Chromium lets Authorization through under "*" in Access-Control-Allow-Headers, but the Fetch standard does not, and browsers that follow it refuse the call: name Authorization in the header`)
			}
			continue
		}
		mistake := ""
		switch {
		case star:
			mistake = `"*" in Access-Control-Allow-Headers means any header only without credentials`
		case name == "content-type":
			mistake = fmt.Sprintf("Content-Type %s is not one of the three a page may send without asking (text/plain, multipart/form-data, application/x-www-form-urlencoded), so it must be allowed", d.c.ContentType)
		}
		d.block(fmt.Sprintf("Request header field %s is not allowed by Access-Control-Allow-Headers in preflight response.", name),
			http.CanonicalHeaderKey(name)+" is missing from Access-Control-Allow-Headers", "Access-Control-Allow-Headers", http.CanonicalHeaderKey(name), mistake)
		return false
	}
	switch age := res.Header.Get("Access-Control-Max-Age"); {
	case age == "":
		v.Notes = append(v.Notes, "no Access-Control-Max-Age: the browser repeats the preflight after 5 s")
	default:
		if n, err := strconv.Atoi(age); err == nil && time.Duration(n)*time.Second > maxPreflightCache {
			v.Notes = append(v.Notes, fmt.Sprintf("Access-Control-Max-Age %s: Chromium caches the preflight for 2 h at most", age))
		} else if err == nil && n > 0 {
			v.Notes = append(v.Notes, fmt.Sprintf("the browser caches this preflight answer for %s: a change to the server's CORS config may take that long to show (or reload with the cache disabled)", time.Duration(n)*time.Second))
		}
	}
	return true
}

func (d *diagnosis) preflightStatusMistake(status int) {
	v := d.v
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		v.Mistake = fmt.Sprintf("preflight not handled: the OPTIONS request got %d, so authentication runs before CORS, but a preflight never carries cookies or Authorization; let OPTIONS through before the auth check", status)
	default:
		v.Mistake = fmt.Sprintf("preflight not handled: the OPTIONS request got %d %s; answer OPTIONS with 204 and the CORS headers", status, http.StatusText(status))
	}
}

// access is the CORS check of a response (Fetch standard, "CORS check"),
// worded as Chromium words it; prefix marks a preflight's answer. False
// means blocked, and v says why.
func (d *diagnosis) access(h http.Header, prefix string) bool {
	values := h.Values("Access-Control-Allow-Origin")
	value := strings.Join(values, ", ")
	const acao = "Access-Control-Allow-Origin"
	switch {
	case len(values) == 0:
		d.block(prefix+"No 'Access-Control-Allow-Origin' header is present on the requested resource.",
			"the server sent no Access-Control-Allow-Origin: it has no CORS set up for this origin, or an error answer skipped it", acao, d.origin, "")
		return false
	case value == "*" && d.credentials:
		d.block(prefix+"The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
			"wildcard with credentials", acao, d.origin, "with credentials the server must echo the page's origin, not *")
		return false
	case value == "*":
	case strings.ContainsAny(value, " ,"):
		mistake := ""
		if len(values) > 1 {
			mistake = "two servers add the header, e.g. the app and nginx in front of it; let one of them do it (proxy_hide_header Access-Control-Allow-Origin in nginx)"
		}
		d.block(fmt.Sprintf("%sThe 'Access-Control-Allow-Origin' header contains multiple values '%s', but only one is allowed.", prefix, value),
			"the server sent several origins; the browser wants exactly one, the page's", acao, d.origin, mistake)
		return false
	case value != d.origin:
		d.block(fmt.Sprintf("%sThe 'Access-Control-Allow-Origin' header has a value '%s' that is not equal to the supplied origin.", prefix, value),
			"origin mismatch", acao, d.origin, originMistake(value, d.origin))
		return false
	}
	if d.credentials {
		if got := strings.Join(h.Values("Access-Control-Allow-Credentials"), ", "); got != "true" {
			d.block(fmt.Sprintf("%sThe value of the 'Access-Control-Allow-Credentials' header in the response is '%s' which must be 'true' when the request's credentials mode is 'include'.", prefix, got),
				"the page sends credentials, which the server does not allow", "Access-Control-Allow-Credentials", "true", "")
			return false
		}
	}
	return true
}

// block records a blocked verdict. mistake, when not empty, explains the
// cause better than kind.
func (d *diagnosis) block(reason, kind, header, value, mistake string) {
	v := d.v
	v.Verdict = "blocked"
	v.Reason = fmt.Sprintf("Access to fetch at '%s' from origin '%s' has been blocked by CORS policy: %s", v.URL, v.Origin, reason)
	v.Mistake = kind
	if mistake != "" {
		v.Mistake = mistake
	}
	v.Header = header
	if header != "" && value != "" {
		v.Want = header + ": " + value
	}
}

// originMistake names what differs between an Allow-Origin value and the
// page's origin.
func originMistake(value, origin string) string {
	vu, err1 := url.Parse(value)
	ou, err2 := url.Parse(origin)
	if err1 != nil || err2 != nil || vu.Host == "" {
		return fmt.Sprintf("%q is not an origin; send exactly %q", value, origin)
	}
	if p := vu.EscapedPath(); p != "" || vu.RawQuery != "" {
		if p == "/" && vu.RawQuery == "" {
			return fmt.Sprintf("the allowed origin %q has a trailing slash; an origin is scheme://host[:port] with nothing after it", value)
		}
		return fmt.Sprintf("the allowed origin %q has a path; an origin is scheme://host[:port] with nothing after it", value)
	}
	vport, oport := portOr(vu), portOr(ou)
	sameHost := strings.EqualFold(vu.Hostname(), ou.Hostname())
	switch {
	case !strings.EqualFold(value, origin) && strings.EqualFold(vu.Scheme+"://"+vu.Host, origin):
		return fmt.Sprintf("%q differs only in letter case: the browser compares origins byte for byte", value)
	case sameHost && vu.Scheme != ou.Scheme && vport == oport:
		return fmt.Sprintf("%q differs only in scheme (%s vs %s)", value, vu.Scheme, ou.Scheme)
	case sameHost && vu.Scheme != ou.Scheme:
		return fmt.Sprintf("%q differs in scheme and port (%s vs %s)", value, vu.Scheme+":"+vport, ou.Scheme+":"+oport)
	case sameHost && vu.Port() != ou.Port():
		return fmt.Sprintf("%q differs only in port (%s vs %s): every port is another origin", value, describePort(vu), describePort(ou))
	case web.IsLoopback(vu.Hostname()) && web.IsLoopback(ou.Hostname()):
		return fmt.Sprintf("%q names the same machine another way: localhost, 127.0.0.1 and [::1] are three different origins", value)
	}
	return fmt.Sprintf("the server allows %q, another origin", value)
}

func portOr(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

func describePort(u *url.URL) string {
	if u.Port() == "" {
		return "no port, so " + portOr(u)
	}
	return u.Port()
}

// varyNote warns when the server echoes the origin without Vary: Origin: a
// cache may then hand one origin's answer to another page.
func (d *diagnosis) varyNote(h http.Header) {
	if h.Get("Access-Control-Allow-Origin") == "*" {
		return
	}
	for _, v := range web.SplitList(h.Values("Vary")) {
		if v == "*" || strings.EqualFold(v, "Origin") {
			return
		}
	}
	d.v.Notes = append(d.v.Notes, "the response names the origin but has no \"Vary: Origin\": a browser or CDN cache may hand this answer to a page on another origin (or a cached answer without CORS headers to this one); send Vary: Origin")
}

// cacheNotes warns that an answer may come from a cache, which may still
// hold old CORS headers.
func (d *diagnosis) cacheNotes(h http.Header) {
	if age := h.Get("Age"); age != "" {
		d.v.Notes = append(d.v.Notes, fmt.Sprintf("the answer came from a cache (Age: %s): a CDN or proxy may still hold old CORS headers; purge it after changing them", age))
	}
	cc := strings.ToLower(h.Get("Cache-Control"))
	if strings.Contains(cc, "max-age") && !strings.Contains(cc, "max-age=0") && !strings.Contains(cc, "no-store") ||
		strings.Contains(cc, "immutable") {
		d.v.Notes = append(d.v.Notes, fmt.Sprintf("Cache-Control: %s lets the browser keep this answer with its CORS headers; after changing them, reload with the cache disabled", h.Get("Cache-Control")))
	}
}

// send sends the preflight or the request itself as a browser would: with
// Origin, without cookies.
func (d *diagnosis) send(method string, preflight bool) (*Exchange, *http.Response) {
	req, err := http.NewRequestWithContext(d.ctx, method, d.target.String(), nil)
	ex := &Exchange{Method: method, URL: d.target.String(), RequestHeaders: http.Header{}}
	if err != nil {
		ex.Error = err.Error()
		return ex, nil
	}
	h := http.Header{}
	h.Set("Origin", d.origin)
	h.Set("Accept", "*/*")
	h.Set("Sec-Fetch-Mode", "cors")
	if preflight {
		h.Set("Access-Control-Request-Method", d.method)
		if len(d.unsafe) > 0 {
			h.Set("Access-Control-Request-Headers", strings.Join(d.unsafe, ","))
		}
	} else {
		for _, name := range d.c.Headers {
			switch strings.ToLower(name) {
			case "content-type":
			case "authorization":
				h.Set(name, "Bearer devproxy-doctor")
			default:
				h.Set(name, "devproxy-doctor")
			}
		}
		if d.c.ContentType != "" && method != http.MethodGet && method != http.MethodHead {
			h.Set("Content-Type", d.c.ContentType)
		}
	}
	for k, vs := range h {
		req.Header[k] = vs
		ex.RequestHeaders[k] = vs
	}
	req.Header.Set("User-Agent", "devproxy-doctor")
	// A server that took the connection and then says nothing is running
	// but stuck: telling the user to start it would send them the wrong
	// way.
	connected := false
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { connected = true },
	}))
	res, err := d.client.Do(req)
	if err != nil {
		ex.Error = reachError(err, d.target)
		if k := neterr.Classify(err).Kind; connected && (k == neterr.Timeout || k == neterr.DialTimeout) {
			d.stuck = true
			waited := "in time"
			if d.client.Timeout > 0 {
				waited = "within " + d.client.Timeout.String()
			}
			ex.Error = web.HostPort(d.target) + " accepted the connection but did not answer " + waited
		}
		return ex, nil
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	ex.Status = res.StatusCode
	ex.Headers = http.Header{}
	for name, vs := range res.Header {
		if strings.HasPrefix(name, "Access-Control-") || slices.Contains([]string{"Vary", "Age", "Cache-Control", "Location"}, name) {
			ex.Headers[name] = vs
		}
	}
	return ex, res
}

// unreachable blocks for a request that got no answer; the browser's
// console shows a network error, and fetch rejects with "Failed to fetch".
func (d *diagnosis) unreachable(ex *Exchange) {
	v := d.v
	v.Verdict = "blocked"
	v.Reason = fmt.Sprintf("%s %s failed: %s (fetch rejects with TypeError: Failed to fetch)", ex.Method, ex.URL, ex.Error)
	v.Mistake = "target not reachable"
	if d.stuck {
		v.Mistake = "target did not answer"
	}
}

// reachError says why a request got no answer.
func reachError(err error, target *url.URL) string {
	hostport := web.HostPort(target)
	switch r := neterr.Classify(err); r.Kind {
	case neterr.Refused:
		return "connection refused: nothing listens on " + hostport
	case neterr.NotTLS:
		return hostport + " does not speak TLS: write http:// instead of https://"
	case neterr.DialTimeout, neterr.Timeout:
		return "no answer from " + hostport + " in time"
	case neterr.Dial:
		return "cannot connect to " + hostport + ": " + r.Phrase
	case neterr.Closed:
		return hostport + " closed the connection without an answer"
	default:
		return r.Phrase
	}
}

// parseOrigin checks an origin as a browser sends it in Origin.
func parseOrigin(s string) (string, error) {
	o, prob := web.ParseOrigin(s)
	switch {
	case prob == nil:
		return o, nil
	case prob.Fault == web.OriginUser || prob.Fault == web.OriginQuery || prob.Fault == web.OriginFragment ||
		prob.Fault == web.OriginTrailingSlash || prob.Fault == web.OriginPath:
		return "", fmt.Errorf("origin %q has more than scheme://host[:port]; write %q", s, prob.Write)
	}
	return "", fmt.Errorf("origin %q is not scheme://host[:port], such as \"http://localhost:3000\"", s)
}

// originOf is the origin of u's scheme and host, "" when it has none.
func originOf(u *url.URL) string {
	o, _ := web.Origin(u.Scheme, u.Host)
	return o
}

// normalizeMethod upper-cases the methods fetch upper-cases; others stay as
// they are, as in the browser.
func normalizeMethod(m string) string {
	if m == "" {
		return http.MethodGet
	}
	for _, std := range []string{"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"} {
		if strings.EqualFold(m, std) {
			return std
		}
	}
	return m
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// unsafeHeaders returns the sorted, lower-case names of the request headers
// that are not CORS-safelisted, as a preflight lists them in
// Access-Control-Request-Headers.
func unsafeHeaders(headers []string, contentType string) []string {
	var out []string
	add := func(name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, h := range headers {
		switch name := strings.ToLower(h); name {
		case "accept", "accept-language", "content-language":
		case "content-type":
			if contentType == "" || !safelistedContentType(contentType) {
				add(name)
			}
		default:
			add(name)
		}
	}
	if contentType != "" && !safelistedContentType(contentType) {
		add("content-type")
	}
	slices.Sort(out)
	return out
}

func safelistedContentType(ct string) bool {
	essence, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch essence {
	case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		return true
	}
	return false
}
