package devproxy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/inspect"
	"github.com/muesli/termenv"
)

// Options configure a Server. The zero value of each field has the meaning
// its comment gives.
type Options struct {
	// ConfigFile is the path of the config file; "devproxy.yaml" when empty.
	ConfigFile string
	// Listen overrides the config's listen address when not empty (the
	// -listen flag).
	Listen string
	// Log receives the request log and devproxy's messages; nil discards
	// them.
	Log io.Writer
	// LookupEnv resolves ${VAR} in the config; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnReload, when not nil, is called after each reload of a changed
	// config file with nil when it was applied or the reason it was not.
	OnReload func(error)
	// LogJSON writes the log as one JSON object per line. Default false:
	// aligned text lines.
	LogJSON bool
	// Verbose logs every frontend request. Default false: successful
	// frontend asset requests are left out, page loads and failures are
	// logged.
	Verbose bool
	// Color says when the text log is colored. Default ColorAuto.
	Color ColorMode
	// Width is the width log lines are fitted to; 0 means the width of
	// the terminal Log is, as it is now (followed on SIGWINCH), or no
	// fitting when Log is not a terminal.
	Width int
	// HTTPS serves https even when the config does not say so (the
	// -https flag). Default false: the config's https decides.
	HTTPS bool
	// CADir is the folder of the local CA that certifies https; empty
	// means localca.DefaultDir() (devproxy under the user's config
	// folder).
	CADir string
	// Home is the home folder whose browser trust stores the banner
	// checks for the local CA; empty means $HOME.
	Home string
	// Version is the version the banner and the status endpoint show;
	// "devel" when empty. main passes what -version prints.
	Version string
	// Command is the frontend's dev server, program and arguments (the
	// words after --): it replaces the config's frontend, and without a
	// config file it is the whole config. Nil runs only the config's
	// commands.
	Command []string
	// Started is when the banner's "ready in" counts from; zero means
	// when New was called. main passes the process's start.
	Started time.Time
	// BannerNote is a line the text banner ends with, such as main's
	// "press h to show the keys"; empty means none.
	BannerNote string
	// Random returns a number in [0, 1) for the failures devproxy
	// injects: a latency within its range, whether a request fails. It
	// may be called from several goroutines at once. Nil means
	// math/rand/v2's Float64; tests give a seeded source.
	Random func() float64
	// NoInspect turns the inspector's capture off whatever the config
	// says (-inspect=false). Default false: the config's inspect decides.
	NoInspect bool
	// ShareDir is the folder of the sockets through which devproxies on
	// one listen address share it; empty means ShareDir().
	ShareDir string
	// Name is the name the frontend and routes are served as besides
	// localhost (the -name flag): "shop" serves them as shop.localhost.
	// It wins over the config's name. Empty means the config's name, else
	// in a git checkout the one gitname gives the config's folder.
	Name string
}

// Server is a running devproxy: it serves requests with the current router
// and swaps in a new one when the config changes.
type Server struct {
	opts       Options
	log        *logger
	transports *transports
	buffers    *bufferPool
	streams    *streams
	router     atomic.Pointer[router]
	reload     atomic.Pointer[reloadStatus]
	listen     atomic.Pointer[string]

	// reloadMu serialises reloads; it guards lastData and deleted.
	reloadMu sync.Mutex
	lastData []byte // the bytes of the config file last applied
	deleted  bool   // the config file is gone; the last good config serves

	// mu guards the listeners.
	mu       sync.Mutex
	current  *listener   // the listener on the configured address
	draining []*listener // listeners replaced by a listen change
	errc     chan error  // the current listener's fatal error
	drains   sync.WaitGroup

	// readHeaderTimeout bounds the time a client may take to send its
	// request headers (slowloris); 10 s, shorter in tests.
	readHeaderTimeout time.Duration
	// headerLimit is the most bytes of request line and headers a
	// request may carry (defaultHeaderLimit); smaller in tests.
	headerLimit int

	// connectProbe makes probes a TCP connection only, with no request:
	// for tests whose upstreams count or block on every request they
	// get. false in production.
	connectProbe bool

	// hop names this server in the X-Devproxy-Hop header it adds to every
	// upstream request, to recognise its own requests coming back.
	hop string

	// widthOf reads the width of the terminal the log goes to, again on
	// each resize; nil when the log is no terminal or Options.Width fixes
	// the width.
	widthOf func() int
	// cmds are the commands devproxy runs for the frontend and routes.
	cmds *commandSet

	// https holds the certificates of https connections; nil when
	// devproxy serves plain http. A reload that switches https or the
	// tls block replaces it, and the listener with it.
	https atomic.Pointer[httpsCerts]

	// random is Options.Random, or math/rand/v2's Float64.
	random func() float64

	// name is the host name of Options.Name, "" when it is empty;
	// gitName is the one of the config's git checkout, "" outside one
	// or when Options.Name is given.
	name, gitName string

	// guests are the devproxies registered with this one, which serves
	// their names (share.go); guest is this one's registration with
	// another, nil unless Join made it one.
	guests guestSet
	guest  *guestLink
	// leaving is set when a host stops while guests are registered: its
	// own frontend, routes and sites are gone, theirs stay.
	leaving atomic.Bool

	// watching is closed once the config file is watched (or cannot be).
	watching  chan struct{}
	watchOnce sync.Once

	// capture keeps the exchanges the inspector shows, across reloads;
	// a router that captures points at it. inspector serves the page
	// and API under ReservedPrefix; stopInspector ends its event streams
	// at shutdown.
	capture       *inspect.Store
	inspector     http.Handler
	stopInspector context.CancelFunc
}

