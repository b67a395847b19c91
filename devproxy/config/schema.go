package config

import "encoding/json"

// A kind is the shape of a key's value, as the parser reads it. The
// schema gives each kind one JSON Schema, so that a value the parser
// accepts (a boolean from "${VAR}", a header value written as a number)
// also passes the schema.
type kind int

const (
	// kindString is a string; "${VAR}" expands inside it.
	kindString kind = iota + 1
	// kindText is a string, or a number read as its text.
	kindText
	// kindBool is true or false, or a "${VAR}" that expands to one.
	kindBool
	// kindInt is an integer, or a "${VAR}" that expands to one.
	kindInt
	// kindDuration is a Go duration such as "30s", 0, or "${VAR}".
	kindDuration
	// kindEnum is one of the key's allowed values, or "${VAR}".
	kindEnum
	// kindList is a list of strings; nothing means an empty list.
	kindList
	// kindOrigins is a list of origins or one string of them,
	// comma-separated.
	kindOrigins
	// kindHeaders maps header names to values; an empty value or nothing
	// removes the header.
	kindHeaders
	// kindEnv maps environment variable names to values.
	kindEnv
	// kindAny is any YAML value (respond.json).
	kindAny
	// kindMapping is a mapping of the key's sub-keys.
	kindMapping
	// kindFrontend is a URL or folder, or a mapping of the key's sub-keys.
	kindFrontend
	// kindRoutes maps path prefixes to a target URL or a route mapping.
	kindRoutes
	// kindNumber is a number, or a "${VAR}" that expands to one.
	kindNumber
	// kindLatency is a duration or a range of two ("100ms..800ms").
	kindLatency
	// kindThrottle is a rate in bytes per second ("256KiB/s").
	kindThrottle
	// kindSwitch is true or false (or "${VAR}"), or a mapping of the
	// key's sub-keys, which means true.
	kindSwitch
	// kindSites maps host names to a mapping of the key's sub-keys.
	kindSites
)

// key is one key of a mapping in devproxy.yaml. The parser takes its
// known-key lists from these tables and Schema describes the same keys, so
// the two cannot drift apart.
type key struct {
	name string
	kind kind
	// doc says what the key does, for editors showing the schema.
	doc string
	// def is the default as the file would write it; nil for none.
	def any
	// enum lists the allowed values of a kindEnum key.
	enum []string
	// keys are the sub-keys of a kindMapping or kindFrontend key, and the
	// keys of each route's mapping for kindRoutes.
	keys []key
}

// The key tables, in the order the documentation lists them; unknown-key
// hints list them in this order too.

func topKeys() []key {
	return []key{
		{name: "listen", kind: kindString, def: DefaultListen,
			doc: "Address to listen on, host:port. Loopback by default, so the dev stack is not reachable from the network."},
		{name: "https", kind: kindBool, def: false,
			doc: "Serve https:// (HTTP/2 and HTTP/1.1) on the listen address, with certificates from devproxy's local CA (run devproxy trust once) or from tls."},
		{name: "tls", kind: kindMapping, keys: tlsKeys(),
			doc: "A certificate and key to serve instead of the local CA's (one made by mkcert, say); turns https on."},
		{name: "name", kind: kindString,
			doc: "The name the frontend and routes are served as besides localhost: shop serves them as shop.localhost. Left out, in a git checkout: the repository's folder name, with the branch in front of it in a linked worktree or on a branch other than the default."},
		{name: "frontend", kind: kindFrontend, keys: frontendKeys(),
			doc: "Where every request that no route claims goes: an http(s):// URL of a dev server (WebSockets included), or a folder served as files."},
		{name: "allowed_hosts", kind: kindList, def: []any{},
			doc: "Extra Host names accepted besides localhost, *.localhost and IP addresses."},
		{name: "allowed_origins", kind: kindList, def: []any{},
			doc: "Extra browser origins trusted by the cross-site checks, such as http://localhost:3000."},
		{name: "routes", kind: kindRoutes, keys: routeKeys(), def: map[string]any{},
			doc: "Path prefix -> target URL (short form) or a mapping (long form). The longest prefix wins."},
		{name: "sites", kind: kindSites, keys: siteKeys(), def: map[string]any{},
			doc: "Host name (shop.localhost, or *.shop.localhost for every name below it) -> that site's frontend and routes. Each site is an origin of its own; localhost keeps the top-level frontend and routes."},
		{name: "log", kind: kindMapping, keys: logKeys(),
			doc: "Tunes the request log."},
		{name: "inspect", kind: kindSwitch, keys: inspectKeys(), def: true,
			doc: "The inspector at /__devproxy/: false stops capturing requests (the -inspect=false flag does too); a mapping tunes it."},
	}
}

