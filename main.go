// Command devproxy is a local development proxy: one origin for your
// frontend and every API it calls, so the browser never sees a CORS error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/devproxy/devproxy/devproxy"
	"github.com/devproxy/devproxy/devproxy/config"
)

const usage = `devproxy serves your frontend and your APIs on one origin, so the browser
never makes a cross-origin request.

Examples:
  devproxy                          serve with ./devproxy.yaml, open http://localhost:8080
  devproxy -config dev.yaml         serve with another config file
  devproxy -listen 127.0.0.1:3000   serve on another address
  devproxy -verbose                 also log every frontend asset request
  devproxy -log json > log.jsonl    log one JSON object per line, for tools
  devproxy check                    validate the config and print its routes
  devproxy init                     write a devproxy.yaml from this project's dev server proxy
  devproxy doctor URL --origin http://localhost:3000
                                    explain why the browser blocks a cross-origin call

Usage:
  devproxy [flags]
  devproxy check [flags]
  devproxy doctor [URL] [flags]
  devproxy init [DIR] [flags]
  devproxy schema

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "trust" {
		return trust(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "doctor" {
		return devproxy.Doctor(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "init" {
		return runInit(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "schema" {
		return runSchema(args[1:], stdout, stderr)
	}
	check := len(args) > 0 && args[0] == "check"
	if check {
		args = args[1:]
	}
	fset := flag.NewFlagSet("devproxy", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(stderr, usage)
		fset.PrintDefaults()
	}
	config := fset.String("config", "devproxy.yaml", "the config `file`")
	listen := fset.String("listen", "", "the `address` to listen on; overrides the config's listen")
	showVersion := fset.Bool("version", false, "print the version and exit")
	logFormat := fset.String("log", "text", "log `format`: text (aligned, colored on a terminal) or json (one object per line)")
	verbose := fset.Bool("verbose", false, "log every frontend request, not only page loads and failures")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "devproxy: error: unexpected argument %q\ndevproxy: hint: run devproxy -h for usage\n", fset.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "devproxy", buildVersion())
		return 0
	}

	if *logFormat != "text" && *logFormat != "json" {
		fmt.Fprintf(stderr, "devproxy: error: unknown log format %q\ndevproxy: hint: write -log text or -log json\n", *logFormat)
		return 2
	}
	opts := devproxy.Options{ConfigFile: *config, Listen: *listen, Log: stdout, LogJSON: *logFormat == "json", Verbose: *verbose, Version: buildVersion()}
	srv, err := devproxy.New(opts)
	if err != nil {
		return configFailed(stderr, *config, err)
	}
	if check {
		fmt.Fprintf(stdout, "%s is valid\n", *config)
		devproxy.WriteRoutes(stdout, srv.Config())
		return 0
	}

	addr := srv.ListenAddr()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "devproxy: error: cannot listen on %s: %s\n", addr, listenReason(err))
		fmt.Fprintf(stderr, "devproxy: hint: stop the program that uses it, or pick another address with -listen\n")
		return 1
	}
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintf(stderr, "devproxy: error: %v\n", err)
		return 1
	}
	return 0
}

func configFailed(stderr io.Writer, file string, err error) int {
	var cerrs config.Errors
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stderr, "devproxy: error: no config file at %s\n", file)
		fmt.Fprintf(stderr, "devproxy: hint: create it, or name another with -config; a minimal one:\n\n%s", config.Example)
	case errors.As(err, &cerrs):
		fmt.Fprintln(stderr, cerrs.Error())
		fmt.Fprintf(stderr, "devproxy: error: %s is not valid (%d %s)\n", file, len(cerrs), plural(len(cerrs), "problem", "problems"))
	default:
		fmt.Fprintf(stderr, "devproxy: error: %v\n", err)
	}
	return 1
}

func listenReason(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "the port is already in use"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no interface of this machine has that address"
	case errors.Is(err, syscall.EACCES):
		return "permission denied (ports below 1024 need root)"
	}
	return err.Error()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
