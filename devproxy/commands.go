package devproxy

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/runner"
)

// frontendKey is the key of the frontend's command in a commandSet; the
// routes' commands are keyed by their path. A site's commands have the
// site's name before the key (commandKey).
const frontendKey = "/"

// commandKey is the key of the command of path (a route's, or
// frontendKey) of the site named site, "" for the top-level one.
func commandKey(site, path string) string { return site + path }

// siteField is the config key field as written in the site named site:
// under sites.NAME. for a named site, as is for the top level ("").
func siteField(site, field string) string {
	if site == "" {
		return field
	}
	return "sites." + site + "." + field
}

// splitCommandKey is the site and path of a key made by commandKey: a
// site's name holds no "/", a path starts with one.
func splitCommandKey(key string) (site, path string) {
	i := strings.IndexByte(key, '/')
	if i < 0 {
		return "", key
	}
	return key[:i], key[i:]
}

// commandSpec is what makes a command the same across a reload: a command
// whose spec is unchanged keeps running, any other is restarted.
type commandSpec struct {
	text string
	args []string // from the command line after --; text is then empty
	dir  string
	env  []string
	url  string // the url or target given in the config; "" lets runner pick
}

func (a commandSpec) equal(b commandSpec) bool {
	return a.text == b.text && slices.Equal(a.args, b.args) && a.dir == b.dir &&
		slices.Equal(a.env, b.env) && a.url == b.url
}

// supervised is one command devproxy runs for the frontend or a route.
type supervised struct {
	key   string // frontendKey or the route's path
	field string // the config key it comes from, for errors
	spec  commandSpec
	rc    *runner.Command
	// label prefixes its lines in the log: the dev server's name for the
	// frontend (vite, npm), the route's path for a route.
	label string
}

// commandSet holds the commands of the config being served.
type commandSet struct {
	log *logger
	// args is the command given after -- on the command line; it serves
	// the frontend in place of the config's. Nil when none was given.
	args []string

	mu      sync.Mutex
	byKey   map[string]*supervised
	serving bool
	// ctx ends when devproxy shuts down; the readiness waits use it.
	ctx context.Context
	// wg counts the readiness waits.
	wg sync.WaitGroup
	// moved, when not nil, is called when a command turns out to listen
	// on another URL than planned, to forward there.
	moved func()
}

func newCommandSet(log *logger, args []string) *commandSet {
	return &commandSet{log: log, args: args, byKey: map[string]*supervised{}, ctx: context.Background()}
}

// specs lists the commands cfg asks for, by key.
func (cs *commandSet) specs(cfg *config.Config) map[string]commandSpec {
	out := map[string]commandSpec{}
	add := func(key string, c *config.Command, u *url.URL) {
		sp := commandSpec{text: c.Text, dir: c.Dir, env: c.Env}
		if u != nil {
			sp.url = u.String()
		}
		out[key] = sp
	}
	site := func(name string, fe *config.Frontend, routes []config.Route) {
		for _, r := range routes {
			if r.Command != nil {
				add(commandKey(name, r.Path), r.Command, r.Target)
			}
		}
		if fe != nil && fe.Command != nil {
			add(commandKey(name, frontendKey), fe.Command, fe.URL)
		}
	}
	site("", cfg.Frontend, cfg.Routes)
	for _, st := range cfg.Sites {
		site(st.Name, st.Frontend, st.Routes)
	}
	if cs.args != nil {
		sp := commandSpec{args: cs.args}
		if f := cfg.Frontend; f != nil {
			if f.Command != nil {
				sp.dir, sp.env = f.Command.Dir, f.Command.Env
			}
			if f.URL != nil {
				sp.url = f.URL.String()
			}
		}
		out[frontendKey] = sp
	}
	return out
}

// commandPlan is the outcome of planning a config's commands: the set that
// serves it, the commands to start and those to stop once it is swapped in.
type commandPlan struct {
	next         map[string]*supervised
	fresh, stale []*supervised
}

// plan decides the commands of cfg without starting or stopping any: an
// unchanged command is kept, a new or changed one is planned afresh (its
// port picked).
func (cs *commandSet) plan(cfg *config.Config) (*commandPlan, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	p := &commandPlan{next: map[string]*supervised{}}
	for key, sp := range cs.specs(cfg) {
		if old, ok := cs.byKey[key]; ok && old.spec.equal(sp) {
			p.next[key] = old
			continue
		}
		sv, err := cs.newSupervised(key, sp)
		if err != nil {
			return nil, err
		}
		p.next[key] = sv
		p.fresh = append(p.fresh, sv)
	}
	for key, old := range cs.byKey {
		if p.next[key] != old {
			p.stale = append(p.stale, old)
		}
	}
	return p, nil
}

