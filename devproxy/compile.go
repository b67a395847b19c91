package devproxy

import (
	"fmt"
	"net/url"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/web"
)

// build builds the router of parsed, whose commands are those of plan
// (nil: the commands in use): each command's URL fills in the target the
// config left out.
func (s *Server) build(parsed *config.Config, plan *commandPlan) *router {
	next := s.cmds.current()
	if plan != nil {
		next = plan.next
	}
	rt := s.compile(withCommands(parsed, next), plan)
	rt.parsed = parsed
	return rt
}

// retarget rebuilds the router after a command turned out to listen on
// another URL than planned.
func (s *Server) retarget() {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	rt := s.build(s.router.Load().parsed, nil)
	s.router.Store(rt)
	s.transports.retain(rt.pools)
}

// compile builds the immutable router for cfg, whose commands are those of
// plan (nil: the commands in use).
func (s *Server) compile(cfg *config.Config, plan *commandPlan) *router {
	rt := &router{cfg: cfg, parsed: cfg, guards: newGuards(cfg, cfg.TrustedOrigins()), pools: map[*upstreamTransport]bool{}}
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
		if fb := f.FallbackAPI; fb != nil {
			api := newUpstream(upstreamOptions{name: kindFallback.String(), key: "frontend.fallback_api", target: fb,
				transport: pool(fb, false, config.DefaultTimeout), timeout: config.DefaultTimeout,
				buffers: s.buffers, streams: s.streams, hop: s.hop})
			rt.frontend.handler = &fallbackHandler{dev: u, api: api}
		}
	default:
		rt.frontend = &compiledFrontend{handler: newStaticHandler(f.Dir, f.SPA), kind: kindStatic, dest: f.Dir}
	}
	return rt
}
