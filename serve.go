package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"

	"github.com/devproxy/devproxy/devproxy"
	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/keys"
	"github.com/devproxy/devproxy/internal/neterr"
)

// serveMode says whether devproxy serves the config or only checks it.
type serveMode int

const (
	serveToo  serveMode = iota // devproxy: load the config, then serve it
	checkOnly                  // devproxy check: load the config and print its routes
)

// runServe is devproxy and devproxy check, which share their flags.
func runServe(ctx context.Context, e env, args []string, stdout, stderr io.Writer, mode serveMode) int {
	// The words after -- are the frontend's dev server, not devproxy's.
	var command []string
	if i := slices.Index(args, "--"); i >= 0 {
		command = slices.Clone(args[i+1:])
		args = args[:i]
		if len(command) == 0 {
			return fail(stderr, exitUsage, "no command after --", "write the dev server to start, such as devproxy -- npm run dev")
		}
	}
	fset := newFlagSet("devproxy", usage, stderr)
	configFile := fset.String("config", "devproxy.yaml", "the config `file`")
	listen := fset.String("listen", "", "the `address` to listen on; overrides the config's listen")
	showVersion := fset.Bool("version", false, "print the version and exit")
	logFormat := fset.String("log", "text", "log `format`: text (aligned, colored on a terminal) or json (one object per line)")
	https := fset.Bool("https", false, "serve https (HTTP/2 and HTTP/1.1) with certificates of devproxy's local CA, even if the config does not say https: true")
	verbose := fset.Bool("verbose", false, "log every frontend request, not only page loads and failures")
	inspectOn := fset.Bool("inspect", true, "capture requests for the inspector at /__devproxy/; -inspect=false turns it off whatever the config says")
	name := fset.String("name", "", "serve the frontend and routes as `NAME`.localhost too; overrides the config's name and the git checkout's")
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	if fset.NArg() > 0 {
		return fail(stderr, exitUsage, fmt.Sprintf("unexpected argument %q", fset.Arg(0)), "run devproxy -h for usage")
	}
	if *showVersion {
		fmt.Fprintln(stdout, "devproxy", buildVersion())
		return exitOK
	}
	if *listen != "" {
		if problem, fix := config.CheckListen(*listen); problem != "" {
			return fail(stderr, exitUsage, "-listen "+problem, "write -listen "+fix)
		}
	}
	if *name != "" {
		if _, problem, hint := config.CheckName(*name); problem != "" {
			return fail(stderr, exitUsage, "-name "+problem, hint)
		}
	}
	if *logFormat != "text" && *logFormat != "json" {
		return fail(stderr, exitUsage, fmt.Sprintf("unknown log format %q", *logFormat), "write -log text or -log json")
	}

	// Single keys are read from a terminal only, and not under -log json,
	// whose output is for tools.
	interactive := mode == serveToo && *logFormat == "text" && keys.IsTerminal(e.stdin)
	note := ""
	if interactive {
		note = "press h to show the keys"
	}
	srv, err := devproxy.New(devproxy.Options{
		Started:    e.started,
		BannerNote: note,
		ConfigFile: *configFile,
		Listen:     *listen,
		Log:        stdout,
		LogJSON:    *logFormat == "json",
		Verbose:    *verbose,
		HTTPS:      *https,
		NoInspect:  !*inspectOn,
		Version:    buildVersion(),
		Command:    command,
		Name:       *name,
	})
	if err != nil {
		return configFailed(stderr, *configFile, err,
			"create it, or name another with -config; a minimal one:\n\n"+strings.TrimSuffix(config.Example, "\n"))
	}
	if mode == checkOnly {
		fmt.Fprintf(stdout, "%s is valid\n", *configFile)
		devproxy.WriteRoutes(stdout, srv.Config())
		for _, w := range srv.Config().Warnings {
			fmt.Fprintf(stderr, "devproxy: warning: %s\n", w.Error())
		}
		return exitOK
	}

	// Listen before serving, so that a busy port fails at once.
	addr := srv.ListenAddr()
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		// Another devproxy there serves this one's names too, if it is
		// one; else the port is someone else's.
		if gl, jerr := srv.Join(addr); jerr == nil {
			ln, err = gl, nil
		}
	}
	if err != nil {
		return fail(stderr, exitFailure, "cannot listen on "+addr+": "+neterr.Classify(err).Phrase,
			"stop the program that uses it, or pick another address with -listen")
	}
	if interactive {
		// q ends ctx as Ctrl-C does, for the same clean shutdown.
		var quit context.CancelFunc
		ctx, quit = context.WithCancel(ctx)
		defer quit()
		// The terminal is restored on every way out of run.
		defer keys.Start(ctx, e.stdin, stdout, []keys.Key{
			{Char: 'o', Help: "open devproxy in the browser", Do: func() { openBrowser(stdout, srv.OpenURL()) }},
			{Char: 'r', Help: "probe every target again and restart the commands", Do: func() { srv.Restart(ctx) }},
			{Char: 'c', Help: "clear the screen", Do: func() { fmt.Fprint(stdout, "\x1b[H\x1b[2J\x1b[3J") }},
			{Char: 'q', Help: "quit", Do: quit},
		})()
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return fail(stderr, exitFailure, err.Error())
	}
	return exitOK
}
