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
	"strings"
	"sync"
	"time"
)

// shutdownGrace is how long in-flight requests may run on after a shutdown
// signal before their connections are closed.
const shutdownGrace = 5 * time.Second

// listener is one way of serving a listening socket: the http.Server
// (plain, or https with its certificates) that gets the socket's
// connections while it is current.
type listener struct {
	sock *socket // where its connections come from
	srv  *http.Server
	// redirect answers plain http:// requests on an https listener with
	// a redirect to https; nil for plain http.
	redirect *http.Server
	// h1 serves plain HTTP/1.1 GETs and HEADs itself and hands srv the
	// other connections (h1.go); nil over https.
	h1   *h1Listener
	done chan struct{} // closed when srv.Serve (and redirect's) returned
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
	if s.guest != nil {
		defer s.guest.conn.Close()
		if err := s.register("http://" + ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
		go s.watchHost(s.errc)
	} else {
		defer s.host(ln.Addr().String())()
	}
	s.startListener(newSocket(ln))
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
	open, also := s.url(ln.Addr().String()), ""
	if name := s.router.Load().name; name != "" {
		open, also = s.siteURL(name), open
	}
	note := s.opts.BannerNote
	if s.guest != nil {
		// localhost is the host's.
		also = ""
		note = strings.TrimSpace("sharing " + s.guest.addr + " with the devproxy already listening there; " + note)
	}
	s.log.banner(bannerInfo{
		version: s.opts.Version, cfg: cfg, open: open, also: also, ready: ready,
		inspect: s.inspectorURL(ln.Addr().String()), capture: s.router.Load().capture != nil,
		probes: s.probeTargets(ctx, allRouteRows(cfg)), note: note, siteURL: s.siteURL,
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
	if n := s.guests.count(); err == nil && n > 0 {
		s.leaveToGuests(n, stopCommands)
	}
	s.log.info("shutting down: in-flight requests have " + shutdownGrace.String() + " to finish; WebSockets and event streams end now")
	// WebSockets and event streams never finish on their own: end them
	// now, cleanly, rather than cut them at the end of the grace period.
	s.streams.stopAll()
	s.stopInspector()
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

// leaveToGuests is a host's stop while n guests are registered: its own
// commands stop and its names go, the guests' names are served until the
// last guest leaves (or a second Ctrl-C ends the process).
func (s *Server) leaveToGuests(n int, stopCommands func()) {
	s.log.info(fmt.Sprintf("stopping this project; still serving %d other %s on %s until %s (Ctrl-C again quits at once)",
		n, plural(n, "project", "projects"), s.currentListen(), plural(n, "it leaves", "they leave")))
	s.reloadMu.Lock()
	s.leaving.Store(true)
	s.rebuild()
	s.reloadMu.Unlock()
	stopCommands()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	s.cmds.stopAll(ctx)
	cancel()
	<-s.guests.empty()
}

// startListener serves on sock with the certificates current now (plain
// http when there are none) and makes it the current listener. From then
// on sock hands new connections to it; the listener it replaces, if any,
// is the caller's to stop.
func (s *Server) startListener(sock *socket) {
	in := newIntake(sock)
	ln := net.Listener(in)
	l := &listener{
		sock: sock,
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
	// A guest's listener is its host's to reach, in plain HTTP: the
	// host serves the browser, over TLS or not (guestLink.public).
	if h := s.https.Load(); h != nil && s.guest == nil {
		cfg := tlsConfig(h.certs)
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
	} else {
		l.h1 = newH1Listener(ln, l.srv)
		serveLn = &refusedListener{Listener: l.h1, s: s}
	}
	addr := ln.Addr().String()
	s.mu.Lock()
	s.current = l
	errc := s.errc
	s.mu.Unlock()
	s.listen.Store(&addr)
	sock.handTo(in)
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
	h1Done := make(chan struct{})
	go func() {
		defer close(h1Done)
		if l.h1 != nil {
			l.h1.shutdown(ctx)
		}
	}()
	if err := l.srv.Shutdown(ctx); err != nil {
		_ = l.srv.Close()
	}
	<-h1Done
	<-l.done
}

// listenNow is the address devproxy listens on, or will before Serve.
func (s *Server) listenNow() string {
	if a := s.listen.Load(); a != nil {
		return *a
	}
	return s.ListenAddr()
}

// URL returns the address a browser should open for a listen address:
// localhost for loopback and wildcard hosts.
func URL(listen string) string { return schemeURL("http", listen) }

// url is URL with https when devproxy serves https, or for a guest, when
// its host does.
func (s *Server) url(listen string) string {
	if s.guest != nil {
		if s.guest.https.Load() {
			return schemeURL("https", listen)
		}
		return URL(listen)
	}
	if s.https.Load() != nil {
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
	s.replaceListener(ctx, newSocket(ln))
	return nil
}

// serveAnew serves the current listener's socket anew, with the
// certificates current now: https switched on or off, or another
// certificate. The port stays open throughout; connections accepted from
// now on get the new listener, those of the old one finish their
// requests (over HTTP/2 after a GOAWAY) and close.
func (s *Server) serveAnew(ctx context.Context) {
	s.mu.Lock()
	cur := s.current
	s.mu.Unlock()
	if cur == nil {
		return // not serving yet: Serve starts with the new certificates
	}
	s.replaceListener(ctx, cur.sock)
}

// replaceListener makes a listener on sock current and drains the one it
// replaces.
func (s *Server) replaceListener(ctx context.Context, sock *socket) {
	s.mu.Lock()
	old := s.current
	s.mu.Unlock()
	s.startListener(sock)
	if old != nil {
		s.drains.Add(1)
		go func() {
			defer s.drains.Done()
			s.drain(ctx, old)
		}()
	}
}

// socket is a listening socket and its one accept loop, which hands each
// connection to the listener current at the time. Switching https on or
// off replaces the listener, not the socket: the port never closes, and
// two servers never race for its connections.
type socket struct {
	ln     net.Listener
	closed chan struct{} // closed when the accept loop ended
	err    error         // why it ended; set before closed is closed

	mu  sync.Mutex
	cur *intake // gets the next connection; nil once released
	set chan struct{}
}

func newSocket(ln net.Listener) *socket {
	sk := &socket{ln: ln, closed: make(chan struct{}), set: make(chan struct{})}
	go sk.run()
	return sk
}

// handTo makes in the receiver of the connections accepted from now on.
func (sk *socket) handTo(in *intake) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	sk.cur = in
	close(sk.set)
	sk.set = make(chan struct{})
}

// release closes the socket if in still gets its connections: in's
// listener was stopped, not replaced by another on this socket.
func (sk *socket) release(in *intake) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.cur != in {
		return
	}
	sk.cur = nil
	close(sk.set)
	sk.set = make(chan struct{})
	_ = sk.ln.Close()
}

func (sk *socket) run() {
	defer close(sk.closed)
	for {
		c, err := sk.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if !errors.Is(err, net.ErrClosed) {
				// Out of file descriptors, say: pause as net/http does
				// rather than end devproxy.
				time.Sleep(10 * time.Millisecond)
				continue
			}
			sk.err = err
			return
		}
		sk.deliver(c)
	}
}

// deliver hands c to the current intake; if that one closes before it
// takes c, to the one that replaces it, or nowhere once the socket is
// released.
func (sk *socket) deliver(c net.Conn) {
	for {
		sk.mu.Lock()
		in, set := sk.cur, sk.set
		sk.mu.Unlock()
		if in == nil {
			_ = c.Close()
			return
		}
		select {
		case in.ch <- c:
			return
		case <-in.closed:
			<-set // replaced or released: Close did one or the other
		}
	}
}

// intake is the net.Listener of one listener: the connections its socket
// hands it. Closing it closes the socket too, unless another listener
// has taken the socket over.
type intake struct {
	sock      *socket
	ch        chan net.Conn
	closeOnce sync.Once
	closed    chan struct{}
}

func newIntake(sock *socket) *intake {
	return &intake{sock: sock, ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (in *intake) Accept() (net.Conn, error) {
	select {
	case c := <-in.ch:
		return c, nil
	case <-in.closed:
		return nil, net.ErrClosed
	case <-in.sock.closed:
		return nil, in.sock.err
	}
}

func (in *intake) Close() error {
	in.closeOnce.Do(func() {
		close(in.closed)
		in.sock.release(in)
	})
	return nil
}

func (in *intake) Addr() net.Addr { return in.sock.ln.Addr() }
