package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/neterr"
	"github.com/devproxy/devproxy/internal/probe"
	"github.com/devproxy/devproxy/internal/status"
	"github.com/devproxy/devproxy/internal/web"
)

// Finding is one result of CheckConfig.
type Finding struct {
	// What is checked: "route /api", "frontend" or "listen".
	What string `json:"what"`
	// OK is true when the check passed.
	OK bool `json:"ok"`
	// Detail says what was found, e.g. "http://localhost:5000 answers on
	// 127.0.0.1:5000 (IPv4)".
	Detail string `json:"detail"`
	// Hint says what to try; empty when OK.
	Hint string `json:"hint,omitempty"`
}

// CheckConfig checks that each of cfg's route targets and its frontend
// answer and that devproxy could listen on cfg's address, in that order.
func CheckConfig(ctx context.Context, cfg *config.Config) []Finding {
	var out []Finding
	add := func(ok bool, what, detail, hint string) {
		if ok {
			hint = ""
		}
		out = append(out, Finding{What: what, OK: ok, Detail: detail, Hint: hint})
	}
	file := cfg.File
	for _, r := range cfg.Routes {
		what := "route " + r.Path
		if r.Target == nil {
			add(true, what, "a mock, answered by devproxy itself", "")
			continue
		}
		ok, detail := probeTarget(ctx, r.Target, r.Insecure)
		add(ok, what, r.Target.String()+" "+detail, "start it, or fix routes."+r.Path+".target in "+file)
	}
	switch f := cfg.Frontend; {
	case f == nil:
		add(true, "frontend", "none: / lists the routes", "")
	case f.URL != nil:
		ok, detail := probeTarget(ctx, f.URL, false)
		add(ok, "frontend", f.URL.String()+" "+detail, "start the dev server (npm run dev), or fix frontend in "+file)
	default:
		_, err := os.Stat(filepath.Join(f.Dir, "index.html"))
		detail := "folder " + f.Dir + " has index.html"
		if err != nil {
			detail = "folder " + f.Dir + " has no index.html"
		}
		add(err == nil, "frontend", detail, "build the frontend into it, or fix frontend in "+file)
	}
	ok, detail, hint := probeListen(ctx, cfg.Listen)
	add(ok, "listen", detail, hint)
	return out
}

// doctorProbeTimeout bounds the probe of each address: doctor is run by
// hand, so a slow server gets longer than at start-up.
const doctorProbeTimeout = 2 * time.Second

// probeTarget asks every address of target for an HTTP answer (after a TLS
// handshake for https, as devproxy's probe does) and says which answer,
// with IPv4 and IPv6 named: a server on localhost may listen on only one
// of them. ok is true when any answers, as devproxy then reaches it.
func probeTarget(ctx context.Context, target *url.URL, insecure bool) (ok bool, detail string) {
	host, port, err := net.SplitHostPort(web.HostPort(target))
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
			return false, neterr.Classify(err).Phrase
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
		err := probe.Probe(ctx, probe.Target{URL: target, Addr: addr, Insecure: insecure, Timeout: doctorProbeTimeout})
		if err == nil {
			answers = append(answers, fmt.Sprintf("%s (%s)", addr, family))
			continue
		}
		why := neterr.Classify(err)
		switch why.Kind {
		case neterr.Refused:
			why.Phrase = "refused"
		case neterr.Timeout, neterr.DialTimeout:
			why.Phrase = "no answer within " + doctorProbeTimeout.String()
		}
		fails = append(fails, fmt.Sprintf("%s (%s) %s", addr, family, why.Phrase))
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
	if r := neterr.Classify(err); r.Kind != neterr.AddrInUse {
		return false, "cannot listen on " + addr + ": " + r.Phrase, "pick another address with listen: or -listen"
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// why says what the status request found, so that a devproxy too
	// slow to answer is not taken silently for another program.
	why := "it is not devproxy"
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+addr+status.Path, nil)
	if err == nil {
		var res *http.Response
		res, err = http.DefaultClient.Do(req)
		if err == nil {
			var st status.Status
			derr := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&st)
			res.Body.Close()
			if derr == nil && res.StatusCode == http.StatusOK && st.Version != "" {
				return true, "devproxy " + st.Version + " already runs on " + addr, ""
			}
		}
	}
	if err != nil {
		why = "it did not answer devproxy's status request: " + neterr.Classify(err).Phrase
	}
	return false, "something else listens on " + addr + ", so devproxy cannot start there (" + why + ")",
		"stop that program, or pick another address with listen: or -listen"
}
