// Package importer moves a frontend project's dev-server proxy over to
// devproxy: it detects the dev server from package.json and translates the
// proxy rules already there (Vite server.proxy, Create React App's "proxy"
// field and src/setupProxy.js, Angular's proxy config, webpack-dev-server's
// devServer.proxy, Next.js rewrites) into a devproxy.yaml.
//
// JavaScript and TypeScript configs are read by running them the way their
// own tool does, with the project's Node and installed packages (load.mjs,
// run with node); they are never parsed here. Without Node or the packages,
// Import says so in a note and imports what JSON files allow.
package importer

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
)

// Options tune Import. The zero value runs the "node" found in PATH.
type Options struct {
	// Node is the node program to run; empty means "node" looked up in
	// PATH. A Node that cannot be found is reported in a note, and only
	// static files are read.
	Node string
	// Timeout bounds each run of node; 0 means 60 seconds. A config that
	// starts a server or waits forever is cut off and reported.
	Timeout time.Duration
}

// Result is what Import found in a project.
type Result struct {
	// Project is the detected dev server.
	Project Project
	// Listen is the address devproxy is to listen on; "" for devproxy's
	// default, which is chosen unless the dev server or a target uses its
	// port.
	Listen string
	// Routes are the imported routes in the order they were found.
	Routes []Route
	// Fallback is the API that gets the frontend's requests that are not
	// page loads and that the dev server does not serve (CRA's "proxy"
	// field), written as frontend.fallback_api; nil when there is none.
	Fallback *Fallback
	// Notes say what could not be translated and why, and which dev
	// server settings to change behind devproxy.
	Notes []Note
}

// Project is the frontend dev server of a project.
type Project struct {
	// Dir is the project folder.
	Dir string
	// Tool is the dev server: one of the Tool constants, "" when none was
	// recognised.
	Tool Tool
	// Framework is what runs on the tool, e.g. "Vue" on Vite; "" when
	// none is known.
	Framework string
	// Command runs the dev server, e.g. "npm run dev"; "" when package.json
	// has no dev or start script.
	Command string
	// Port is the dev server's port; 0 when unknown.
	Port int
	// PortFrom says where Port comes from, e.g. "vite.config.ts
	// server.port" or "Vite's default".
	PortFrom string
	// Env are variables the dev server needs behind devproxy, written as
	// frontend.env, each with why; nil when it needs none.
	Env []EnvVar
}

// EnvVar is one variable of frontend.env.
type EnvVar struct {
	Name, Value string
	// Why is the comment above it.
	Why string
}

// Tool names a dev server.
type Tool string

// The dev servers Import recognises.
const (
	Vite    Tool = "Vite"
	CRA     Tool = "Create React App"
	Angular Tool = "Angular CLI"
	Next    Tool = "Next.js"
	Nuxt    Tool = "Nuxt"
	Webpack Tool = "webpack-dev-server"
)

// Route is one imported route.
type Route struct {
	// Path is the route's prefix, e.g. "/api".
	Path string
	// Target is the URL requests go to.
	Target string
	// StripPrefix removes Path before forwarding.
	StripPrefix bool
	// PreserveHost sends the browser's Host (the source had no
	// changeOrigin).
	PreserveHost bool
	// Insecure accepts any certificate (the source had secure: false).
	Insecure bool
	// Timeout is the wait for the target's response headers, e.g. "2m"
	// (from proxyTimeout); "" for devproxy's default.
	Timeout string
	// Headers are set on the request sent upstream, sorted by name.
	Headers [][2]string
	// From says where the rule came from, e.g. "vite.config.ts
	// server.proxy['/api']".
	From string
	// Comment holds further lines for the route's comment.
	Comment []string
	// Disabled writes the route commented out: the source's rule has no
	// prefix devproxy can route by (CRA's "proxy" field).
	Disabled bool
}