func inspectKeys() []key {
	return []key{
		{name: "requests", kind: kindInt, def: DefaultInspectRequests,
			doc: "How many requests the inspector keeps, newest first; the oldest is dropped. Bodies are kept up to 1 MiB each, 64 MiB in all."},
	}
}

func siteKeys() []key {
	return []key{
		{name: "frontend", kind: kindFrontend, keys: frontendKeys(),
			doc: "Where every request of the site that none of its routes claims goes: a dev server URL, a folder, or a mapping with command."},
		{name: "routes", kind: kindRoutes, keys: routeKeys(), def: map[string]any{},
			doc: "The site's routes: path prefix -> target URL or a mapping. The longest prefix wins."},
	}
}

func logKeys() []key {
	return []key{
		{name: "frontend", kind: kindEnum, enum: []string{"pages", "all"}, def: "pages",
			doc: "pages logs page loads and failures of the frontend; all logs every asset request too (the same as -verbose)."},
	}
}

func tlsKeys() []key {
	return []key{
		{name: "cert", kind: kindString,
			doc: "The PEM certificate file (its chain may follow it), relative to the config file. Required."},
		{name: "key", kind: kindString,
			doc: "The PEM private key file of cert, relative to the config file. Required."},
	}
}

func frontendKeys() []key {
	return []key{
		{name: "dir", kind: kindString,
			doc: "The folder to serve, relative to the config file; with command, the folder the command runs in."},
		{name: "spa", kind: kindBool, def: true,
			doc: "Serve index.html for page navigations to paths with no file."},
		{name: "command", kind: kindString,
			doc: "The dev server devproxy starts, such as npm run dev; devproxy passes it a free port unless url is given."},
		{name: "url", kind: kindString,
			doc: "With command: where the dev server will listen, such as http://localhost:5173. Left out, devproxy picks a port."},
		{name: "env", kind: kindEnv, def: map[string]any{},
			doc: "With command: environment variables added to devproxy's for the command."},
		{name: "fallback_api", kind: kindString,
			doc: "With url or command: the http(s):// URL of an API that gets the page's requests no route claims, that are not page loads and that the dev server does not serve (it answered 404 or its HTML page); every method but GET and HEAD goes there directly. Create React App's \"proxy\" field."},
	}
}

func routeKeys() []key {
	return []key{
		{name: "target", kind: kindString,
			doc: "The http:// or https:// URL to forward to; may carry a base path. Required unless respond, command or replay is set."},
		{name: "strip_prefix", kind: kindBool, def: false,
			doc: "Remove the route's prefix before forwarding: /auth/login -> /base/login. When false the path is kept."},
		{name: "host", kind: kindEnum, enum: []string{"target", "preserve"}, def: "target",
			doc: "The Host header sent upstream: target (the target's host:port) or preserve (what the browser sent)."},
		{name: "insecure", kind: kindBool, def: false,
			doc: "Accept a self-signed or otherwise untrusted certificate from an https target."},
		{name: "headers", kind: kindHeaders, def: map[string]any{},
			doc: "Request headers set on the way up; an empty value removes the header."},
		{name: "timeout", kind: kindDuration, def: "60s",
			doc: "Longest wait for the target's response headers, then devproxy answers 504."},
		{name: "respond", kind: kindMapping, keys: respondKeys(),
			doc: "Answer the route in devproxy itself (a mock). Not together with target."},
		{name: "cors", kind: kindMapping, keys: corsKeys(),
			doc: "CORS mode, for pages on other origins: devproxy answers preflights and sets the Access-Control-* headers."},
		{name: "command", kind: kindString,
			doc: "The program devproxy starts to serve the route, such as go run ./cmd/api; devproxy passes it a free port as PORT unless target is given."},
		{name: "dir", kind: kindString,
			doc: "With command: the folder the command runs in, relative to the config file."},
		{name: "env", kind: kindEnv, def: map[string]any{},
			doc: "With command: environment variables added to devproxy's for the command."},
		{name: "record", kind: kindString,
			doc: "A folder, relative to the config file, that every exchange the target answers is written to: one file per distinct request, to read, edit and commit."},
		{name: "record_secrets", kind: kindBool, def: false,
			doc: "Write Authorization, Cookie and Set-Cookie values into the recordings as they are. When false they are masked."},
		{name: "replay", kind: kindString,
			doc: "A folder of recordings to answer from instead of the target, or auto: answer from the record folder only while the target refuses connections."},
		{name: "fallback", kind: kindString,
			doc: "An http(s):// URL, such as a shared staging server, that answers while the target refuses connections; checked on every request."},
		{name: "latency", kind: kindLatency,
			doc: "Delay every answer by this long (300ms), or by a random time in a range (100ms..800ms). Marked in X-Devproxy-Injected."},
		{name: "fail", kind: kindMapping, keys: failKeys(),
			doc: "Answer a share of the requests with an error status instead of the target: {rate: 0.1, status: 503}. Marked in X-Devproxy-Injected."},
		{name: "throttle", kind: kindThrottle,
			doc: "Send request and response bodies at most this fast, each way, as a slow network would (256KiB/s). Marked in X-Devproxy-Injected."},
		{name: "rate_limit", kind: kindMapping, keys: rateLimitKeys(),
			doc: "Let through this many requests per window, answer the others 429 with Retry-After: {requests: 10, per: 1s}. Marked in X-Devproxy-Injected."},
	}
}

