package devproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/localca"
	"github.com/fsnotify/fsnotify"
)

// settle is how long the watcher waits after the last event of a burst
// before it reloads: editors write a file in several steps (truncate,
// chunks, rename, chmod) that should make one reload.
const settle = 30 * time.Millisecond

// watch applies every saved change of the config file until ctx is done.
// It watches the file's folder, not the file: editors that save by
// renaming a temporary file over it would otherwise lose the watch. For a
// config that is a symlink, the folder of its target is watched too.
func (s *Server) watch(ctx context.Context) {
	defer s.watchOnce.Do(func() { close(s.watching) })
	w, err := fsnotify.NewWatcher()
	if err != nil {
		s.log.warn(fmt.Sprintf("cannot watch %s for changes (%v); restart devproxy to apply edits", s.opts.ConfigFile, err))
		return
	}
	defer w.Close()
	abs, err := filepath.Abs(s.opts.ConfigFile)
	if err != nil {
		abs = s.opts.ConfigFile
	}
	names := map[string]bool{}  // the config file and the file it links to
	wanted := map[string]bool{} // their folders
	watched := map[string]bool{}
	// lost holds wanted folders that are not watched because they were
	// deleted (or never existed); the log says when they are watched again.
	lost := map[string]bool{}
	warned := map[string]bool{}
	// track (re)computes what to watch: the config's folder, and the
	// folder of the file it links to. A folder that is gone (deleted with
	// everything in it, as a branch switch or a regenerated checkout may
	// do) is waited for by watching the nearest folder above it that
	// exists, and watched again when it is back.
	track := func() {
		clear(names)
		clear(wanted)
		paths := []string{abs}
		if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
			paths = append(paths, real)
		}
		for _, p := range paths {
			names[p] = true
			wanted[filepath.Dir(p)] = true
		}
		// The watcher drops the watch of a folder that was deleted.
		live := map[string]bool{}
		for _, d := range w.WatchList() {
			live[d] = true
		}
		for d := range watched {
			if !live[d] {
				delete(watched, d)
				if wanted[d] {
					lost[d] = true
				}
			}
		}
		need := map[string]bool{}
		for dir := range wanted {
			if watched[dir] {
				need[dir] = true
				continue
			}
			err := w.Add(dir)
			switch {
			case err == nil:
				watched[dir], need[dir] = true, true
				delete(warned, dir)
				if lost[dir] {
					delete(lost, dir)
					s.log.info("watching " + dir + " again")
				}
			case errors.Is(err, fs.ErrNotExist):
				lost[dir] = true
				for a := filepath.Dir(dir); ; a = filepath.Dir(a) {
					if watched[a] || w.Add(a) == nil {
						watched[a], need[a] = true, true
						break
					}
					if filepath.Dir(a) == a {
						break
					}
				}
			case !warned[dir]:
				warned[dir] = true
				s.log.warn(fmt.Sprintf("cannot watch %s for changes (%v); restart devproxy to apply edits", dir, err))
			}
		}
		for d := range watched {
			if !need[d] {
				_ = w.Remove(d)
				delete(watched, d)
			}
		}
	}
	// relevant reports whether an event may concern the config: the file,
	// a watched folder, or a folder on the way to a wanted one.
	relevant := func(name string) bool {
		if names[name] || watched[name] {
			return true
		}
		for dir := range wanted {
			if dir == name || strings.HasPrefix(dir, name+string(filepath.Separator)) {
				return true
			}
		}
		return false
	}
	track()
	s.watchOnce.Do(func() { close(s.watching) })

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if relevant(ev.Name) {
				timer.Reset(settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			// An overflowed event queue may have hidden a save: reload to
			// be sure.
			s.log.warn(fmt.Sprintf("watching %s: %v", s.opts.ConfigFile, err))
			timer.Reset(settle)
		case <-timer.C:
			s.safeReload(ctx, track)
		}
	}
}

// safeReload reloads; a panic costs only this reload, which is logged with
// its stack, and the watcher goes on.
func (s *Server) safeReload(ctx context.Context, track func()) {
	defer func() {
		if v := recover(); v != nil {
			s.log.fail(fmt.Sprintf("panic while reloading %s: %v; kept previous config", s.opts.ConfigFile, v), string(debug.Stack()))
			s.setReload(fmt.Errorf("internal error while reloading: %v", v))
		}
	}()
	track()
	s.reloadFile(ctx)
}

