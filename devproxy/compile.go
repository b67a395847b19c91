package devproxy

import (
	"fmt"
	"net/url"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/web"
)

// compile builds the immutable router for cfg, whose commands are those of
// plan (nil: the commands in use).
func (s *Server) compile(cfg *config.Config, plan *commandPlan) *router {
	rt := &router{cfg: cfg, guards: newGuards(cfg, cfg.TrustedOrigins()), pools: map[*upstreamTransport]bool{}}
	pool := func(target *url.URL, insecure bool, timeout time.Duration) *upstreamTransport {
		t := s.transports.get(target, insecure, timeout)
		rt.pools[t] = true
		return t
	}
	for i := range cfg.Routes {
		r := &cfg.Routes[i]
		cr := &compiledRoute{Route: r}
		if r.Respond != nil {
			cr.handler, cr.kind, cr.dest = &mockHandler{name: r.Path, r: r.Respond}, kindMock, kindMock.String()
		} else {
			u := newUpstream(upstreamOptions{name: r.Path, route: r, target: r.Target, cmd: s.cmds.lookup(plan, r.Path),
				transport: pool(r.Target, r.Insecure, r.Timeout), timeout: r.Timeout,
				buffers: s.buffers, streams: s.streams, hop: s.hop})
			cr.handler, cr.kind, cr.dest = u, kindProxy, u.hostport
		}
		if r.CORS != nil {
			cr.handler = newCORSHandler(r.CORS, r.Path, cfg.File, cr.handler, func(format string, args ...any) { s.log.warn(fmt.Sprintf(format, args...)) })
		}
		rt.routes = append(rt.routes, cr)
	}
	sortRoutes(rt.routes)
	switch f := cfg.Frontend; {
	case f == nil:
	case f.URL != nil:
		// A dev server on this machine may well use a self-signed
		// certificate (Vite's basic-ssl plugin); it is trusted as the
		// browser would be told to.
		insecure := web.IsLoopback(f.URL.Hostname())
		u := newUpstream(upstreamOptions{name: kindFrontend.String(), frontend: true, target: f.URL, cmd: s.cmds.lookup(plan, frontendKey),
			transport: pool(f.URL, insecure, config.DefaultTimeout), timeout: config.DefaultTimeout,
			buffers: s.buffers, streams: s.streams, hop: s.hop})
		rt.frontend = &compiledFrontend{handler: u, kind: kindFrontend, dest: u.hostport}
	default:
		rt.frontend = &compiledFrontend{handler: newStaticHandler(f.Dir, f.SPA), kind: kindStatic, dest: f.Dir}
	}
	return rt
}