func failKeys() []key {
	return []key{
		{name: "rate", kind: kindNumber,
			doc: "The share of requests that fail, from 0 to 1: 0.1 fails one in ten. Required."},
		{name: "status", kind: kindInt, def: DefaultFailStatus,
			doc: "The status of a failed request, 400 to 599."},
	}
}

func rateLimitKeys() []key {
	return []key{
		{name: "requests", kind: kindInt,
			doc: "How many requests each window lets through. Required."},
		{name: "per", kind: kindDuration, def: "1s",
			doc: "The window the requests are counted in (1s, 1m)."},
	}
}

func corsKeys() []key {
	return []key{
		{name: "origins", kind: kindOrigins,
			doc: "Origins allowed to call the route (http://localhost:3000); one value may hold several, comma-separated. No *. Required."},
		{name: "credentials", kind: kindBool, def: false,
			doc: "Allow credentials: 'include' (cookies, HTTP authentication)."},
		{name: "headers", kind: kindList,
			doc: "Request headers a page may send; left out, whatever the preflight asks for."},
		{name: "methods", kind: kindList,
			doc: "Methods a page may use; left out, whatever the preflight asks for."},
		{name: "expose", kind: kindList,
			doc: "Response headers a page may read; left out, every header of the response."},
		{name: "max_age", kind: kindDuration, def: "1m",
			doc: "How long the browser caches a preflight answer (Chromium caps it at 2h)."},
	}
}

func respondKeys() []key {
	return []key{
		{name: "status", kind: kindInt, def: 200,
			doc: "The response status code, 200 to 599."},
		{name: "json", kind: kindAny,
			doc: "The body: any YAML value, sent as JSON (application/json)."},
		{name: "body", kind: kindText,
			doc: "The body as text (text/plain)."},
		{name: "file", kind: kindString,
			doc: "The body from a file, relative to the config file; type by extension, read on every request."},
		{name: "headers", kind: kindHeaders, def: map[string]any{},
			doc: "Response headers."},
		{name: "delay", kind: kindDuration, def: "0s",
			doc: "Wait this long before answering (150ms, 2s)."},
	}
}

func names(keys []key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.name
	}
	return out
}

// SchemaID is the $id of the schema Schema returns.
const SchemaID = "urn:devproxy:devproxy.schema.json"

// envPattern matches a string that takes its value from the environment,
// whatever type its text then decides.
const envPattern = `\$\{`

// durationPattern matches what time.ParseDuration reads, or a ${VAR}.
const durationPattern = `^(-?([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$|^0$|` + envPattern

// latencyPattern matches a duration or a range of two, or a ${VAR}.
const latencyPattern = `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)(\.\.(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+))?$|` + envPattern

// Schema returns the JSON Schema (draft 2020-12) of devproxy.yaml, made
// from the key tables the parser reads, indented for a file.
func Schema() []byte {
	s := obj{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         SchemaID,
		"title":       "devproxy.yaml",
		"description": "The config of devproxy, a local development proxy.",
		"type":        []any{"object", "null"},
	}
	mappingSchema(s, topKeys())
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		// Only maps, slices, strings, numbers and booleans go in.
		panic(err)
	}
	return append(b, '\n')
}

type obj = map[string]any

func mappingSchema(s obj, keys []key) obj {
	props := obj{}
	for _, k := range keys {
		props[k.name] = keySchema(k)
	}
	s["properties"] = props
	s["additionalProperties"] = false
	return s
}

func keySchema(k key) obj {
	s := valueSchema(k)
	s["description"] = k.doc
	if k.def != nil {
		s["default"] = k.def
	}
	return s
}