// Reload reads the config file again and applies it if it changed and is
// valid; otherwise the current config keeps serving. It returns the
// reason a changed file was not applied, nil when it was applied or had
// not changed.
func (s *Server) Reload(ctx context.Context) error {
	return s.reloadFile(ctx)
}

func (s *Server) reloadFile(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	data, err := os.ReadFile(s.opts.ConfigFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !s.deleted {
			s.deleted = true
			s.log.warn(s.opts.ConfigFile + " was deleted; the last good config keeps serving until it is back")
			s.setReload(fmt.Errorf("%s was deleted; serving the last good config", s.opts.ConfigFile))
		}
		return nil
	case err != nil:
		s.log.fail(fmt.Sprintf("cannot read %s: %v; kept previous config", s.opts.ConfigFile, err), "")
		s.setReload(err)
		return err
	}
	wasDeleted := s.deleted
	s.deleted = false
	if bytes.Equal(data, s.lastData) {
		if wasDeleted {
			s.log.info(s.opts.ConfigFile + " is back, unchanged")
			s.setReload(nil)
		}
		return nil // touch, chmod, or a save of the bytes being served
	}
	// Only the bytes of an applied config are skipped: a refused one may
	// become valid unchanged, when the file or folder it names appears.
	err = s.apply(ctx, data)
	if err == nil {
		s.lastData = data
	}
	s.setReload(err)
	if s.opts.OnReload != nil {
		s.opts.OnReload(err)
	}
	return err
}

// errEmptyConfig is the reload error of a file with nothing in it: an
// editor caught half way through a save, most likely.
var errEmptyConfig = errors.New("the file is empty")

// apply parses, validates and compiles data completely, then swaps it in
// with one atomic store; on any error the running config stays.
func (s *Server) apply(ctx context.Context, data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		// A valid config has at least a key; an empty file is a save in
		// progress or a mistake, never a request to drop every route.
		err := fmt.Errorf("%s: %w", s.opts.ConfigFile, errEmptyConfig)
		s.log.fail(fmt.Sprintf("config error: %v; kept previous config", err), "")
		return err
	}
	cfg, err := config.ParseFor(s.opts.ConfigFile, data, s.opts.LookupEnv, s.listening())
	if err != nil {
		s.log.configError("config error, kept previous config", err)
		return err
	}
	old := s.router.Load()
	// New certificates are made before anything is swapped: a tls pair
	// that cannot be served keeps the running config, as a parse error
	// does.
	wasHTTPS := s.https.Load() != nil
	certs, switchHTTPS, err := s.nextCerts(old.cfg, cfg)
	if err != nil {
		hint := ""
		if cerr := (*localca.Error)(nil); errors.As(err, &cerr) {
			hint = "hint: " + cerr.Hint
		}
		s.log.fail("config error, kept previous config: https: "+err.Error(), hint)
		return err
	}
	plan, err := s.cmds.plan(cfg)
	if err != nil {
		s.log.fail("config error, kept previous config:", err.Error())
		return err
	}
	rt := s.build(cfg, plan)
	cfg = rt.cfg
	changes := describeChanges(old.cfg, cfg)
	if switchHTTPS {
		// The listener made below, for a listen change or a switch on
		// the same socket, serves with these.
		s.https.Store(certs)
		if (certs != nil) != wasHTTPS {
			s.tellScheme()
		}
	}
	relistened := false
	switch {
	case s.opts.Listen == "" && cfg.Listen != old.cfg.Listen && s.serves(ctx, cfg.Listen):
		// Back to the address devproxy listens on, after a change that
		// could not be applied, or another name of it: binding it again
		// would fail on devproxy's own listener.
		changes = append(changes, "listen "+cfg.Listen+", already served")
	case s.opts.Listen == "" && cfg.Listen != old.cfg.Listen:
		if err := s.relisten(ctx, cfg.Listen); err != nil {
			// The rest of the config applies; the address stays, and the
			// config says so, so that saving the same address again
			// tries again.
			changes = append(changes, fmt.Sprintf("listen %s not applied: %v", cfg.Listen, err))
			cfg.Listen = old.cfg.Listen
			rt.parsed.Listen = old.cfg.Listen
		} else {
			relistened = true
			changes = append(changes, "listen "+old.cfg.Listen+" → "+cfg.Listen+", now "+s.url(cfg.Listen))
		}
	case cfg.Listen != old.cfg.Listen:
		changes = append(changes, "listen change to "+cfg.Listen+" ignored: -listen "+s.opts.Listen+" wins")
	}
	if switchHTTPS {
		if !relistened {
			s.serveAnew(ctx)
		}
		changes = append(changes, describeHTTPS(wasHTTPS, old.cfg, cfg, certs, s.url(s.listenNow())))
	} else if old.cfg.HTTPS && !cfg.HTTPS && s.opts.HTTPS {
		changes = append(changes, "https: false ignored: -https wins")
	}
	if h := s.https.Load(); h != nil && h.issuer != nil {
		h.issuer.SetHosts(cfg.AllowedHosts)
	}
	s.router.Store(rt)
	s.cmds.commit(plan)
	s.transports.retain(rt.pools)
	s.updateNames()
	changes = append(changes, s.probeNew(ctx, old.cfg, cfg)...)
	if len(changes) == 0 {
		s.log.info("config reloaded: nothing changed")
	} else {
		s.log.info("config reloaded: " + strings.Join(changes, "; "))
	}
	if switchHTTPS {
		if note := s.bannerTrust(ctx); note != "" {
			s.log.warn(note)
		}
	}
	for _, w := range cfg.Warnings {
		s.log.warn(w.Error())
	}
	return nil
}

