package config

import (
	"net/url"
	"time"
)

// DefaultListen is the address devproxy listens on when neither the config
// file nor the -listen flag names one: loopback only, so the dev stack is not
// reachable from the network.
const DefaultListen = "127.0.0.1:8080"

// DefaultTimeout is how long a route waits for the response headers of its
// target when the route does not set timeout.
const DefaultTimeout = 60 * time.Second

// DefaultCORSMaxAge is how long a browser may cache devproxy's answer to a
// preflight when a route's cors block does not set max_age. It is short so
// that a change to the cors block shows in the browser within a minute.
const DefaultCORSMaxAge = time.Minute

// ReservedPrefix is the path prefix devproxy answers itself; no route may
// claim it.
const ReservedPrefix = "/__devproxy"

// Example is a minimal devproxy.yaml, shown when none is found.
const Example = `  frontend: http://localhost:5173   # your dev server, or a folder such as ./dist
  routes:
    /api: http://localhost:5000      # your API
`

// Config is a parsed and validated devproxy.yaml. It is never modified after
// Parse returns it.
type Config struct {
	// File is the path the config was read from, as given by the user.
	File string
	// Dir is the absolute folder that relative paths in the file (frontend
	// folder, mock files) resolve against.
	Dir string

	// Listen is the address to listen on; DefaultListen when absent.
	Listen string
	// HTTPS serves TLS on Listen, HTTP/2 and HTTP/1.1 by ALPN (https:
	// true, or a tls block). Default false: plain HTTP/1.1.
	HTTPS bool
	// TLS is the certificate and key to serve; nil means leaf
	// certificates from devproxy's local CA.
	TLS *TLSFiles
	// Name is the host name the top-level frontend and routes are served
	// as besides localhost (the name key), such as "shop.localhost"; empty
	// when the file has none.
	Name string
	// NameLine is the line of the name key, 0 when there is none.
	NameLine int
	// Frontend receives every request that no route claims; nil when the file
	// has no frontend.
	Frontend *Frontend
	// AllowedHosts are extra Host names accepted besides localhost,
	// *.localhost and IP literals.
	AllowedHosts []string
	// AllowedOrigins are extra browser origins trusted by the cross-site
	// checks, e.g. "http://localhost:3000".
	AllowedOrigins []string
	// Routes are the path-prefixed routes in file order. The router matches
	// the longest prefix whatever the order.
	Routes []Route
	// Sites are the named sites (the sites block) in file order; nil
	// when the file has none. Frontend and Routes above are then the
	// site of localhost and the IP addresses.
	Sites []Site
	// Log tunes the request log.
	Log LogSettings
	// Inspect tunes the inspector. The zero value captures, keeping
	// DefaultInspectRequests requests.
	Inspect InspectSettings
	// Warnings are problems that do not stop the config from loading,
	// such as a route that shadows the dev server's own paths, sorted by
	// line; nil when there are none.
	Warnings []*Error
}

// TLSFiles is the tls block: a certificate and its key, read from files.
type TLSFiles struct {
	// Cert is the absolute path of the PEM certificate file.
	Cert string
	// Key is the absolute path of the PEM private key file.
	Key string
	// Line is the line of the tls key in the file, 0 when unknown.
	Line int
}

// LogSettings tune the request log (the log key).
type LogSettings struct {
	// FrontendAll logs every frontend request (frontend: all). Default
	// false (frontend: pages): successful asset requests are not logged,
	// page loads and failures are.
	FrontendAll bool
}

// DefaultInspectRequests is how many requests the inspector keeps when
// inspect: does not say.
const DefaultInspectRequests = 1000

// maxInspectRequests bounds inspect.requests: each request kept may hold
// two bodies of up to 1 MiB, within a 64 MiB budget, so more than this
// would only keep bodiless entries.
const maxInspectRequests = 100000

// InspectSettings tune the inspector (the inspect key).
type InspectSettings struct {
	// Off stops the capture of requests (inspect: false). Default false:
	// every request devproxy carries is captured.
	Off bool
	// Requests is how many requests are kept; 0 means
	// DefaultInspectRequests.
	Requests int
}

// Frontend is where requests that no route claims go: a dev server to forward
// to (URL set, or Command set) or a folder to serve (Dir set), never both.
type Frontend struct {
	// URL is the dev server, e.g. http://localhost:5173; nil for a folder,
	// and for a Command that is given no url (devproxy picks a port).
	URL *url.URL
	// Dir is the absolute path of the folder to serve; empty for a URL.
	Dir string
	// SPA serves index.html for page navigations to paths with no file.
	// Default true.
	SPA bool
	// Command is the dev server devproxy starts (frontend: {command: …});
	// nil when devproxy starts none.
	Command *Command
	// FallbackAPI receives the page's requests that are not navigations
	// and that the dev server does not serve, whatever their path
	// (fallback_api, the catch-all of Create React App's "proxy" field);
	// nil when there is none. Only for a dev server (URL or Command).
	FallbackAPI *url.URL
	// FallbackLine is the line of the fallback_api key, 0 when unknown.
	FallbackLine int
	// Line is the line of the frontend key in the file, 0 when unknown.
	Line int
}

