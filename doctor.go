package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/devproxy/devproxy/devproxy"
	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/doctor"
)

const doctorUsage = `devproxy doctor tells, without a browser, whether a page on one origin may
call a URL with fetch, and if not, exactly why and how to fix it. With no URL
it checks the config instead: every route's target and the frontend answer,
and nothing else listens on devproxy's port.

Examples:
  devproxy doctor http://localhost:5000/api/users --origin http://localhost:3000
  devproxy doctor https://staging.example.com/api/me --origin http://localhost:5173 \
      --credentials --header Authorization --method PUT --content-type application/json
  devproxy doctor http://localhost:5000/api/users --json
  devproxy doctor                   check ./devproxy.yaml's targets and port
  devproxy doctor -listen 127.0.0.1:3000
                                    the same, for a devproxy started with -listen

Usage:
  devproxy doctor [URL] [flags]

Exit codes: 0 allowed (or the config is fine), 1 blocked (or a problem), 2 usage.

Flags:
`

// runDoctor is devproxy doctor: with a URL, the CORS verdict on a call to
// it; without, the config check.
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("devproxy doctor", doctorUsage, stderr)
	var headers headerList
	origin := fset.String("origin", "", "the `origin` of the page that calls URL; default: the origin devproxy serves")
	method := fset.String("method", "GET", "the request `method`")
	fset.Var(&headers, "header", "a custom request header `name` the page sends, e.g. Authorization (repeatable)")
	contentType := fset.String("content-type", "", "the Content-Type the page sends, e.g. application/json")
	credentials := fset.Bool("credentials", false, "the page uses fetch's credentials: 'include' (cookies)")
	send := fset.Bool("send", false, "send the request itself even when its method is not GET or HEAD")
	asJSON := fset.Bool("json", false, "print the verdict as JSON")
	configFile := fset.String("config", "devproxy.yaml", "the config `file`, for the default origin and the config check")
	listen := fset.String("listen", "", "the `address` devproxy listens on (its -listen); default: the config's listen")

	// Flags may come before and after the URL.
	var urls []string
	for {
		if code, ok := parseFlags(fset, args); !ok {
			return code
		}
		if fset.NArg() == 0 {
			break
		}
		urls = append(urls, fset.Arg(0))
		args = fset.Args()[1:]
	}
	if *listen != "" {
		if problem, fix := config.CheckListen(*listen); problem != "" {
			return fail(stderr, exitUsage, "-listen "+problem, "write -listen "+fix)
		}
	}
	switch {
	case len(urls) > 1:
		return fail(stderr, exitUsage, fmt.Sprintf("unexpected argument %q", urls[1]), "devproxy doctor checks one URL at a time")
	case len(urls) == 0:
		return doctorConfig(ctx, *configFile, *listen, stdout, stderr)
	}

	if *origin == "" {
		addr := config.DefaultListen
		if cfg, err := config.Load(*configFile, nil); err == nil {
			addr = cfg.Listen
		}
		if *listen != "" {
			addr = *listen
		}
		*origin = devproxy.URL(addr)
	}
	v, err := doctor.Diagnose(ctx, doctor.Check{
		URL:         urls[0],
		Origin:      *origin,
		Method:      *method,
		Headers:     headers,
		ContentType: *contentType,
		Credentials: *credentials,
		Send:        *send,
	})
	if err != nil {
		return fail(stderr, exitUsage, err.Error(), "run devproxy doctor -h for examples")
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
	} else {
		doctor.WriteVerdict(stdout, v)
	}
	if !v.Allowed() {
		return exitFailure
	}
	return exitOK
}

// doctorConfig is devproxy doctor without a URL: it prints a line for each
// finding of the config check. listen, when not empty, is the address
// devproxy was started with (-listen), which wins over the config's.
func doctorConfig(ctx context.Context, file, listen string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(file, nil)
	if err != nil {
		return configFailed(stderr, file, err,
			"give a URL to check CORS (devproxy doctor URL --origin ORIGIN), or name a config with -config")
	}
	if listen != "" {
		cfg.Listen = listen
	}
	fmt.Fprintf(stdout, "checking %s\n", file)
	problems := 0
	for _, f := range doctor.CheckConfig(ctx, cfg) {
		mark := "ok     "
		if !f.OK {
			mark = "problem"
			problems++
		}
		fmt.Fprintf(stdout, "  %s %s: %s\n", mark, f.What, f.Detail)
		if f.Hint != "" {
			fmt.Fprintf(stdout, "          hint: %s\n", f.Hint)
		}
	}
	if problems > 0 {
		return fail(stderr, exitFailure, fmt.Sprintf("%d %s", problems, plural(problems, "problem", "problems")))
	}
	return exitOK
}

// headerList collects repeated --header flags.
type headerList []string

func (h *headerList) String() string { return strings.Join(*h, ", ") }

func (h *headerList) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		// "Authorization: Bearer x" names Authorization.
		name, _, _ := strings.Cut(strings.TrimSpace(part), ":")
		if name = strings.TrimSpace(name); name != "" {
			*h = append(*h, name)
		}
	}
	return nil
}