// nextCerts returns the certificates cfg serves with, and whether they
// replace those served now: https switched on or off (by the config; the
// -https flag keeps it on), or another tls pair or none instead of one.
// Certificates nil and switch true mean plain http from now on.
func (s *Server) nextCerts(old, cfg *config.Config) (*httpsCerts, bool, error) {
	cur := s.https.Load()
	want := cfg.HTTPS || s.opts.HTTPS
	switch {
	case !want && cur == nil, want && cur != nil && sameTLS(old.TLS, cfg.TLS):
		return cur, false, nil
	case !want:
		return nil, true, nil
	}
	h, err := openCerts(cfg, s.opts.CADir, s.opts.Now)
	if err != nil {
		return nil, false, err
	}
	return h, true, nil
}

// sameTLS reports whether two tls blocks name the same files.
func sameTLS(a, b *config.TLSFiles) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Cert == b.Cert && a.Key == b.Key
}

// describeHTTPS says what a switch of https or tls changed and where
// devproxy answers now.
func describeHTTPS(wasOn bool, old, cfg *config.Config, h *httpsCerts, now string) string {
	switch {
	case h == nil:
		return "https off, now " + now
	case wasOn:
		return "tls " + tlsName(old) + " → " + tlsName(cfg) + ", new connections get it"
	default:
		return "https on with " + tlsName(cfg) + ", now " + now + " (http:// requests get a redirect)"
	}
}

// tlsName names the certificate cfg serves: the tls block's file, or the
// local CA.
func tlsName(cfg *config.Config) string {
	if cfg.TLS == nil {
		return "the local CA"
	}
	if rel, err := filepath.Rel(cfg.Dir, cfg.TLS.Cert); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return cfg.TLS.Cert
}

func (s *Server) setReload(err error) {
	st := &reloadStatus{OK: err == nil, At: s.opts.Now().Format(time.RFC3339)}
	if err != nil {
		st.Error = err.Error()
	}
	s.reload.Store(st)
}

