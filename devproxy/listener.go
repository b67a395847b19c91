package devproxy

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// shutdownGrace is how long in-flight requests may run on after a shutdown
// signal before their connections are closed.
const shutdownGrace = 5 * time.Second

// listener is one listening address with the http.Server on it.
type listener struct {
	srv *http.Server
	// redirect answers plain http:// requests on an https listener with
	// a redirect to https; nil for plain http.
	redirect *http.Server
	done     chan struct{} // closed when srv.Serve (and redirect's) returned
}

// Serve accepts connections on ln and applies every saved change of the
// config file until ctx is done. Then it stops accepting, lets in-flight
// requests finish for up to 5 s, and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.errc = make(chan error, 1)
	s.mu.Unlock()
	s.log.out.start()
	defer s.log.out.close()
	defer s.log.flushRepeats()
	s.startListener(ln)
	ready := s.opts.Now().Sub(s.opts.Started)
	if s.widthOf != nil {
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		go s.log.watchWidth(wctx, s.widthOf, resizes(wctx))
	}
	// devproxy listens before its commands start, so that a page load
	// during their start-up gets the waiting page, never a refused
	// connection.
	cctx, stopCommands := context.WithCancel(ctx)
	defer stopCommands()
	s.cmds.startAll(cctx)
	cfg := s.Config()
	s.log.banner(bannerInfo{
		version: s.opts.Version, cfg: cfg, open: s.url(ln.Addr().String()), ready: ready,
		probes: s.probeTargets(ctx, routeRows(cfg)), note: s.opts.BannerNote,
	})
	if note := s.bannerTrust(ctx); note != "" {
		s.log.warn(note)
	}
	for _, w := range cfg.Warnings {
		s.log.warn(w.Error())
	}
	if addrs := exposed(ln.Addr().String()); addrs != nil {
		s.log.warn("listening on " + ln.Addr().String() + ": your dev stack is reachable from the network at " + strings.Join(addrs, ", "))
	}

	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s.watch(wctx)
	}()

	var err error
	select {
	case err = <-s.errc:
	case <-ctx.Done():
	}
	stopWatch()
	<-watched
	s.log.info("shutting down: in-flight requests have " + shutdownGrace.String() + " to finish; WebSockets and event streams end now")
	// WebSockets and event streams never finish on their own: end them
	// now, cleanly, rather than cut them at the end of the grace period.
	s.streams.stopAll()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	s.mu.Lock()
	all := append([]*listener{s.current}, s.draining...)
	s.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		stopCommands()
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		s.cmds.stopAll(ctx)
	}()
	for _, l := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stop(sctx, l)
		}()
	}
	wg.Wait()
	s.drains.Wait()
	// Requests still running after the grace period close their upstream
	// connections when they end.
	s.transports.retireAll()
	return err
}

