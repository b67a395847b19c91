package devproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Version is devproxy's version, shown by -version and the status endpoint.
const Version = "0.1.0"

// shutdownGrace is how long in-flight requests may run on after a shutdown
// signal before their connections are closed.
const shutdownGrace = 5 * time.Second

// Options configure a Server. The zero value of each field has the meaning
// its comment gives.
type Options struct {
	// Config is the path of the config file; "devproxy.yaml" when empty.
	Config string
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
}

// Server is a running devproxy: it serves requests with the current router
// and swaps in a new one when the config changes.
type Server struct {
	opts       Options
	log        *logger
	transports *transports
	buffers    *bufferPool
	router     atomic.Pointer[router]
	reload     atomic.Pointer[reloadStatus]
	listen     atomic.Pointer[string]
}

// reloadStatus is the result of the last load or reload attempt.
type reloadStatus struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	At    string `json:"at"`
}

// New loads the config named by opts and returns a Server ready to Serve.
// A config error is returned as ConfigErrors.
func New(opts Options) (*Server, error) {
	if opts.Config == "" {
		opts.Config = "devproxy.yaml"
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:       opts,
		log:        newLogger(opts.Log, opts.Now),
		transports: newTransports(),
		buffers:    newBufferPool(),
	}
	cfg, err := LoadConfig(opts.Config, opts.LookupEnv)
	if err != nil {
		return nil, err
	}
	s.router.Store(s.compile(cfg))
	s.reload.Store(&reloadStatus{OK: true, At: opts.Now().Format(time.RFC3339)})
	return s, nil
}

// Config returns the config the server currently serves.
func (s *Server) Config() *Config { return s.router.Load().cfg }

// ListenAddr is the address to listen on: the -listen override, else the
// config's.
func (s *Server) ListenAddr() string {
	if s.opts.Listen != "" {
		return s.opts.Listen
	}
	return s.Config().Listen
}

// compile builds the immutable router for cfg.
func (s *Server) compile(cfg *Config) *router {
	rt := &router{cfg: cfg}
	for i := range cfg.Routes {
		r := &cfg.Routes[i]
		cr := &route{Route: r}
		if r.Respond != nil {
			cr.handler, cr.dest = &mockHandler{name: r.Path, r: r.Respond}, "mock"
		} else {
			u := newUpstream(r.Path, r, r.Target, s.transports.get(r.Insecure, r.Timeout), s.buffers)
			cr.handler, cr.dest = u, u.hostport
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
		insecure := isLoopbackName(f.URL.Hostname())
		u := newUpstream("frontend", nil, f.URL, s.transports.get(insecure, DefaultTimeout), s.buffers)
		rt.frontend = &frontend{handler: u, kind: "frontend", dest: u.hostport}
	default:
		rt.frontend = &frontend{handler: newStaticHandler(f.Dir, f.SPA), kind: "static", dest: f.Dir}
	}
	return rt
}

// ServeHTTP serves one request with the router current when it arrives.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := s.router.Load()
	rec := &recorder{ResponseWriter: w}
	e := &logEntry{start: s.opts.Now(), method: r.Method, uri: r.RequestURI}
	defer s.finish(rec, r, e)

	path := r.URL.Path
	if hasPathPrefix(path, ReservedPrefix) {
		e.route = "devproxy"
		s.serveOwn(rec, r, rt)
		return
	}
	if m := rt.match(path); m != nil {
		e.route, e.dest = m.Path, m.dest
		m.handler.ServeHTTP(rec, r)
		return
	}
	if rt.frontend != nil {
		e.route, e.dest = rt.frontend.kind, rt.frontend.dest
		rt.frontend.handler.ServeHTTP(rec, r)
		return
	}
	e.route = "devproxy"
	serveNoFrontend(rec, r, rt)
}

// finish logs the request. A panic costs only this request: it is logged
// with its stack, and the connection is aborted unless a response can
// still be sent.
func (s *Server) finish(rec *recorder, r *http.Request, e *logEntry) {
	v := recover()
	e.duration = s.opts.Now().Sub(e.start)
	e.status, e.bytes, e.err = rec.status, rec.bytes, rec.err
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
		s.log.write(fmt.Sprintf("panic serving %s %s: %v\n%s", sanitize(r.Method), sanitize(r.RequestURI), v, debug.Stack()))
		e.err = &proxyError{Status: http.StatusInternalServerError, Err: fmt.Sprintf("internal error: %v", v), Route: e.route, Hint: "this is a bug in devproxy; its log has the stack"}
		if !rec.wroteHeader {
			writeProxyError(rec, r, e.err)
			e.status = http.StatusInternalServerError
		}
	}
	if e.status == 0 {
		e.status = http.StatusOK
	}
	s.log.request(e)
	if abort {
		panic(http.ErrAbortHandler)
	}
}

// Serve accepts connections on ln until ctx is done, then stops accepting,
// lets in-flight requests finish for up to 5 s and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	addr := ln.Addr().String()
	s.listen.Store(&addr)
	srv := &http.Server{
		Handler: s,
		// A slow client may take its time over a body, never over headers.
		// There is no write timeout: SSE streams, HMR sockets and large
		// downloads run as long as they need.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.printf("shutting down: in-flight requests have %s to finish", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	<-errc
	s.transports.closeIdle()
	return err
}

// URL returns the address a browser should open for a listen address:
// localhost for loopback and wildcard hosts.
func URL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	switch host {
	case "", "0.0.0.0", "::", "127.0.0.1", "::1", "localhost":
		host = "localhost"
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}).String()
}