// describeChanges says what a reload changed, in the words of the config.
func describeChanges(old, cfg *config.Config) []string {
	changes := siteChanges(old, cfg)
	if !reflect.DeepEqual(old.AllowedHosts, cfg.AllowedHosts) {
		changes = append(changes, "allowed_hosts changed")
	}
	if !reflect.DeepEqual(old.AllowedOrigins, cfg.AllowedOrigins) {
		changes = append(changes, "allowed_origins changed")
	}
	switch o, n := old.Inspect, cfg.Inspect; {
	case o.Off && !n.Off:
		changes = append(changes, "inspect on")
	case !o.Off && n.Off:
		changes = append(changes, "inspect off")
	}
	if o, n := inspectRequests(old), inspectRequests(cfg); o != n {
		changes = append(changes, fmt.Sprintf("inspect keeps %d requests (was %d)", n, o))
	}
	had := map[string]*config.Site{}
	for i := range old.Sites {
		had[old.Sites[i].Name] = &old.Sites[i]
	}
	for i := range cfg.Sites {
		st := &cfg.Sites[i]
		o := had[st.Name]
		delete(had, st.Name)
		if o == nil {
			changes = append(changes, "added site "+st.Name)
			continue
		}
		for _, c := range siteChanges(old.ForSite(o), cfg.ForSite(st)) {
			changes = append(changes, st.Name+": "+c)
		}
	}
	for i := range old.Sites {
		if had[old.Sites[i].Name] != nil {
			changes = append(changes, "removed site "+old.Sites[i].Name)
		}
	}
	return changes
}

// siteChanges says how the routes and frontend of cfg differ from old's.
func siteChanges(old, cfg *config.Config) []string {
	var changes []string
	before := map[string]config.Route{}
	for _, r := range old.Routes {
		before[r.Path] = r
	}
	seen := map[string]bool{}
	for _, r := range cfg.Routes {
		seen[r.Path] = true
		o, ok := before[r.Path]
		switch {
		case !ok:
			changes = append(changes, "added "+r.Path+" → "+routeDest(&r))
		case !sameRoute(o, r):
			if routeDest(&o) != routeDest(&r) {
				changes = append(changes, "changed "+r.Path+": "+routeDest(&o)+" → "+routeDest(&r))
			} else if a, b := optionWords(&o), optionWords(&r); a != b {
				changes = append(changes, "changed "+r.Path+" options: "+orNone(a)+" → "+orNone(b))
			} else {
				changes = append(changes, "changed "+r.Path+" options")
			}
		}
	}
	for _, r := range old.Routes {
		if !seen[r.Path] {
			changes = append(changes, "removed "+r.Path)
		}
	}
	if of, nf := frontendString(old.Frontend), frontendString(cfg.Frontend); of != nf {
		changes = append(changes, "frontend "+orNone(of)+" → "+orNone(nf))
	} else if of != "" && old.Frontend.SPA != cfg.Frontend.SPA {
		changes = append(changes, fmt.Sprintf("frontend spa: %t → %t", old.Frontend.SPA, cfg.Frontend.SPA))
	}
	if of, nf := fallbackString(old.Frontend), fallbackString(cfg.Frontend); of != nf {
		changes = append(changes, "frontend.fallback_api "+orNone(of)+" → "+orNone(nf))
	}
	return changes
}

// fallbackString is the frontend's fallback_api, "" when there is none.
func fallbackString(f *config.Frontend) string {
	if f == nil || f.FallbackAPI == nil {
		return ""
	}
	return f.FallbackAPI.String()
}

// probeNew probes the targets cfg names and old did not (a route added or
// pointed elsewhere, a new frontend) and says of each whether it is up: a
// half-written save that applied http://loc should say so at once.
func (s *Server) probeNew(ctx context.Context, old, cfg *config.Config) []string {
	had := map[string]bool{}
	for _, r := range allRouteRows(old) {
		if r.target != nil {
			had[probeKey(r)] = true
		}
	}
	var rows []routeRow
	for _, r := range allRouteRows(cfg) {
		if r.target != nil && !had[probeKey(r)] {
			had[probeKey(r)] = true
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	probes := s.probeTargets(ctx, rows)
	var out []string
	for _, r := range rows {
		if err := probes[probeKey(r)]; err != nil {
			out = append(out, r.target.String()+" down: "+probeReason(r.target, err))
		} else {
			out = append(out, r.target.String()+" up")
		}
	}
	return out
}

func sameRoute(a, b config.Route) bool {
	a.Line, b.Line = 0, 0
	return reflect.DeepEqual(a, b)
}

// optionWords are the banner's options of r without their parentheses:
// "strip_prefix, injects latency 20ms".
func optionWords(r *config.Route) string {
	return strings.TrimSuffix(strings.TrimPrefix(routeOptions(r), " ("), ")")
}

func routeDest(r *config.Route) string {
	switch {
	case r.Respond != nil:
		return kindMock.String()
	case r.Target == nil && r.Replay != nil:
		return replayVia
	}
	return r.Target.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
