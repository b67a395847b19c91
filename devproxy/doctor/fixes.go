package doctor

import (
	"net/http"
	"strings"

	"github.com/devproxy/devproxy/internal/web"
)

// fixes says how to send the headers this request needs in common servers,
// and how devproxy avoids CORS altogether. An allowed request needs none.
func (d *diagnosis) fixes() []Fix {
	if d.v.Allowed() {
		return nil
	}
	if d.v.Mistake == "target did not answer" {
		return []Fix{{Where: "the target", Text: "the server at " + originOf(d.target) + " is running but stuck or busy (paused in a debugger, a blocked event loop, a request waiting on a database or on itself): check its log; the browser waits the same way, then fails"}}
	}
	if d.v.Mistake == "target not reachable" {
		return []Fix{{Where: "the target", Text: "start the server at " + originOf(d.target) + ", or check the URL: the browser gets no answer at all, so no header can help"}}
	}
	o := d.origin
	var methods []string
	if !web.CORSSafelistedMethod(d.method) {
		methods = []string{d.method}
	}
	var headers []string
	for _, h := range d.unsafe {
		headers = append(headers, http.CanonicalHeaderKey(h))
	}
	quoted := func(list []string, q string) string {
		s := make([]string, len(list))
		for i, v := range list {
			s[i] = q + v + q
		}
		return strings.Join(s, ", ")
	}

	express := "origin: '" + o + "'"
	flask := "origins=['" + o + "']"
	if d.credentials {
		express += ", credentials: true"
		flask += ", supports_credentials=True"
	}
	if methods != nil {
		express += ", methods: [" + quoted(methods, "'") + "]"
		flask += ", methods=[" + quoted(methods, "'") + "]"
	}
	if headers != nil {
		express += ", allowedHeaders: [" + quoted(headers, "'") + "]"
		flask += ", allow_headers=[" + quoted(headers, "'") + "]"
	}
	var fixes []Fix
	fixes = append(fixes, Fix{
		Where: "Express (cors)",
		Text: "const cors = require('cors')\n" +
			"app.use(cors({" + express + "}))  // before your routes and any auth middleware, so it answers OPTIONS too",
	}, Fix{
		Where: "Flask (flask-cors)",
		Text:  "from flask_cors import CORS\nCORS(app, " + flask + ")",
	})

	var ng strings.Builder
	ng.WriteString("# in the location that serves " + d.target.EscapedPath() + "\n")
	if d.v.Preflight != nil {
		ng.WriteString("if ($request_method = OPTIONS) {\n")
		ng.WriteString("    add_header Access-Control-Allow-Origin \"" + o + "\" always;\n")
		if d.credentials {
			ng.WriteString("    add_header Access-Control-Allow-Credentials \"true\" always;\n")
		}
		if methods != nil {
			ng.WriteString("    add_header Access-Control-Allow-Methods \"" + strings.Join(methods, ", ") + "\" always;\n")
		}
		if headers != nil {
			ng.WriteString("    add_header Access-Control-Allow-Headers \"" + strings.Join(headers, ", ") + "\" always;\n")
		}
		ng.WriteString("    add_header Access-Control-Max-Age 600 always;\n")
		ng.WriteString("    add_header Vary Origin always;\n")
		ng.WriteString("    return 204;\n}\n")
	}
	ng.WriteString("proxy_hide_header Access-Control-Allow-Origin;  # when the app behind sends its own\n")
	ng.WriteString("add_header Access-Control-Allow-Origin \"" + o + "\" always;\n")
	if d.credentials {
		ng.WriteString("add_header Access-Control-Allow-Credentials \"true\" always;\n")
	}
	ng.WriteString("add_header Vary Origin always;")
	fixes = append(fixes, Fix{Where: "nginx", Text: ng.String()})

	prefix := "/" + strings.SplitN(strings.TrimPrefix(d.target.Path, "/"), "/", 2)[0]
	if prefix == "/" {
		prefix = "/api"
	}
	base := d.target.Scheme + "://" + d.target.Host
	cors := "cors: {origins: [" + o + "]"
	if d.credentials {
		cors += ", credentials: true"
	}
	cors += "}"
	fixes = append(fixes, Fix{
		Where: "devproxy",
		Text: "serve the page through devproxy with a route, so the call is same-origin and needs no CORS:\n" +
			"routes:\n  " + prefix + ": " + base + "\n" +
			"then fetch('" + d.target.RequestURI() + "') from the page devproxy serves.\n" +
			"When the page cannot move behind devproxy, let devproxy answer for the API instead (cors mode):\n" +
			"routes:\n  " + prefix + ":\n    target: " + base + "\n    " + cors + "\n" +
			"and fetch through devproxy's address.",
	})
	return fixes
}
