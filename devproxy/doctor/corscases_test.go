package doctor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/devproxy/devproxy/internal/testnet"
)

// corsCase is one cross-origin call a page makes, to a backend that answers
// with fixed CORS headers, and what a browser must do with it. Both the
// doctor tests and the Chromium suite run every case.
type corsCase struct {
	name string
	// headers are "Name: value" lines the backend sends on every answer;
	// {origin} stands for the page's origin and {port} for its port.
	headers []string
	// optionsStatus answers OPTIONS; 204 when 0.
	optionsStatus int
	// optionsLocation, when set, makes OPTIONS a redirect there.
	optionsLocation string
	// down makes the backend a port that nothing listens on.
	down bool
	// pageHost is the host of the page's origin; 127.0.0.1 when empty.
	pageHost string

	method      string
	reqHeaders  []string
	contentType string
	credentials bool

	allowed bool
	// reason is part of the browser's console message for a blocked call,
	// and of doctor's reason.
	reason string
	// mistake is part of doctor's named mistake.
	mistake string
	// note is part of one of doctor's notes.
	note string
}

// corsCases are the misconfigurations doctor names, and correct set-ups.
func corsCases() []corsCase {
	const (
		exact   = "Access-Control-Allow-Origin: {origin}"
		vary    = "Vary: Origin"
		creds   = "Access-Control-Allow-Credentials: true"
		noACAO  = "No 'Access-Control-Allow-Origin' header is present on the requested resource."
		okState = "It does not have HTTP ok status."
	)
	return []corsCase{
		{name: "no CORS headers", reason: noACAO},
		{name: "wildcard", headers: []string{"Access-Control-Allow-Origin: *"}, allowed: true},
		{name: "exact origin", headers: []string{exact, vary}, allowed: true},
		{name: "echo without Vary", headers: []string{exact}, allowed: true},
		{name: "scheme differs", headers: []string{"Access-Control-Allow-Origin: https://127.0.0.1:{port}"},
			reason: "has a value 'https://127.0.0.1:", mistake: "differs only in scheme"},
		{name: "port differs", headers: []string{"Access-Control-Allow-Origin: http://127.0.0.1"},
			reason: "has a value 'http://127.0.0.1' that is not equal to the supplied origin.", mistake: "differs only in port"},
		{name: "trailing slash", headers: []string{"Access-Control-Allow-Origin: {origin}/"},
			reason: "that is not equal to the supplied origin.", mistake: "has a trailing slash"},
		{name: "localhost vs 127.0.0.1", pageHost: "localhost", headers: []string{"Access-Control-Allow-Origin: http://127.0.0.1:{port}"},
			reason: "that is not equal to the supplied origin.", mistake: "localhost, 127.0.0.1 and [::1] are three different origins"},
		{name: "wildcard with credentials", credentials: true, headers: []string{"Access-Control-Allow-Origin: *", creds},
			reason: "must not be the wildcard '*' when the request's credentials mode is 'include'.", mistake: "echo the page's origin"},
		{name: "credentials not allowed", credentials: true, headers: []string{exact, vary},
			reason: "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true'"},
		{name: "credentials allowed", credentials: true, headers: []string{exact, creds, vary}, allowed: true},
		{name: "Allow-Origin sent twice", headers: []string{exact, exact},
			reason: "contains multiple values", mistake: "two servers add the header"},
		{name: "Allow-Origin list", headers: []string{"Access-Control-Allow-Origin: {origin}, http://localhost:3000"},
			reason: "contains multiple values"},
		{name: "preflight 405 without CORS headers", method: "PUT", optionsStatus: 405,
			reason: "Response to preflight request doesn't pass access control check: " + noACAO, mistake: "preflight not handled"},
		{name: "preflight 404 with CORS headers", method: "DELETE", optionsStatus: 404, headers: []string{exact, "Access-Control-Allow-Methods: DELETE"},
			reason: okState, mistake: "preflight not handled"},
		{name: "preflight 401: auth before CORS", reqHeaders: []string{"Authorization"}, optionsStatus: 401,
			headers: []string{exact, "Access-Control-Allow-Headers: Authorization"},
			reason:  okState, mistake: "authentication runs before CORS"},
		{name: "preflight redirect", method: "PUT", optionsStatus: 308, optionsLocation: "/elsewhere/",
			headers: []string{exact, "Access-Control-Allow-Methods: PUT"},
			reason:  "Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request.", mistake: "a preflight must be answered where it is sent"},
		{name: "custom header not allowed", reqHeaders: []string{"X-Trace"}, headers: []string{exact, "Access-Control-Allow-Headers: Content-Type"},
			reason: "Request header field x-trace is not allowed by Access-Control-Allow-Headers in preflight response."},
		{name: "custom header under *", reqHeaders: []string{"X-Trace"}, headers: []string{exact, "Access-Control-Allow-Headers: *"}, allowed: true},
		// The Fetch standard refuses this; Chromium allows it, and the
		// browser is the ground truth.
		{name: "Authorization under *", reqHeaders: []string{"Authorization"}, headers: []string{exact, "Access-Control-Allow-Headers: *"},
			allowed: true, note: "the Fetch standard does not"},
		{name: "headers * with credentials", credentials: true, reqHeaders: []string{"X-Trace"}, headers: []string{exact, creds, "Access-Control-Allow-Headers: *"},
			reason: "Request header field x-trace is not allowed by Access-Control-Allow-Headers in preflight response.", mistake: "only without credentials"},
		{name: "method not allowed", method: "DELETE", headers: []string{exact, "Access-Control-Allow-Methods: GET, POST"},
			reason: "Method DELETE is not allowed by Access-Control-Allow-Methods in preflight response."},
		{name: "methods * with credentials", method: "DELETE", credentials: true, headers: []string{exact, creds, "Access-Control-Allow-Methods: *"},
			reason: "Method DELETE is not allowed by Access-Control-Allow-Methods in preflight response.", mistake: "only without credentials"},
		{name: "JSON POST without Allow-Headers", method: "POST", contentType: "application/json", headers: []string{exact},
			reason:  "Request header field content-type is not allowed by Access-Control-Allow-Headers in preflight response.",
			mistake: "is not one of the three"},
		{name: "text/plain POST needs no preflight", method: "POST", contentType: "text/plain", headers: []string{exact}, optionsStatus: 405, allowed: true},
		{name: "full preflight", method: "PUT", credentials: true, reqHeaders: []string{"Authorization"}, contentType: "application/json",
			headers: []string{exact, creds, vary, "Access-Control-Allow-Methods: GET, PUT", "Access-Control-Allow-Headers: Authorization, Content-Type", "Access-Control-Max-Age: 600"},
			allowed: true},
		{name: "target not reachable", down: true, mistake: "target not reachable"},
	}
}

