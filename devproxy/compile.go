package devproxy

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/inspect"
	"github.com/devproxy/devproxy/internal/gitname"
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
	rt.name = s.topName(parsed)
	return rt
}

// resolveName checks Options.Name against cfg and finds the name of the
// config's git checkout when no name is given.
func (s *Server) resolveName(cfg *config.Config) error {
	host, err := flagName(s.opts.Name, cfg)
	if err != nil {
		return err
	}
	s.name = host
	if host == "" {
		s.gitName = gitName(cfg.Dir)
	}
	return nil
}

// flagName is the host name of the -name flag's value, checked against
// cfg's sites; "" for an empty flag.
func flagName(flag string, cfg *config.Config) (string, error) {
	if flag == "" {
		return "", nil
	}
	host, problem, _ := config.CheckName(flag)
	if problem != "" {
		return "", fmt.Errorf("-name %s", problem)
	}
	for _, st := range cfg.Sites {
		if st.Name == host {
			return "", fmt.Errorf("-name %s: %s is also a site in %s, on line %d; choose another name", flag, host, cfg.File, st.Line)
		}
	}
	return host, nil
}

// gitName is the host name of the git checkout dir is in, "" outside one.
func gitName(dir string) string {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	if n, err := gitname.Name(ctx, dir); err == nil && n != "" {
		return n + ".localhost"
	}
	return ""
}

// gitTimeout bounds the git commands that name a checkout; a repository
// on a slow disk is served under localhost only rather than late.
const gitTimeout = 2 * time.Second

// topName is the name the top-level frontend and routes of cfg are
// served as besides localhost.
func (s *Server) topName(cfg *config.Config) string {
	if s.leaving.Load() {
		return ""
	}
	return topName(cfg, s.name, s.gitName, s.cmds.args != nil)
}

// topName is the name the top-level frontend and routes of cfg are served
// as besides localhost: flag's (the -name flag's host name), the config's,
// or git's (the checkout's) when the top level serves anything (command:
// a command after --) and no site has that name; "" for none.
func topName(cfg *config.Config, flag, git string, command bool) string {
	switch {
	case flag != "":
		return flag
	case cfg.Name != "":
		return cfg.Name
	case git == "" || cfg.Frontend == nil && len(cfg.Routes) == 0 && !command:
		return ""
	}
	for _, st := range cfg.Sites {
		if st.Name == git {
			return ""
		}
	}
	return git
}

// Names returns the host names cfg is served as, for devproxy hosts:
// the top-level name (as Server gives it with Options.Name set to flag;
// command says a command after -- is the frontend) and the exact names
// of the sites. wildcards are the sites' *.name patterns, which no hosts
// file can list.
func Names(cfg *config.Config, flag string, command bool) (names, wildcards []string, err error) {
	host, err := flagName(flag, cfg)
	if err != nil {
		return nil, nil, err
	}
	git := ""
	if host == "" {
		git = gitName(cfg.Dir)
	}
	if top := topName(cfg, host, git, command); top != "" {
		names = append(names, top)
	}
	for _, st := range cfg.Sites {
		if st.Wildcard() {
			wildcards = append(wildcards, st.Name)
		} else {
			names = append(names, st.Name)
		}
	}
	return names, wildcards, nil
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
	if s.leaving.Load() {
		// A host that stopped serves its guests only.
		cfg = &config.Config{File: cfg.File, Dir: cfg.Dir, Listen: cfg.Listen, AllowedHosts: cfg.AllowedHosts, Log: cfg.Log}
	}
	rt := &router{cfg: cfg, parsed: cfg, guards: newGuards(cfg, cfg.TrustedOrigins()), pools: map[*upstreamTransport]bool{}}
	if !cfg.Inspect.Off && !s.opts.NoInspect {
		rt.capture = s.capture
	}
	// The store outlives routers, so that a reload keeps what it holds;
	// only its size follows the config.
	s.capture.SetMaxExchanges(cfg.Inspect.Requests)
	rt.routes, rt.frontend = s.compileSite(rt, cfg, "", plan)
	if len(cfg.Sites) > 0 {
		rt.guards.named = true
		sites := make([]*site, 0, len(cfg.Sites))
		for i := range cfg.Sites {
			view := cfg.ForSite(&cfg.Sites[i])
			st := &site{name: cfg.Sites[i].Name, cfg: view, guards: newGuards(view, view.TrustedOrigins())}
			st.guards.named = true
			st.routes, st.frontend = s.compileSite(rt, view, st.name, plan)
			sites = append(sites, st)
		}
		rt.sites = newSiteSet(sites)
	}
	if guests, ever := s.guests.snapshot(); ever {
		var sites []*site
		if rt.sites != nil {
			sites = rt.sites.all
		}
		rt.guards.named = true
		for _, g := range guests {
			for _, name := range g.names {
				sites = append(sites, s.guestSite(rt, g, name))
			}
		}
		rt.sites = newSiteSet(sites)
	}
	return rt
}

