// Command devproxy is a local development proxy: one origin for your
// frontend and every API it calls, so the browser never sees a CORS error.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/devproxy/devproxy/internal/procs"
)

const usage = `devproxy serves your frontend and your APIs on one origin, so the browser
never makes a cross-origin request.

Examples:
  devproxy -- npm run dev           start your dev server and serve it, open http://localhost:8080
  devproxy                          serve with ./devproxy.yaml, open http://localhost:8080
  devproxy -config dev.yaml         serve with another config file
  devproxy -listen 127.0.0.1:3000   serve on another address
  devproxy -https                   serve https://localhost:8080 with HTTP/2 (run devproxy trust once)
  devproxy -name shop -- npm run dev  serve it as http://shop.localhost:8080 too
  devproxy -verbose                 also log every frontend asset request
  devproxy -log json > log.jsonl    log one JSON object per line, for tools
  devproxy -inspect=false           serve without capturing requests for the inspector
  devproxy check                    validate the config and print its routes
  devproxy init                     write a devproxy.yaml from this project's dev server proxy
  devproxy doctor URL --origin http://localhost:3000
                                    explain why the browser blocks a cross-origin call
  devproxy trust                    install devproxy's local CA for browsers and tools
  sudo devproxy hosts               add the site names to /etc/hosts (for Safari and tools)
  devproxy ls                       list the names served on the listen address, every project's

Usage:
  devproxy [flags] [-- COMMAND [ARGS…]]
  devproxy check [flags]
  devproxy doctor [URL] [flags]
  devproxy trust [-uninstall]
  devproxy hosts [-remove] [-file FILE]
  devproxy ls [-listen ADDR]
  devproxy init [DIR] [flags]
  devproxy schema

Flags:
`

func main() {
	started := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	// One P while the load is light, all of them when it is not
	// (internal/procs); off when GOMAXPROCS is set.
	go procs.New(os.Getenv).Run(ctx)
	// A heap goal of 32 MiB or more while the live heap is small, instead
	// of collections five times a second during page loads
	// (internal/procs); off when GOGC or GOMEMLIMIT is set.
	go procs.NewHeapFloor(os.Getenv).Run(ctx)
	os.Exit(run(ctx, env{started: started, stdin: os.Stdin}, os.Args[1:], os.Stdout, os.Stderr))
}

// env is what run takes from the process besides its arguments and
// output.
type env struct {
	// started is when the process started, for the banner's "ready in";
	// zero means when the config was loaded.
	started time.Time
	// stdin is where single-key commands come from when it is a terminal;
	// nil means none.
	stdin io.Reader
}

// run runs the command that args (without the program name) name and
// returns its exit code.
func run(ctx context.Context, e env, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return runServe(ctx, e, args[1:], stdout, stderr, checkOnly)
		case "doctor":
			return runDoctor(ctx, args[1:], stdout, stderr)
		case "trust":
			return runTrust(ctx, args[1:], stdout, stderr)
		case "init":
			return runInit(ctx, args[1:], stdout, stderr)
		case "schema":
			return runSchema(args[1:], stdout, stderr)
		case "hosts":
			return runHosts(args[1:], stdout, stderr)
		case "ls":
			return runLs(ctx, args[1:], stdout, stderr)
		}
	}
	return runServe(ctx, e, args, stdout, stderr, serveToo)
}