func (cs *commandSet) newSupervised(key string, sp commandSpec) (*supervised, error) {
	site, path := splitCommandKey(key)
	sv := &supervised{key: key, spec: sp, field: "routes." + path + ".command", label: key}
	name := key
	if path == frontendKey {
		sv.field, name = "frontend.command", ""
	}
	sv.field = siteField(site, sv.field)
	rc, err := runner.New(runner.Options{
		Name: name, Command: sp.text, Args: sp.args, Dir: sp.dir, Env: sp.env, URL: sp.url,
		Output: func(l runner.Line) { cs.log.commandLine(sv.label, sv.key, l) },
		Exited: func(e runner.Exit) { cs.exited(sv, e) },
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sv.field, err)
	}
	sv.rc = rc
	if path == frontendKey {
		sv.label = rc.Name()
		if server := rc.Plan().Server; server != "" {
			sv.label = server
		}
		if site != "" {
			// Two sites may well both run vite.
			sv.label = site + " " + sv.label
		}
	}
	return sv, nil
}

// commit makes p's commands the current ones: it stops the stale ones and,
// when devproxy serves, starts the fresh ones.
func (cs *commandSet) commit(p *commandPlan) {
	cs.mu.Lock()
	cs.byKey = p.next
	serving := cs.serving
	cs.mu.Unlock()
	if !serving {
		return
	}
	for _, sv := range p.stale {
		cs.wg.Add(1)
		go func() {
			defer cs.wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			_ = sv.rc.Stop(ctx)
		}()
	}
	for _, sv := range p.fresh {
		cs.start(sv)
	}
}

// stopTimeout bounds a stop: the runner's SIGINT, SIGTERM after 3 s and
// SIGKILL after 3 more leave no process well before it.
const stopTimeout = 10 * time.Second

// startAll starts every command; from now on a reload starts new ones.
func (cs *commandSet) startAll(ctx context.Context) {
	cs.mu.Lock()
	cs.serving, cs.ctx = true, ctx
	all := make([]*supervised, 0, len(cs.byKey))
	for _, sv := range cs.byKey {
		all = append(all, sv)
	}
	cs.mu.Unlock()
	slices.SortFunc(all, func(a, b *supervised) int { return strings.Compare(a.key, b.key) })
	for _, sv := range all {
		cs.start(sv)
	}
}

// start starts sv and reports when it answers, and where.
func (cs *commandSet) start(sv *supervised) {
	p := sv.rc.Plan()
	cs.log.info(fmt.Sprintf("%s │ starting %s (%s)", sv.label, commandText(p), describeSource(p.URL, p.Source)))
	if err := sv.rc.Start(); err != nil {
		cs.log.fail(fmt.Sprintf("%s │ cannot start %s: %v", sv.label, commandText(p), err), "hint: check "+sv.field+" in the config")
		return
	}
	cs.mu.Lock()
	ctx := cs.ctx
	cs.mu.Unlock()
	cs.wg.Add(1)
	go func() {
		defer cs.wg.Done()
		began := time.Now()
		if err := sv.rc.WaitReady(ctx); err != nil {
			return // an exit is reported by exited; a shutdown needs no line
		}
		st := sv.rc.Status()
		cs.log.info(fmt.Sprintf("%s │ ready at %s (%s) after %s", sv.label, st.URL, describeSource(st.URL, st.Source),
			formatDuration(time.Since(began))))
		if st.Source == runner.URLAnnounced && cs.moved != nil {
			// The command listens elsewhere than planned (a dev server
			// that took another port): forward there.
			cs.moved()
		}
	}()
}

// describeSource says how a command's URL was found, as the banner and
// the ready line show it.
func describeSource(u string, src runner.URLSource) string {
	switch src {
	case runner.URLGiven:
		return "url given in the config"
	case runner.URLPortEnv:
		return "port passed as PORT"
	case runner.URLPortFlag:
		return "port passed as PORT and as a flag"
	case runner.URLAnnounced:
		return "announced by the command"
	}
	return u
}

// commandText is the command line a plan runs, for people.
func commandText(p runner.Plan) string {
	argv := p.Argv
	if p.Shell && len(argv) > 0 {
		argv = argv[len(argv)-1:]
	}
	if len(argv) > 0 {
		argv = append([]string{filepath.Base(argv[0])}, argv[1:]...)
	}
	return sanitize(strings.Join(argv, " "))
}

// exited reports a run that ended other than by devproxy's request.
func (cs *commandSet) exited(sv *supervised, e runner.Exit) {
	if e.Stopped {
		return
	}
	cs.log.fail(fmt.Sprintf("%s │ %s %s; its route answers 502 until it is fixed (save the config to restart it)",
		sv.label, commandText(sv.rc.Plan()), e), lastLines(e.Lines, exitLines))
}