// startListener serves on ln and makes it the current listener.
func (s *Server) startListener(ln net.Listener) {
	l := &listener{
		srv: &http.Server{
			Handler: s,
			// A slow client may take its time over a body, never over
			// headers. There is no write timeout: SSE streams, HMR
			// sockets and large downloads run as long as they need.
			ReadHeaderTimeout: s.readHeaderTimeout,
			IdleTimeout:       2 * time.Minute,
			// net/http refuses bigger headers before any handler runs;
			// up to this, devproxy's own limit answers with sizes and
			// advice (checkHeaders).
			MaxHeaderBytes: s.headerLimit * serverHeaderFactor,
			ErrorLog:       log.New(io.Discard, "", 0),
		},
		done: make(chan struct{}),
	}
	var serveLn net.Listener = &refusedListener{Listener: ln, s: s}
	var redirectDone chan struct{}
	if s.certs != nil {
		cfg := tlsConfig(s.certs)
		l.srv.TLSConfig = cfg.Clone()
		l.srv.Protocols = new(http.Protocols)
		l.srv.Protocols.SetHTTP1(true)
		l.srv.Protocols.SetHTTP2(true)
		l.srv.HTTP2 = http2Config()
		// A TLS connection's bytes say nothing to the refusal watch;
		// over TLS net/http's own refusals go unlogged.
		sn := newSniffListener(ln, cfg, s.readHeaderTimeout)
		serveLn = half{l: sn, ch: sn.secure, owner: true}
		l.redirect = &http.Server{
			Handler:           redirectToHTTPS(func() string { return ln.Addr().String() }),
			ReadHeaderTimeout: s.readHeaderTimeout,
			ErrorLog:          log.New(io.Discard, "", 0),
		}
		redirectDone = make(chan struct{})
		go func() {
			defer close(redirectDone)
			_ = l.redirect.Serve(half{l: sn, ch: sn.plain})
		}()
	}
	addr := ln.Addr().String()
	s.mu.Lock()
	s.current = l
	errc := s.errc
	s.mu.Unlock()
	s.listen.Store(&addr)
	go func() {
		defer close(l.done)
		if redirectDone != nil {
			defer func() { <-redirectDone }()
		}
		if err := l.srv.Serve(serveLn); !errors.Is(err, http.ErrServerClosed) {
			s.mu.Lock()
			cur := s.current == l
			s.mu.Unlock()
			if cur {
				select {
				case errc <- err:
				default:
				}
			}
		}
	}()
}

// drain stops a listener replaced by a listen change: no new connections,
// in-flight requests finish.
func (s *Server) drain(ctx context.Context, l *listener) {
	s.mu.Lock()
	s.draining = append(s.draining, l)
	s.mu.Unlock()
	sctx, cancel := context.WithTimeout(ctx, shutdownGrace)
	defer cancel()
	s.stop(sctx, l)
	s.mu.Lock()
	for i, d := range s.draining {
		if d == l {
			s.draining = append(s.draining[:i], s.draining[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
}

// stop shuts l down gracefully until ctx is done, then closes what is left.
// Over HTTP/2 the shutdown sends each connection a GOAWAY, so that a
// browser moves its next requests to a new connection without an error.
func (s *Server) stop(ctx context.Context, l *listener) {
	if l.redirect != nil {
		go func() {
			if err := l.redirect.Shutdown(ctx); err != nil {
				_ = l.redirect.Close()
			}
		}()
	}
	if err := l.srv.Shutdown(ctx); err != nil {
		_ = l.srv.Close()
	}
	<-l.done
}

// URL returns the address a browser should open for a listen address:
// localhost for loopback and wildcard hosts.
func URL(listen string) string { return schemeURL("http", listen) }

// url is URL with https when devproxy serves https.
func (s *Server) url(listen string) string {
	if s.certs != nil {
		return schemeURL("https", listen)
	}
	return URL(listen)
}

func schemeURL(scheme, listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return scheme + "://" + listen
	}
	switch host {
	case "", "0.0.0.0", "::", "127.0.0.1", "::1", "localhost":
		host = "localhost"
	}
	return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port)}).String()
}

// serves reports whether addr names the address devproxy listens on: the
// same port, and a host that is the listener's or resolves to it.
func (s *Server) serves(ctx context.Context, addr string) bool {
	cur := s.listen.Load()
	if cur == nil {
		return false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	curHost, curPort, err := net.SplitHostPort(*cur)
	if err != nil || port != curPort || port == "0" {
		return false
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	if host == curHost || wildcard(host) && wildcard(curHost) {
		return true
	}
	curIP := net.ParseIP(curHost)
	if curIP == nil {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.Equal(curIP)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(rctx, host)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if a.IP.Equal(curIP) {
			return true
		}
	}
	return false
}

// relisten opens addr, serves on it and then drains and closes the old
// listener. If addr cannot be bound, the old listener keeps serving.
func (s *Server) relisten(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.current
	s.mu.Unlock()
	s.startListener(ln)
	if old != nil {
		s.drains.Add(1)
		go func() {
			defer s.drains.Done()
			s.drain(ctx, old)
		}()
	}
	return nil
}