func envString() obj { return obj{"type": "string", "pattern": envPattern} }

func stringList() obj {
	return obj{"type": []any{"array", "null"}, "items": obj{"type": "string"}}
}

func valueSchema(k key) obj {
	switch k.kind {
	case kindString:
		return obj{"type": "string"}
	case kindText:
		return obj{"type": []any{"string", "number", "null"}}
	case kindBool:
		return obj{"anyOf": []any{obj{"type": "boolean"}, envString()}}
	case kindInt:
		return obj{"anyOf": []any{obj{"type": "integer"}, envString()}}
	case kindDuration:
		return obj{"anyOf": []any{obj{"type": "string", "pattern": durationPattern}, obj{"const": 0}},
			"examples": []any{"30s", "150ms"}}
	case kindEnum:
		enum := make([]any, len(k.enum))
		for i, v := range k.enum {
			enum[i] = v
		}
		return obj{"anyOf": []any{obj{"enum": enum}, envString()}}
	case kindList:
		return stringList()
	case kindOrigins:
		return obj{"anyOf": []any{obj{"type": "array", "items": obj{"type": "string"}, "minItems": 1}, obj{"type": "string"}}}
	case kindHeaders:
		return obj{"type": []any{"object", "null"}, "additionalProperties": obj{"type": []any{"string", "number", "null"}}}
	case kindEnv:
		return obj{"type": []any{"object", "null"}, "propertyNames": obj{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
			"additionalProperties": obj{"type": []any{"string", "number", "boolean", "null"}}}
	case kindAny:
		return obj{}
	case kindNumber:
		return obj{"anyOf": []any{obj{"type": "number", "minimum": 0, "maximum": 1}, envString()}}
	case kindLatency:
		return obj{"anyOf": []any{obj{"type": "string", "pattern": latencyPattern}, obj{"const": 0}},
			"examples": []any{"300ms", "100ms..800ms"}}
	case kindThrottle:
		return obj{"type": "string", "pattern": `^[0-9.]+ ?(B|kB|KB|KiB|MB|MiB|GB|GiB)/s$|` + envPattern,
			"examples": []any{"256KiB/s", "1MB/s"}}
	case kindMapping:
		s := mappingSchema(obj{"type": "object"}, k.keys)
		switch k.name {
		case "respond":
			s["not"] = obj{"anyOf": []any{
				obj{"required": []any{"json", "body"}},
				obj{"required": []any{"json", "file"}},
				obj{"required": []any{"body", "file"}},
			}}
		case "cors":
			s["required"] = []any{"origins"}
		case "tls":
			s["required"] = []any{"cert", "key"}
		case "fail":
			s["required"] = []any{"rate"}
		case "rate_limit":
			s["required"] = []any{"requests"}
		}
		return s
	case kindSwitch:
		return obj{"anyOf": []any{obj{"type": "boolean"}, envString(), mappingSchema(obj{"type": "object"}, k.keys)}}
	case kindSites:
		return obj{
			"type":                 []any{"object", "null"},
			"propertyNames":        obj{"pattern": `^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$`},
			"additionalProperties": mappingSchema(obj{"type": "object"}, k.keys),
		}
	case kindFrontend:
		long := mappingSchema(obj{"type": "object", "anyOf": []any{obj{"required": []any{"dir"}}, obj{"required": []any{"command"}}, obj{"required": []any{"url"}}}}, k.keys)
		return obj{"anyOf": []any{obj{"type": "string", "minLength": 1}, long}, "examples": []any{"http://localhost:5173", "./dist"}}
	case kindRoutes:
		long := mappingSchema(obj{"type": "object"}, k.keys)
		long["anyOf"] = []any{obj{"required": []any{"target"}}, obj{"required": []any{"respond"}}, obj{"required": []any{"command"}}, obj{"required": []any{"replay"}}}
		long["not"] = obj{"anyOf": []any{obj{"required": []any{"target", "respond"}}, obj{"required": []any{"command", "respond"}},
			obj{"required": []any{"replay", "respond"}}, obj{"required": []any{"record", "respond"}}, obj{"required": []any{"fallback", "respond"}}}}
		return obj{
			"type":          []any{"object", "null"},
			"propertyNames": obj{"pattern": "^/"},
			"additionalProperties": obj{"anyOf": []any{
				obj{"type": "string", "minLength": 1, "description": "The target URL, such as http://localhost:5000."},
				long,
			}},
		}
	}
	panic("config: key " + k.name + " has no kind")
}
