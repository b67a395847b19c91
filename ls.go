package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/devproxy/devproxy/devproxy"
	"github.com/devproxy/devproxy/devproxy/config"
)

const lsUsage = `devproxy ls lists the names served on a listen address: those of the
devproxy listening there and of every devproxy that joined it.

Examples:
  devproxy ls                         the address of ./devproxy.yaml, else 127.0.0.1:8080
  devproxy ls -listen 127.0.0.1:3000

Usage:
  devproxy ls [flags]

Flags:
`

// runLs is devproxy ls.
func runLs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("devproxy ls", lsUsage, stderr)
	configFile := fset.String("config", "devproxy.yaml", "the config `file` whose listen address to list")
	listen := fset.String("listen", "", "the `address` to list; overrides the config's listen")
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	if fset.NArg() > 0 {
		return fail(stderr, exitUsage, fmt.Sprintf("unexpected argument %q", fset.Arg(0)), "run devproxy ls -h for usage")
	}
	addr := *listen
	if addr == "" {
		addr = config.DefaultListen
		if cfg, err := config.Load(*configFile, nil); err == nil {
			addr = cfg.Listen
		}
	} else if problem, fix := config.CheckListen(addr); problem != "" {
		return fail(stderr, exitUsage, "-listen "+problem, "write -listen "+fix)
	}
	sites, err := devproxy.List(ctx, "", addr)
	if errors.Is(err, devproxy.ErrNotShared) {
		return fail(stderr, exitFailure, "no devproxy is listening on "+addr, "start one there, or name another address with -listen")
	}
	if err != nil {
		return fail(stderr, exitFailure, err.Error())
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tPID\tCONFIG")
	for _, s := range sites {
		url := s.URL
		if url == "" {
			url = "-"
		}
		pid := fmt.Sprint(s.PID)
		if s.Host {
			pid += " (listening)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, url, pid, s.Config)
	}
	_ = tw.Flush()
	return exitOK
}
