package devproxy

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/devproxy/devproxy/internal/web"
)

// probeTimeout bounds the startup check of each upstream: a local server
// that is up accepts at once.
const probeTimeout = 300 * time.Millisecond

// probe connects once to every upstream of rows and returns, by target
// host, why it could not (nil when it is up).
func probe(ctx context.Context, rows []routeRow) map[string]error {
	d := loopbackDialer{&net.Dialer{Timeout: probeTimeout}}
	res := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, r := range rows {
		if r.target == nil {
			continue
		}
		hp := hostPort(r.target)
		mu.Lock()
		_, seen := res[hp]
		res[hp] = nil
		mu.Unlock()
		if seen {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			c, err := d.DialContext(pctx, "tcp", hp)
			if err == nil {
				c.Close()
			}
			mu.Lock()
			res[hp] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return res
}

// probeReason says in a few words why the upstream target is down.
func probeReason(target *url.URL, err error) string {
	u := &upstream{target: target, hostport: hostPort(target), frontend: true}
	return u.classify(err, "").Err
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