// Command is a program devproxy starts and supervises to serve the
// frontend or a route: a dev server such as "npm run dev", an API such as
// "go run ./cmd/api".
type Command struct {
	// Text is the command line, ${VAR} expanded. devproxy splits it into
	// words as a shell would and runs it without one, unless it uses
	// pipes, &&, redirections or $VAR: then /bin/sh -c runs it.
	Text string
	// Dir is the absolute folder the command runs in: the dir key, or the
	// config's folder when the key is absent.
	Dir string
	// Env holds NAME=value pairs added to devproxy's environment, in file
	// order; nil adds none.
	Env []string
	// Line is the line of the command key in the file, 0 when unknown.
	Line int
}

// Route sends every request whose path starts with Path (on a segment
// boundary) to Target, or answers it with Respond. Exactly one of Target and
// Respond is set, unless Command is: then Target may be nil, and devproxy
// picks the port the command listens on.
type Route struct {
	// Path is the normalised prefix: leading slash, no trailing slash,
	// e.g. "/api".
	Path string
	// Target is the upstream base URL (scheme http or https, host, optional
	// base path, no query).
	Target *url.URL
	// StripPrefix removes Path before the target's base path is prepended:
	// /auth/login -> /base/login. Default false: /base/auth/login.
	StripPrefix bool
	// PreserveHost sends the browser's Host upstream (host: preserve).
	// Default false: the target's host:port is sent (host: target).
	PreserveHost bool
	// Insecure accepts any certificate from an https target. Default false.
	Insecure bool
	// Headers are set on the request sent upstream, in file order; an empty
	// Value removes the header.
	Headers []Header
	// Timeout is the longest wait for the target's response headers before
	// devproxy answers 504. DefaultTimeout when the file does not set it.
	Timeout time.Duration
	// Respond makes devproxy answer the route itself (a mock); nil for a
	// proxied route.
	Respond *Respond
	// CORS lets pages on other origins call the route (cors mode); nil
	// leaves CORS to the target.
	CORS *CORS
	// Command is the program devproxy starts to serve the route; nil when
	// devproxy starts none.
	Command *Command
	// Record writes every exchange the target answers to a folder; nil
	// records nothing.
	Record *Record
	// Replay answers from recorded files, always or while the target is
	// down; nil never does.
	Replay *Replay
	// Fallback is where the route's requests go while Target refuses
	// connections (a shared environment); nil for none.
	Fallback *url.URL
	// Inject are the latency, failures, throttle and rate limit devproxy
	// adds to the route's answers; the zero value adds none.
	Inject Inject
	// Line is the line of the route's key in the file, 0 when unknown.
	Line int
}

// Header is one header name (canonical form) and value.
type Header struct {
	Name  string
	Value string
}

// Respond is a canned answer: a mock route that needs no backend.
type Respond struct {
	// Status is the response status code. Default 200.
	Status int
	// Headers are set on the response, in file order.
	Headers []Header
	// Body is the response body given inline (body, or json encoded as
	// JSON); nil when File is set.
	Body []byte
	// ContentType is the Content-Type sent with Body or File:
	// "application/json" for json, "text/plain; charset=utf-8" for body, by
	// file extension for file. A Content-Type in Headers wins.
	ContentType string
	// File is the absolute path of a file whose content is the body; it is
	// read on every request so edits need no reload. Empty for Body.
	File string
	// Delay is how long devproxy waits before answering. Default 0.
	Delay time.Duration
}

// CORS is a route's cors block: devproxy answers preflights itself and sets
// the Access-Control-* response headers for the origins it lists, replacing
// any the target sent.
type CORS struct {
	// Origins are the origins allowed to call the route, normalised to
	// scheme://host[:port] in lower case, e.g. "http://localhost:3000".
	// Never empty.
	Origins []string
	// Credentials allows requests with cookies or HTTP authentication
	// (fetch's credentials: 'include'). Default false.
	Credentials bool
	// Headers are the request headers a preflight may ask for, in canonical
	// form. Nil (the default) allows whatever the preflight asks for.
	Headers []string
	// Methods are the methods a preflight may ask for. Nil (the default)
	// allows whatever the preflight asks for.
	Methods []string
	// Expose are the response headers a page may read besides the
	// safelisted ones. Nil (the default) exposes every header of the
	// response.
	Expose []string
	// MaxAge is how long the browser may cache a preflight answer.
	// DefaultCORSMaxAge when the file does not set it; Chromium caps it at
	// 2 hours.
	MaxAge time.Duration
	// Line is the line of the origins key in the file (of the cors key
	// when origins is missing), 0 when unknown: the line to change to let
	// another origin in.
	Line int
}

// TrustedOrigins returns every browser origin the config trusts:
// AllowedOrigins, then the origins of each route's cors block, without
// repeats. The cross-site checks accept requests from these origins.
func (c *Config) TrustedOrigins() []string {
	var out []string
	seen := make(map[string]bool)
	add := func(o string) {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	for _, o := range c.AllowedOrigins {
		add(o)
	}
	for _, r := range c.Routes {
		if r.CORS != nil {
			for _, o := range r.CORS.Origins {
				add(o)
			}
		}
	}
	return out
}