// Fallback is an imported catch-all API: frontend.fallback_api.
type Fallback struct {
	// Target is the API's URL.
	Target string
	// From says where it came from, e.g. `package.json "proxy"`.
	From string
	// Comment holds further lines for its comment.
	Comment []string
}

// Note is a message for the user about the import.
type Note struct {
	// From is the file or rule the note is about; may be empty.
	From string
	// Text says what happened and what to do.
	Text string
}

// String returns the note as one line, its source first.
func (n Note) String() string {
	if n.From == "" {
		return n.Text
	}
	return n.From + ": " + n.Text
}

// Import reads the project in dir and translates its dev server and proxy
// rules. The error is for a project that cannot be read at all (no
// package.json); everything short of that is a note.
func Import(ctx context.Context, dir string, opts Options) (*Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	pkg, err := readPackage(abs)
	if err != nil {
		return nil, err
	}
	im := &importer{ctx: ctx, dir: abs, pkg: pkg, opts: opts}
	im.res.Project = detect(abs, pkg)
	im.node, im.nodeErr = im.findNode()
	im.run()
	im.chooseListen()
	return &im.res, nil
}

// importer holds the state of one Import.
type importer struct {
	ctx     context.Context
	dir     string
	pkg     *packageJSON
	opts    Options
	node    string
	nodeErr error
	res     Result
	// webpackFile and webSocketURL are the webpack config read and the
	// devServer.client.webSocketURL it sets, for the dev server notes.
	webpackFile  string
	webSocketURL string
}

func (im *importer) note(from, format string, args ...any) {
	im.res.Notes = append(im.res.Notes, Note{From: from, Text: fmt.Sprintf(format, args...)})
}

func (im *importer) findNode() (string, error) {
	name := im.opts.Node
	if name == "" {
		name = "node"
	}
	return exec.LookPath(name)
}

func (im *importer) run() {
	p := &im.res.Project
	switch p.Tool {
	case Vite:
		im.vite()
	case CRA:
		im.cra()
	case Angular:
		im.angular()
	case Webpack:
		im.webpack()
	case Next:
		im.next()
	case Nuxt:
		file := findFile(im.dir, "nuxt.config.ts", "nuxt.config.js", "nuxt.config.mjs")
		if file == "" {
			file = "nuxt.config.ts"
		}
		im.note(file, "Nuxt's nitro.devProxy and routeRules proxies are not imported; add them to routes: by hand")
	default:
		im.note("package.json", "no known dev server among the dependencies (Vite, react-scripts, @angular/cli, next, nuxt, webpack-dev-server); set frontend: to your dev server's URL")
	}
	im.devServerNotes()
}

// chooseListen moves devproxy off its default port when the dev server or
// a route target uses it (webpack-dev-server's default is 8080 too): a
// target on devproxy's own address would be devproxy itself.
func (im *importer) chooseListen() {
	used := map[string]string{}
	if p := im.res.Project; p.Port > 0 {
		used[strconv.Itoa(p.Port)] = "the dev server"
	}
	targets := [][2]string{}
	for _, r := range im.res.Routes {
		if !r.Disabled {
			targets = append(targets, [2]string{r.Target, r.Path + "'s target"})
		}
	}
	if fb := im.res.Fallback; fb != nil {
		targets = append(targets, [2]string{fb.Target, "the fallback API"})
	}
	for _, t := range targets {
		if u, err := url.Parse(t[0]); err == nil {
			port := u.Port()
			if port == "" {
				port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
			}
			if _, ok := used[port]; !ok {
				used[port] = t[1]
			}
		}
	}
	host, def, _ := net.SplitHostPort(config.DefaultListen)
	who, taken := used[def]
	if !taken {
		return
	}
	for _, port := range []string{"8000", "8088", "8090", "9000", "9080", "18080"} {
		if _, ok := used[port]; !ok {
			im.res.Listen = net.JoinHostPort(host, port)
			im.note("", "devproxy listens on %s, not on its default %s, which %s uses: open http://localhost:%s", im.res.Listen, config.DefaultListen, who, port)
			return
		}
	}
}
