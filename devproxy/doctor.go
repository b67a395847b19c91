package devproxy

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
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

Usage:
  devproxy doctor [URL] [flags]

Exit codes: 0 allowed (or the config is fine), 1 blocked (or a problem), 2 usage.

Flags:
`

// Doctor runs devproxy doctor with args (those after "doctor") and returns
// its exit code: 0 when the request is allowed or the config checks out, 1
// when it is blocked or a check fails, 2 for a usage error.
func Doctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("devproxy doctor", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(stderr, doctorUsage)
		fset.PrintDefaults()
	}
	var headers headerList
	origin := fset.String("origin", "", "the `origin` of the page that calls URL; default: the origin devproxy serves")
	method := fset.String("method", "GET", "the request `method`")
	fset.Var(&headers, "header", "a custom request header `name` the page sends, e.g. Authorization (repeatable)")
	contentType := fset.String("content-type", "", "the Content-Type the page sends, e.g. application/json")
	credentials := fset.Bool("credentials", false, "the page uses fetch's credentials: 'include' (cookies)")
	send := fset.Bool("send", false, "send the request itself even when its method is not GET or HEAD")
	asJSON := fset.Bool("json", false, "print the verdict as JSON")
	configFile := fset.String("config", "devproxy.yaml", "the config `file`, for the default origin and the config check")

	// Flags may come before and after the URL.
	var rest []string
	for {
		if err := fset.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fset.NArg() == 0 {
			break
		}
		rest = append(rest, fset.Arg(0))
		args = fset.Args()[1:]
	}
	if len(rest) > 1 {
		fmt.Fprintf(stderr, "devproxy: error: unexpected argument %q\ndevproxy: hint: devproxy doctor checks one URL at a time\n", rest[1])
		return 2
	}
	if len(rest) == 0 {
		return doctorConfig(ctx, *configFile, stdout, stderr)
	}

	if *origin == "" {
		listen := config.DefaultListen
		if cfg, err := config.Load(*configFile, nil); err == nil {
			listen = cfg.Listen
		}
		*origin = URL(listen)
	}
	v, err := Diagnose(ctx, Check{
		URL:         rest[0],
		Origin:      *origin,
		Method:      *method,
		Headers:     headers,
		ContentType: *contentType,
		Credentials: *credentials,
		Send:        *send,
	})
	if err != nil {
		fmt.Fprintf(stderr, "devproxy: error: %v\ndevproxy: hint: run devproxy doctor -h for examples\n", err)
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
	} else {
		WriteVerdict(stdout, v)
	}
	if !v.Allowed() {
		return 1
	}
	return 0
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

// WriteVerdict writes v for people: what was sent and seen, the verdict
// with the browser's wording, why, and the fixes.
func WriteVerdict(w io.Writer, v *Verdict) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s from origin %s\n", v.Method, v.URL, v.Origin)
	writeExchange := func(label string, ex *Exchange) {
		if ex == nil {
			return
		}
		if ex.Error != "" {
			fmt.Fprintf(&b, "  %-10s %s → %s\n", label, ex.Method, ex.Error)
			return
		}
		fmt.Fprintf(&b, "  %-10s %s → %d %s\n", label, ex.Method, ex.Status, http.StatusText(ex.Status))
		names := make([]string, 0, len(ex.Headers))
		for name := range ex.Headers {
			names = append(names, name)
		}
		sort.Strings(names)
		if len(names) == 0 {
			fmt.Fprintf(&b, "  %-10s (no CORS headers)\n", "")
		}
		for _, name := range names {
			for _, val := range ex.Headers[name] {
				fmt.Fprintf(&b, "  %-10s %s: %s\n", "", name, sanitize(val))
			}
		}
	}
	writeExchange("preflight", v.Preflight)
	writeExchange("request", v.Request)
	fmt.Fprintf(&b, "%s: %s\n", v.Verdict, v.Reason)
	if v.Mistake != "" {
		fmt.Fprintf(&b, "  why:  %s\n", v.Mistake)
	}
	if v.Want != "" {
		fmt.Fprintf(&b, "  send: %s\n", v.Want)
	}
	for _, n := range v.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if len(v.Fixes) > 0 {
		b.WriteString("fix it in:\n")
		for _, f := range v.Fixes {
			fmt.Fprintf(&b, "  %s\n", f.Where)
			for line := range strings.SplitSeq(f.Text, "\n") {
				fmt.Fprintf(&b, "    %s\n", line)
			}
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// doctorConfig checks that each route's target and the frontend answer and
// that devproxy's port is free.
func doctorConfig(ctx context.Context, file string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(file, nil)
	if err != nil {
		var cerrs config.Errors
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(stderr, "devproxy: error: no config file at %s\n", file)
			fmt.Fprintf(stderr, "devproxy: hint: give a URL to check CORS (devproxy doctor URL --origin ORIGIN), or name a config with -config\n")
		case errors.As(err, &cerrs):
			fmt.Fprintln(stderr, cerrs.Error())
			fmt.Fprintf(stderr, "devproxy: error: %s is not valid\n", file)
		default:
			fmt.Fprintf(stderr, "devproxy: error: %v\n", err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "checking %s\n", file)
	problems := 0
	report := func(ok bool, what, detail, hint string) {
		mark := "ok     "
		if !ok {
			mark = "problem"
			problems++
		}
		fmt.Fprintf(stdout, "  %s %s: %s\n", mark, what, detail)
		if !ok && hint != "" {
			fmt.Fprintf(stdout, "          hint: %s\n", hint)
		}
	}
	for _, r := range cfg.Routes {
		what := "route " + r.Path
		if r.Target == nil {
			report(true, what, "a mock, answered by devproxy itself", "")
			continue
		}
		ok, detail := probeTarget(ctx, hostPort(r.Target))
		report(ok, what, r.Target.String()+" "+detail, "start it, or fix routes."+r.Path+".target in "+file)
	}
	switch f := cfg.Frontend; {
	case f == nil:
		report(true, "frontend", "none: / lists the routes", "")
	case f.URL != nil:
		ok, detail := probeTarget(ctx, hostPort(f.URL))
		report(ok, "frontend", f.URL.String()+" "+detail, "start the dev server (npm run dev), or fix frontend in "+file)
	default:
		_, err := os.Stat(filepath.Join(f.Dir, "index.html"))
		report(err == nil, "frontend", "folder "+f.Dir+map[bool]string{true: " has index.html", false: " has no index.html"}[err == nil],
			"build the frontend into it, or fix frontend in "+file)
	}
	ok, detail, hint := probeListen(ctx, cfg.Listen)
	report(ok, "listen", detail, hint)
	if problems > 0 {
		fmt.Fprintf(stderr, "devproxy: error: %d %s\n", problems, plural(problems, "problem", "problems"))
		return 1
	}
	return 0
}

// probeTarget dials every address of hostport and says which answer, with
// IPv4 and IPv6 named: a server on localhost may listen on only one of
// them. ok is true when any answers, as devproxy then reaches it.
func probeTarget(ctx context.Context, hostport string) (ok bool, detail string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return false, err.Error()
	}
	var addrs []string
	switch {
	case strings.EqualFold(host, "localhost"):
		addrs = []string{"127.0.0.1", "::1"}
	case net.ParseIP(host) != nil:
		addrs = []string{host}
	default:
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ips, err := net.DefaultResolver.LookupIPAddr(lctx, host)
		cancel()
		if err != nil {
			return false, fmt.Sprintf("cannot resolve host %q", host)
		}
		for _, ip := range ips {
			addrs = append(addrs, ip.IP.String())
		}
	}
	var answers, fails []string
	for _, a := range addrs {
		family := "IPv4"
		if strings.Contains(a, ":") {
			family = "IPv6"
		}
		addr := net.JoinHostPort(a, port)
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			c.Close()
			answers = append(answers, fmt.Sprintf("%s (%s)", addr, family))
			continue
		}
		why := "no answer"
		if errors.Is(err, syscall.ECONNREFUSED) {
			why = "refused"
		}
		fails = append(fails, fmt.Sprintf("%s (%s) %s", addr, family, why))
	}
	switch {
	case len(answers) == 0:
		return false, "does not answer: " + strings.Join(fails, ", ")
	case len(fails) == 0:
		return true, "answers on " + strings.Join(answers, " and ")
	}
	return true, "answers on " + strings.Join(answers, " and ") + "; " + strings.Join(fails, ", ")
}

// probeListen reports whether devproxy could listen on addr, and what
// holds it when not.
func probeListen(ctx context.Context, addr string) (ok bool, detail, hint string) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		return true, addr + " is free", ""
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return false, "cannot listen on " + addr + ": " + err.Error(), "pick another address with listen: or -listen"
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+addr+config.ReservedPrefix+"/status", nil)
	if err == nil {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			var st statusJSON
			derr := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&st)
			res.Body.Close()
			if derr == nil && res.StatusCode == http.StatusOK && st.Version != "" {
				return true, "devproxy " + st.Version + " already runs on " + addr, ""
			}
		}
	}
	return false, "something else listens on " + addr + ", so devproxy cannot start there",
		"stop that program, or pick another address with listen: or -listen"
}