// start serves the case's backend until the test ends and returns its base
// URL. origin is the page's origin.
func (c corsCase) start(t *testing.T, origin string) string {
	t.Helper()
	if c.down {
		return "http://127.0.0.1:" + testnet.ClosedPort(t)
	}
	_, port, _ := strings.Cut(strings.TrimPrefix(origin, "http://"), ":")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, line := range c.headers {
			name, value, _ := strings.Cut(line, ": ")
			value = strings.ReplaceAll(value, "{origin}", origin)
			value = strings.ReplaceAll(value, "{port}", port)
			w.Header().Add(name, value)
		}
		if r.Method == http.MethodOptions {
			if c.optionsLocation != "" {
				w.Header().Set("Location", c.optionsLocation)
			}
			status := c.optionsStatus
			if status == 0 {
				status = http.StatusNoContent
			}
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// check is the doctor question for the case.
func (c corsCase) check(url, origin string) Check {
	return Check{
		URL:         url,
		Origin:      origin,
		Method:      c.method,
		Headers:     c.reqHeaders,
		ContentType: c.contentType,
		Credentials: c.credentials,
		Send:        true,
	}
}

// pageOrigin is the origin of the case's page, whose server listens on port.
func (c corsCase) pageOrigin(port string) string {
	host := c.pageHost
	if host == "" {
		host = "127.0.0.1"
	}
	return "http://" + host + ":" + port
}