// guestSite is the site of one name of a guest: everything is forwarded
// to the guest with its Host, devproxy's own paths too, and the guest's
// guards decide.
func (s *Server) guestSite(rt *router, g *guest, name string) *site {
	// No timeout of the host's: the guest's routes have their own.
	t := s.transports.get(g.target, false, 0)
	rt.pools[t] = true
	u := newUpstream(upstreamOptions{name: name, route: &config.Route{PreserveHost: true}, target: g.target,
		transport: t, buffers: s.buffers, streams: s.streams, hop: s.hop})
	view := &config.Config{File: g.config, Listen: rt.cfg.Listen}
	gd := newGuards(view, nil)
	gd.delegate = true
	return &site{name: name, cfg: view, guest: true, guards: gd,
		frontend: &compiledFrontend{handler: u, kind: kindProxy, dest: u.hostport,
			where: inspect.Where{Kind: inspect.KindRoute, Route: name, Target: g.target.String()}}}
}

// compileSite builds the handlers of cfg's routes and frontend, those of
// the site named name ("" for the top-level ones), recording their pools
// in rt.
func (s *Server) compileSite(rt *router, cfg *config.Config, name string, plan *commandPlan) ([]*compiledRoute, *compiledFrontend) {
	pool := func(target *url.URL, insecure bool, timeout time.Duration) *upstreamTransport {
		t := s.transports.get(target, insecure, timeout)
		rt.pools[t] = true
		return t
	}
	var routes []*compiledRoute
	for i := range cfg.Routes {
		r := &cfg.Routes[i]
		cr := &compiledRoute{Route: r}
		switch {
		case r.Respond != nil:
			cr.handler, cr.kind, cr.dest = &mockHandler{name: r.Path, r: r.Respond}, kindMock, kindMock.String()
			cr.where = inspect.Where{Kind: inspect.KindMock, Route: r.Path}
		case r.Target == nil:
			// replay with no target: the recordings answer every request.
			cr.handler, cr.kind, cr.dest = s.replayOf(cfg, r), kindProxy, replayVia
			cr.where = inspect.Where{Kind: inspect.KindRoute, Route: r.Path}
		default:
			u := newUpstream(upstreamOptions{name: r.Path, site: name, route: r, target: r.Target, cmd: s.cmds.lookup(plan, commandKey(name, r.Path)),
				transport: pool(r.Target, r.Insecure, r.Timeout), timeout: r.Timeout,
				buffers: s.buffers, streams: s.streams, hop: s.hop})
			cr.handler, cr.kind, cr.dest = s.offline(cfg, r, u, pool), kindProxy, u.hostport
			cr.where = inspect.Where{Kind: inspect.KindRoute, Route: r.Path, Target: r.Target.String()}
		}
		if r.Inject.Active() {
			cr.handler = newInjectHandler(cr.handler, r.Path, r.Inject, s.random, s.opts.Now)
		}
		if r.CORS != nil {
			cr.handler = newCORSHandler(r.CORS, r.Path, cfg.File, cr.handler, func(format string, args ...any) { s.log.warn(fmt.Sprintf(format, args...)) })
		}
		routes = append(routes, cr)
	}
	sortRoutes(routes)
	switch f := cfg.Frontend; {
	case f == nil:
	case f.URL != nil:
		// A dev server on this machine may well use a self-signed
		// certificate (Vite's basic-ssl plugin); it is trusted as the
		// browser would be told to.
		insecure := web.IsLoopback(f.URL.Hostname())
		u := newUpstream(upstreamOptions{name: kindFrontend.String(), site: name, frontend: true, target: f.URL, cmd: s.cmds.lookup(plan, commandKey(name, frontendKey)),
			transport: pool(f.URL, insecure, config.DefaultTimeout), timeout: config.DefaultTimeout,
			buffers: s.buffers, streams: s.streams, hop: s.hop})
		fe := &compiledFrontend{handler: u, kind: kindFrontend, dest: u.hostport,
			where: inspect.Where{Kind: inspect.KindFrontend, Target: f.URL.String()}}
		if fb := f.FallbackAPI; fb != nil {
			api := newUpstream(upstreamOptions{name: kindFallback.String(), key: siteField(name, "frontend.fallback_api"), target: fb,
				transport: pool(fb, false, config.DefaultTimeout), timeout: config.DefaultTimeout,
				buffers: s.buffers, streams: s.streams, hop: s.hop})
			fe.handler = &fallbackHandler{dev: u, api: api}
			fe.fallback = &inspect.Where{Kind: inspect.KindRoute, Route: kindFallback.String(), Target: fb.String()}
		}
		return routes, fe
	default:
		return routes, &compiledFrontend{handler: newStaticHandler(f.Dir, f.SPA), kind: kindStatic, dest: f.Dir,
			where: inspect.Where{Kind: inspect.KindStatic}}
	}
	return routes, nil
}