// exitLines is how many of a command's last lines its exit report, its
// 502 and its waiting page show.
const exitLines = 10

// lastLines returns the last n of lines as text without escapes, one per
// line, made safe for a terminal.
func lastLines(lines []runner.Line, n int) string {
	return strings.Join(lastTexts(lines, n), "\n")
}

func lastTexts(lines []runner.Line, n int) []string {
	lines = lines[max(0, len(lines)-n):]
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, sanitize(runner.StripANSI(l.Text)))
	}
	return out
}

// lookup returns the command serving key in the set of p, or of the set
// in use when p is nil.
func (cs *commandSet) lookup(p *commandPlan, key string) *supervised {
	if p != nil {
		return p.next[key]
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.byKey[key]
}

// restartAll restarts every command, each on its own port again.
func (cs *commandSet) restartAll(ctx context.Context) error {
	cs.mu.Lock()
	all := make([]*supervised, 0, len(cs.byKey))
	for _, sv := range cs.byKey {
		all = append(all, sv)
	}
	serving := cs.serving
	cs.mu.Unlock()
	if !serving {
		return nil
	}
	var errs []error
	for _, sv := range all {
		cs.log.info(sv.label + " │ restarting")
		if err := sv.rc.Restart(ctx); err != nil {
			errs = append(errs, fmt.Errorf("restart %s: %w", sv.label, err))
			continue
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// stopAll stops every command and waits until no process of theirs is
// left, or ctx ends.
func (cs *commandSet) stopAll(ctx context.Context) {
	cs.mu.Lock()
	cs.serving = false
	all := make([]*supervised, 0, len(cs.byKey))
	for _, sv := range cs.byKey {
		all = append(all, sv)
	}
	cs.mu.Unlock()
	var wg sync.WaitGroup
	for _, sv := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			running := sv.rc.Status().State != runner.Exited && sv.rc.Status().State != runner.Idle
			if err := sv.rc.Stop(ctx); err != nil {
				cs.log.fail(fmt.Sprintf("%s │ not stopped: %v", sv.label, err), "")
			} else if running {
				cs.log.info(fmt.Sprintf("%s │ stopped after %s", sv.label, formatDuration(time.Since(began))))
			}
		}()
	}
	wg.Wait()
	cs.wg.Wait()
}

// withCommands returns cfg with the URL of each command that was given
// none filled in from its plan, so that the router, the banner and the
// status endpoint see a target for every route. cfg itself is not changed.
func withCommands(cfg *config.Config, next map[string]*supervised) *config.Config {
	if len(next) == 0 {
		return cfg
	}
	c := *cfg
	c.Frontend, c.Routes = siteCommands(next, "", cfg.Frontend, cfg.Routes)
	if cfg.Sites != nil {
		c.Sites = slices.Clone(cfg.Sites)
		for i := range c.Sites {
			st := &c.Sites[i]
			st.Frontend, st.Routes = siteCommands(next, st.Name, st.Frontend, st.Routes)
		}
	}
	return &c
}

// siteCommands is withCommands for the frontend and routes of the site
// named site ("" for the top-level ones): copies, with the commands' URLs.
func siteCommands(next map[string]*supervised, site string, fe *config.Frontend, routes []config.Route) (*config.Frontend, []config.Route) {
	routes = slices.Clone(routes)
	for i := range routes {
		r := &routes[i]
		if sv := next[commandKey(site, r.Path)]; sv != nil && r.Target == nil {
			r.Target = planURL(sv)
		}
	}
	if sv := next[commandKey(site, frontendKey)]; sv != nil {
		var f config.Frontend
		if fe != nil {
			f = *fe
		}
		if f.URL == nil || f.Dir != "" {
			f.URL, f.Dir = planURL(sv), ""
		}
		if f.Command == nil || sv.spec.args != nil {
			// The command after -- replaces the config's frontend.
			f.Command = &config.Command{Text: strings.Join(sv.spec.args, " "), Dir: sv.spec.dir, Env: sv.spec.env}
		}
		fe = &f
	}
	return fe, routes
}

// planURL is where sv listens: the URL it announced when that differs
// from the planned one, else the planned one.
func planURL(sv *supervised) *url.URL {
	s := sv.rc.Plan().URL
	if st := sv.rc.Status(); st.Source == runner.URLAnnounced {
		s = st.URL
	}
	u, err := url.Parse(s)
	if err != nil {
		// runner builds the URLs it plans, and parses the ones it reads.
		panic(fmt.Sprintf("devproxy: command %s URL %q: %v", sv.key, s, err))
	}
	return u
}

// current returns the commands in use, by key.
func (cs *commandSet) current() map[string]*supervised {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return maps.Clone(cs.byKey)
}