// New loads the config named by opts and returns a Server ready to Serve.
// A config error is returned as ConfigErrors.
func New(opts Options) (*Server, error) {
	if opts.ConfigFile == "" {
		opts.ConfigFile = "devproxy.yaml"
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Version == "" {
		opts.Version = "devel"
	}
	if opts.Started.IsZero() {
		opts.Started = opts.Now()
	}
	color, width := terminal(opts.Log, opts.Color, opts.LookupEnv)
	var widthOf func() int
	if opts.Width != 0 {
		width = opts.Width
	} else {
		widthOf = termWidth(opts.Log)
	}
	var p *paints
	if color {
		r := lipgloss.NewRenderer(opts.Log)
		r.SetColorProfile(termenv.ANSI)
		p = compileStyles(DefaultStyles(r))
	}
	s := &Server{
		log:        newLogger(opts.Log, p, opts.LogJSON, opts.Verbose, width, opts.Now),
		opts:       opts,
		transports: newTransports(),
		buffers:    newBufferPool(),
		streams:    newStreams(),
		watching:   make(chan struct{}),
		hop:        rand.Text()[:16],
		widthOf:    widthOf,
		random:     opts.Random,

		readHeaderTimeout: 10 * time.Second,
		headerLimit:       defaultHeaderLimit,

		capture: inspect.New(inspect.Options{Now: opts.Now}),
	}
	if s.random == nil {
		s.random = mathrand.Float64
	}
	ictx, stop := context.WithCancel(context.Background())
	s.stopInspector = stop
	// A replay is served by the server itself: routed by the config of
	// the moment, and captured as a new entry.
	s.inspector = inspect.NewHandler(ictx, s.capture, inspect.HandlerOptions{Prefix: config.ReservedPrefix, Replay: s, Version: opts.Version})
	s.cmds = newCommandSet(s.log, opts.Command)
	s.cmds.moved = s.retarget
	cfg, data, err := config.LoadFor(opts.ConfigFile, opts.LookupEnv, s.listening())
	if errors.Is(err, fs.ErrNotExist) && opts.Command != nil {
		// devproxy -- npm run dev needs no file: the command is the
		// frontend, on the default address.
		cfg, err = config.ParseFor(opts.ConfigFile, nil, opts.LookupEnv, s.listening())
	}
	if err != nil {
		return nil, err
	}
	plan, err := s.cmds.plan(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.resolveName(cfg); err != nil {
		return nil, err
	}
	if cfg.HTTPS || opts.HTTPS {
		h, err := openCerts(cfg, opts.CADir, opts.Now)
		if err != nil {
			return nil, err
		}
		s.https.Store(h)
	}
	// A save of exactly these bytes changes nothing (reloadFile).
	s.lastData = data
	s.router.Store(s.build(cfg, plan))
	s.cmds.commit(plan)
	s.reload.Store(&reloadStatus{OK: true, At: opts.Now().Format(time.RFC3339)})
	return s, nil
}

// listening returns the addresses devproxy listens on or is told to
// listen on besides the config's: the -listen override and the address of
// the current listener.
func (s *Server) listening() []string {
	var addrs []string
	if s.opts.Listen != "" {
		addrs = append(addrs, s.opts.Listen)
	}
	if a := s.listen.Load(); a != nil {
		addrs = append(addrs, *a)
	}
	return addrs
}

// RestartCommands restarts every command devproxy runs for the frontend
// and the routes, each on the port it had: the terminal's r key.
func (s *Server) RestartCommands(ctx context.Context) error {
	return s.cmds.restartAll(ctx)
}

// Config returns the config the server currently serves.
func (s *Server) Config() *config.Config { return s.router.Load().cfg }

// ListenAddr is the address to listen on: the -listen override, else the
// config's.
func (s *Server) ListenAddr() string {
	if s.opts.Listen != "" {
		return s.opts.Listen
	}
	return s.Config().Listen
}

// ServeHTTP serves one request with the router current when it arrives.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.guest != nil {
		r = s.guest.public(r)
	}
	if s.cameBack(r) {
		s.sendBack(w)
		return
	}
	rt := s.router.Load()
	rec := &recorder{ResponseWriter: w, streams: s.streams, log: s.log}
	o := &rec.e.outcome
	e := &rec.e
	e.start, e.method, e.uri = s.opts.Now(), r.Method, r.RequestURI
	e.navigation = r.Method == http.MethodGet && wantsHTML(r)
	e.fetch = !e.navigation && isFetch(r)
	e.showAll = rt.cfg.Log.FrontendAll
	if r.ProtoMajor == 2 {
		e.proto = "h2"
	}
	defer s.finish(rec, r)

	d := rt.dispatch(r)
	e.kind, e.route, e.dest = d.kind, d.route, d.dest
	if !d.own && !d.uncaptured {
		// devproxy's own endpoints, the inspector above all, are never
		// captured: the page would fill its own list.
		where := d.where
		if d.refused != nil {
			where = inspect.Where{Kind: inspect.KindDevproxy}
		}
		if d.site != nil {
			where.Site = d.site.name
		}
		o.ex = rt.capture.BeginAt(r, where, e.start)
		rec.fallbackWhere = d.fallback
		d.r.Body = o.ex.TeeRequestBody(d.r.Body)
	}
	if pe := s.checkHeaders(r, e.route); pe != nil {
		writeProxyError(rec, r, o, pe)
		return
	}
	if d.refused != nil {
		// Nothing is forwarded: the log names devproxy, not the route's
		// target.
		e.kind, e.route, e.dest = kindDevproxy, kindDevproxy.String(), "refused"
		writeProxyError(rec, r, o, d.refused)
		return
	}
	r = d.r
	dropOtherUpgrades(r)
	switch {
	case d.h != nil:
		d.h.serve(rec, r, o)
	case d.own:
		if d.scoped {
			r = inspect.ForSite(r, d.scope)
		}
		s.serveOwn(rec, r, o, rt, rt.siteConfig(&d))
	case d.unknownSite:
		s.serveSites(rec, r, o, rt, true)
	case rt.sites != nil && d.site == nil && rt.frontend == nil && len(rt.routes) == 0:
		s.serveSites(rec, r, o, rt, false)
	default:
		serveNoFrontend(rec, r, o, rt.siteConfig(&d))
	}
}