// offline wraps u, the upstream of route r, in what the route's record,
// replay and fallback keys ask for: the fallback and replay: auto answer
// in turn while the target refuses connections, record writes what the
// target or its fallback answered, and a replay folder answers instead
// of u.
func (s *Server) offline(cfg *config.Config, r *config.Route, u *upstream, pool func(*url.URL, bool, time.Duration) *upstreamTransport) handler {
	last := u
	if r.Fallback != nil {
		fb := newUpstream(upstreamOptions{name: r.Path, route: r, target: r.Fallback, key: siteField(u.site, "routes."+r.Path+".fallback"),
			transport: pool(r.Fallback, r.Insecure, r.Timeout), timeout: r.Timeout,
			buffers: s.buffers, streams: s.streams, hop: s.hop})
		u.down, last = fb, fb
	}
	var h handler = u
	if rp := r.Replay; rp != nil {
		if !rp.Auto {
			return s.replayOf(cfg, r)
		}
		last.down = s.replayOf(cfg, r)
	}
	if rec := r.Record; rec != nil {
		h = &recordHandler{next: h, dir: rec.Dir, prefix: r.Path, secrets: rec.Secrets, from: r.Target.String(),
			now: s.opts.Now, warn: func(msg string) { s.log.warn(msg) }}
	}
	return h
}

// replayOf is the replay handler of route r.
func (s *Server) replayOf(cfg *config.Config, r *config.Route) *replayHandler {
	h := &replayHandler{dir: r.Replay.Dir, prefix: r.Path, show: func(p string) string { return relativeTo(cfg.Dir, p) }}
	if r.Record != nil {
		h.record = r.Record.Dir
	}
	return h
}

// relativeTo writes path relative to dir when it is inside it, as the
// config would name it.
func relativeTo(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return "./" + filepath.ToSlash(rel)
}
