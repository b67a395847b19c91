package runner

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// URLSource says how a Command's URL was decided.
type URLSource int

const (
	// URLGiven is Options.URL.
	URLGiven URLSource = iota + 1
	// URLPortEnv is a free loopback port passed to the command as PORT.
	URLPortEnv
	// URLPortFlag is a free loopback port passed as PORT and as the port
	// flag of a dev server known to ignore PORT (Plan.Server names it).
	URLPortFlag
	// URLAnnounced is the local URL the command printed, where it differs
	// from the planned one.
	URLAnnounced
)

// String returns the words a banner shows: "given", "PORT", "flag",
// "announced".
func (s URLSource) String() string {
	switch s {
	case URLGiven:
		return "given"
	case URLPortEnv:
		return "PORT"
	case URLPortFlag:
		return "flag"
	case URLAnnounced:
		return "announced"
	}
	return "unknown"
}

// devServer is a dev server that ignores PORT and reads a flag instead.
type devServer struct {
	name string
	// serves reports whether the arguments after the program start a
	// server (vite build does not).
	serves func(args []string) bool
	// strictPort adds --strictPort, which makes Vite fail instead of
	// moving to the next port when the port is taken.
	strictPort bool
}

// lookupDevServer finds a dev server by its program's base name. SvelteKit
// and Nuxt run on Vite and are found through the vite program their scripts
// call.
func lookupDevServer(prog string) (devServer, bool) {
	switch prog {
	case "vite":
		return devServer{name: "vite", serves: subcommandNotIn("build", "optimize"), strictPort: true}, true
	case "ng":
		return devServer{name: "ng serve", serves: subcommandIn("serve", "s", "dev")}, true
	case "webpack-dev-server":
		return devServer{name: "webpack-dev-server", serves: func([]string) bool { return true }}, true
	case "webpack":
		return devServer{name: "webpack serve", serves: subcommandIn("serve", "server", "s")}, true
	case "astro":
		return devServer{name: "astro", serves: subcommandIn("dev", "start", "preview")}, true
	}
	return devServer{}, false
}

// firstPositional returns the first argument that is not a flag.
func firstPositional(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

func subcommandIn(subs ...string) func([]string) bool {
	return func(args []string) bool {
		p := firstPositional(args)
		for _, s := range subs {
			if p == s {
				return true
			}
		}
		return false
	}
}

func subcommandNotIn(subs ...string) func([]string) bool {
	in := subcommandIn(subs...)
	return func(args []string) bool { return !in(args) }
}

// programName is argv[0]'s base name without a Windows extension.
func programName(arg0 string) string {
	name := filepath.Base(arg0)
	for _, ext := range []string{".cmd", ".exe", ".js"} {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

// hasPortFlag reports whether the user already chose the port on the
// command line; devproxy then leaves the arguments alone.
func hasPortFlag(args []string) bool {
	for _, a := range args {
		if a == "--port" || strings.HasPrefix(a, "--port=") {
			return true
		}
	}
	return false
}

// portFlags returns the flags that make server listen on port.
func portFlags(server devServer, port int) []string {
	flags := []string{"--port", strconv.Itoa(port)}
	if server.strictPort {
		flags = append(flags, "--strictPort")
	}
	return flags
}

// directServer finds a known dev server run directly or through a package
// runner that passes the remaining arguments on (npx, pnpx, bunx, pnpm
// exec/dlx, yarn exec/dlx, yarn BIN, pnpm BIN).
func directServer(argv []string) (devServer, []string, bool) {
	if len(argv) == 0 {
		return devServer{}, nil, false
	}
	prog, rest := programName(argv[0]), argv[1:]
	if s, ok := lookupDevServer(prog); ok {
		return s, rest, s.serves(rest) && !hasPortFlag(rest)
	}
	switch prog {
	case "npx", "pnpx", "bunx":
		return directServer(skipRunnerFlags(rest))
	case "pnpm", "yarn":
		rest = skipRunnerFlags(rest)
		if len(rest) > 0 && (rest[0] == "exec" || rest[0] == "dlx") {
			rest = skipRunnerFlags(rest[1:])
		}
		return directServer(rest)
	}
	return devServer{}, nil, false
}

// skipRunnerFlags drops a package runner's own flags before the program
// it runs: npx -y, npx --package=vite, npx -p vite.
func skipRunnerFlags(args []string) []string {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if (args[0] == "-p" || args[0] == "--package") && len(args) > 1 {
			args = args[1:]
		}
		args = args[1:]
	}
	return args
}

// scriptRun returns the package.json script that argv runs and whether
// flags for it must follow a "--": npm run X / npm run-script X / npm start
// need it (npm would read them as its own config otherwise), pnpm run X,
// pnpm X, yarn run X and yarn X pass arguments on as they are (pnpm would
// pass a "--" on to the script too).
func scriptRun(argv []string) (script string, dashes bool, ok bool) {
	if len(argv) < 2 {
		return "", false, false
	}
	prog, rest := programName(argv[0]), skipRunnerFlags(argv[1:])
	if len(rest) == 0 {
		return "", false, false
	}
	switch prog {
	case "npm":
		switch rest[0] {
		case "start":
			return "start", true, true
		case "run", "run-script", "rum", "urn":
			if args := skipRunnerFlags(rest[1:]); len(args) > 0 {
				return args[0], true, true
			}
		}
	case "pnpm", "yarn":
		if rest[0] == "run" {
			if args := skipRunnerFlags(rest[1:]); len(args) > 0 {
				return args[0], false, true
			}
			return "", false, false
		}
		return rest[0], false, true
	}
	return "", false, false
}

// readScript returns scripts[name] of dir/package.json.
func readScript(dir, name string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", false
	}
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	if json.Unmarshal(data, &pkg) != nil {
		return "", false
	}
	s, ok := pkg.Scripts[name]
	return s, ok
}

// injectFlags returns argv with the port flags appended when argv runs a
// dev server known to ignore PORT, directly, through a package runner, or
// through a package.json script whose command line is a simple command.
// server is the dev server found, empty when argv is returned unchanged.
func injectFlags(argv []string, dir string, port int) (out []string, server string) {
	if s, _, ok := directServer(argv); ok {
		return append(append([]string(nil), argv...), portFlags(s, port)...), s.name
	}
	name, dashes, ok := scriptRun(argv)
	if !ok {
		return argv, ""
	}
	script, ok := readScript(dir, name)
	if !ok {
		return argv, ""
	}
	sargv, _, needShell, err := Split(script)
	if err != nil || needShell {
		return argv, ""
	}
	if programName(sargv[0]) == "cross-env" {
		sargv = sargv[1:]
		for len(sargv) > 0 && isAssignment(sargv[0]) {
			sargv = sargv[1:]
		}
	}
	s, _, ok := directServer(sargv)
	if !ok || hasPortFlag(argv) {
		return argv, ""
	}
	out = append([]string(nil), argv...)
	if dashes && !hasDashes(argv) {
		out = append(out, "--")
	}
	return append(out, portFlags(s, port)...), s.name
}

func hasDashes(argv []string) bool {
	for _, a := range argv {
		if a == "--" {
			return true
		}
	}
	return false
}

// freePort returns a TCP port that is free on 127.0.0.1 now. Another
// program may take it before the command listens on it; Vite's
// --strictPort turns that into an exit with a clear message instead of a
// silent move to another port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	return port, nil
}