// errClientGone is what an exchange whose client left early ended with.
var errClientGone = errors.New("the client went away before the response was complete")

// finishCapture ends the request's exchange with what the log knows.
func finishCapture(rec *recorder) {
	e := &rec.e
	if e.fallback != "" && rec.fallbackWhere != nil {
		e.ex.Retarget(*rec.fallbackWhere)
	}
	if e.err != nil {
		e.ex.Fail(e.err.Err, e.err.Hint)
	}
	var err error
	switch {
	case e.status == StatusClientClosed:
		err = errClientGone
	case !rec.wroteHeader:
		// Nothing was written: net/http sends the 200 itself.
		e.ex.ResponseHeader(e.status, rec.Header())
	}
	size := e.bytes
	if rec.hijacked {
		size = rec.conn.up.Load() + rec.conn.down.Load()
	}
	e.ex.FinishAt(size, err, e.start.Add(e.duration))
}

// finish logs the request. A panic costs only this request: it is logged
// with its stack, and the connection is aborted unless a response can
// still be sent.
func (s *Server) finish(rec *recorder, r *http.Request) {
	v := recover()
	e := &rec.e
	e.fellBack()
	e.duration = s.opts.Now().Sub(e.start)
	abort := v == http.ErrAbortHandler || (v != nil && rec.wroteHeader)
	switch {
	case v == nil:
	case v == http.ErrAbortHandler && r.Context().Err() != nil:
		e.status = StatusClientClosed
	case v == http.ErrAbortHandler:
		// ReverseProxy aborts when a body copy fails half way: the
		// client sees a cut-off response, never a clean truncated one.
		e.err = &proxyError{Err: "the response was cut off: the target closed or reset the connection mid-body", Route: e.route, Hint: "check the target's own log"}
	default:
		s.log.fail(fmt.Sprintf("panic serving %s %s: %v", sanitize(r.Method), sanitize(r.RequestURI), v), string(debug.Stack()))
		e.err = &proxyError{Status: http.StatusInternalServerError, Err: fmt.Sprintf("internal error: %v", v), Route: e.route, Hint: "this is a bug in devproxy; its log has the stack"}
		if !rec.wroteHeader {
			writeProxyError(rec, r, &e.outcome, e.err)
			e.status = http.StatusInternalServerError
		}
	}
	if e.status == 0 {
		e.status = http.StatusOK
	}
	if e.ex != nil {
		finishCapture(rec)
	}
	switch {
	case rec.hijacked:
		s.streams.untrack(rec.conn)
		e.ws, e.wsUp, e.wsDown = true, rec.conn.up.Load(), rec.conn.down.Load()
		s.log.wsClosed(e)
	case e.kind == kindDevproxy && e.status < 400 && e.err == nil:
		// devproxy's own endpoints are polled (the demo page checks the
		// status every few seconds): only their failures are worth a line.
	default:
		ct := rec.Header().Get("Content-Type")
		e.stream = strings.HasPrefix(ct, "text/event-stream")
		if fetchGotPage(e, r.URL.Path, ct) {
			e.misroute = noRoute(r.URL.Path, s.router.Load().routes)
		}
		s.log.request(e)
	}
	if abort {
		panic(http.ErrAbortHandler)
	}
}
