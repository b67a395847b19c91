package devproxy

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/devproxy/devproxy/internal/probe"
	"github.com/devproxy/devproxy/internal/web"
)

// probeTimeout bounds the check of each upstream at start-up, on a
// reload and on the r key: a local server that is up answers a HEAD in a
// few milliseconds.
const probeTimeout = probe.DefaultTimeout

// probeKey names what a probe of row checks: the target's scheme, host
// and port, so that the routes of one server are probed once.
func probeKey(row routeRow) string {
	return row.target.Scheme + "://" + hostPort(row.target)
}

// probeTargets asks every upstream of rows for an HTTP answer and returns,
// by probeKey, why it gave none (nil when it is up).
func (s *Server) probeTargets(ctx context.Context, rows []routeRow) map[string]error {
	d := loopbackDialer{&net.Dialer{}}
	res := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, r := range rows {
		if r.target == nil {
			continue
		}
		key := probeKey(r)
		mu.Lock()
		_, seen := res[key]
		res[key] = nil
		mu.Unlock()
		if seen {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if s.connectProbe {
				var c net.Conn
				if c, err = d.DialContext(ctx, "tcp", hostPort(r.target)); err == nil {
					c.Close()
				}
			} else {
				err = probe.Probe(ctx, probe.Target{URL: r.target, Insecure: r.insecure, Timeout: probeTimeout, Dial: d.DialContext})
			}
			mu.Lock()
			res[key] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return res
}

// probeReason says in a few words why the upstream target is down.
func probeReason(target *url.URL, err error) string {
	u := &upstream{target: target, hostport: hostPort(target), frontend: true}
	return u.classify(err, probeTimeout.String()).Err
}

// exposed returns the network addresses a listen address is reachable on
// from other machines, or nil when it is loopback only.
func exposed(listen string) []string {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		var addrs []string
		ifaddrs, _ := net.InterfaceAddrs()
		for _, a := range ifaddrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() {
				addrs = append(addrs, ipn.IP.String())
			}
		}
		if len(addrs) == 0 {
			addrs = []string{"every interface"}
		}
		return addrs
	}
	if web.IsLoopback(strings.ToLower(host)) {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return []string{host}
}

// Restart probes every target of the current config again and logs a line
// for each, up or down with the reason, then restarts the dev commands
// devproxy runs (RestartCommands). The r key calls it.
func (s *Server) Restart(ctx context.Context) {
	rows := allRouteRows(s.Config())
	probes := s.probeTargets(ctx, rows)
	said := map[string]bool{}
	for _, r := range rows {
		if r.target == nil || said[probeKey(r)] {
			continue
		}
		said[probeKey(r)] = true
		if err := probes[probeKey(r)]; err != nil {
			s.log.warn(r.target.String() + " is down: " + probeReason(r.target, err))
		} else {
			s.log.info(r.target.String() + " is up")
		}
	}
	if err := s.RestartCommands(ctx); err != nil {
		s.log.fail("cannot restart the commands: "+err.Error(), "")
	}
}

// OpenURL returns the URL to open devproxy at in a browser: that of its
// name when the frontend has one (shop.localhost), else that of the
// address it listens on now, or of the configured one before Serve, with
// https when devproxy serves it.
func (s *Server) OpenURL() string {
	if name := s.router.Load().name; name != "" {
		return s.siteURL(name)
	}
	return s.url(s.listenNow())
}
