package devproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/web"
)

// Sharing one listen address: the first devproxy on an address (the host)
// listens on a unix socket of its user's, named by the address, besides
// the address itself. A second devproxy (a guest) that finds the address
// in use serves its config on a private loopback port and registers its
// names there over one connection, which it holds open for as long as it
// runs: the host forwards the requests for those names to it, with their
// Host, and forgets them when the connection ends, however the guest
// ended. A host asked to stop while guests are registered stops its own
// sites and commands but keeps serving theirs until the last one leaves.

// ShareDir returns the folder of the sockets through which devproxies
// share a listen address: devproxy under $XDG_RUNTIME_DIR, else run under
// devproxy's folder in the user's config folder.
func ShareDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "devproxy")
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "devproxy", "run")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("devproxy-%d", os.Getuid()))
}

// socketPath is the socket of the host on listen address addr.
func socketPath(dir, addr string) string {
	return filepath.Join(dir, strings.NewReplacer(":", "_", "[", "", "]", "", "/", "_").Replace(addr)+".sock")
}

// shareMsg is what a guest or devproxy ls sends the host, one JSON object
// per line.
type shareMsg struct {
	// Op is "register" (the first line of a guest), "update" (its names
	// changed on a reload) or "list" (devproxy ls).
	Op     string   `json:"op"`
	Names  []string `json:"names,omitempty"`
	Target string   `json:"target,omitempty"`
	Config string   `json:"config,omitempty"`
	PID    int      `json:"pid,omitempty"`
}

// shareReply is the host's answer to a register or list, and what it
// tells a registered guest later (its scheme, when https is switched).
type shareReply struct {
	Error string       `json:"error,omitempty"`
	Sites []SharedSite `json:"sites,omitempty"`
	// Scheme is the scheme the browser reaches the shared address with:
	// "https" when the host serves TLS there, else "http". The host
	// forwards plain HTTP to its guests either way.
	Scheme string `json:"scheme,omitempty"`
}

// SharedSite is one name served on a shared listen address, as devproxy
// ls lists it.
type SharedSite struct {
	// Name is the host name, such as "shop.localhost", or a wildcard.
	Name string `json:"name"`
	// URL is where to open it; empty for a wildcard.
	URL string `json:"url,omitempty"`
	// Config is the config file of the devproxy that serves it.
	Config string `json:"config"`
	// PID is that devproxy's process.
	PID int `json:"pid"`
	// Host is true for the names of the devproxy that listens on the
	// address itself.
	Host bool `json:"host,omitempty"`
}

// guest is a devproxy registered with this one: its names, served by
// forwarding to target.
type guest struct {
	names  []string
	target *url.URL
	config string
	pid    int
	// tell sends the guest a message on its registration's connection.
	tell func(shareReply)
}

// guestSet holds the guests of a host.
type guestSet struct {
	mu   sync.Mutex
	all  []*guest
	gone chan struct{} // closed and replaced when the last guest leaves
	// ever is set by the first guest: from then on a name that is none
	// of the host's gets the list of names, never the host's app, even
	// when no guest is left.
	ever bool
}

func (gs *guestSet) snapshot() (all []*guest, ever bool) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return slices.Clone(gs.all), gs.ever
}

func (gs *guestSet) count() int {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return len(gs.all)
}

// empty returns a channel that is closed once no guest is left.
func (gs *guestSet) empty() <-chan struct{} {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if len(gs.all) == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return gs.gone
}

func (gs *guestSet) remove(g *guest) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	gs.all = slices.DeleteFunc(gs.all, func(o *guest) bool { return o == g })
	if len(gs.all) == 0 && gs.gone != nil {
		close(gs.gone)
		gs.gone = make(chan struct{})
	}
}

// shareDir is the folder of the sockets, made private to the user.
func (s *Server) shareDir() (string, error) {
	dir := s.opts.ShareDir
	if dir == "" {
		dir = ShareDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := ownedPrivate(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// host listens on the socket of addr for guests and devproxy ls until
// stop is called, which closes it and removes its file. A socket it cannot
// open is logged, and the address is then not shared.
func (s *Server) host(addr string) (stop func()) {
	stop = func() {}
	dir, err := s.shareDir()
	if err != nil {
		s.log.warn("cannot share " + addr + " with other devproxies: " + err.Error())
		return stop
	}
	path := socketPath(dir, addr)
	if c, err := net.Dial("unix", path); err == nil {
		// Another devproxy answers for this address (another network
		// namespace, say): leave its socket alone.
		c.Close()
		s.log.warn("cannot share " + addr + " with other devproxies: " + path + " belongs to another devproxy")
		return stop
	}
	_ = os.Remove(path) // left by a devproxy that was killed
	ln, err := net.Listen("unix", path)
	if err != nil {
		s.log.warn("cannot share " + addr + " with other devproxies: " + err.Error())
		return stop
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		s.log.warn("cannot share " + addr + ": " + err.Error())
		return stop
	}
	s.guests.mu.Lock()
	s.guests.gone = make(chan struct{})
	s.guests.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serveGuest(ctx, c)
		}
	}()
	return func() {
		cancel()
		ln.Close()
		<-done
	}
}

// serveGuest answers one connection to the socket: a list, or a guest's
// registration, held until the connection ends.
func (s *Server) serveGuest(ctx context.Context, c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	dec := json.NewDecoder(bufio.NewReader(c))
	enc := json.NewEncoder(c)
	var m shareMsg
	if err := dec.Decode(&m); err != nil {
		return
	}
	switch m.Op {
	case "list":
		_ = enc.Encode(shareReply{Sites: s.sharedSites()})
		return
	case "register":
	default:
		_ = enc.Encode(shareReply{Error: fmt.Sprintf("unknown op %q", m.Op)})
		return
	}
	g, err := s.newGuest(m)
	if err != nil {
		_ = enc.Encode(shareReply{Error: err.Error()})
		return
	}
	var encMu sync.Mutex
	encMu.Lock() // until the answer is sent: it goes first
	g.tell = func(rep shareReply) {
		encMu.Lock()
		defer encMu.Unlock()
		_ = enc.Encode(rep)
	}
	if err := s.addGuest(g, m.Names); err != nil {
		_ = enc.Encode(shareReply{Error: err.Error()})
		encMu.Unlock()
		return
	}
	// The scheme is read after the guest was added, so that a switch of
	// https from now on is told to it (tellScheme) after this answer.
	err = enc.Encode(shareReply{Scheme: s.publicScheme()})
	encMu.Unlock()
	if err != nil {
		s.dropGuest(g)
		return
	}
	s.log.info(fmt.Sprintf("%s │ joined: served by devproxy %d for %s", strings.Join(g.names, ", "), g.pid, sanitize(g.config)))
	for {
		var u shareMsg
		if err := dec.Decode(&u); err != nil {
			break
		}
		if u.Op != "update" {
			continue
		}
		if err := s.addGuest(g, u.Names); err != nil {
			s.log.fail(sanitize(g.config)+" │ names not changed: "+err.Error(), "")
		}
	}
	s.dropGuest(g)
	s.log.info(fmt.Sprintf("%s │ left: devproxy %d for %s ended", strings.Join(g.names, ", "), g.pid, sanitize(g.config)))
}

// newGuest checks a registration.
func (s *Server) newGuest(m shareMsg) (*guest, error) {
	u, err := url.Parse(m.Target)
	if err != nil || u.Scheme != "http" || !web.IsLoopback(u.Hostname()) || u.Port() == "" {
		return nil, fmt.Errorf("target %q is not an http:// address on this machine", m.Target)
	}
	return &guest{target: u, config: m.Config, pid: m.PID}, nil
}

// addGuest sets g's names, checked against every name served already,
// adds g when it is new, and rebuilds the router.
func (s *Server) addGuest(g *guest, names []string) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if len(names) == 0 {
		return errors.New("no names to serve")
	}
	rt := s.router.Load()
	taken := map[string]string{}
	for _, n := range s.ownNames(rt) {
		taken[n] = "this devproxy (" + s.opts.ConfigFile + ")"
	}
	others, _ := s.guests.snapshot()
	for _, o := range others {
		if o != g {
			for _, n := range o.names {
				taken[n] = fmt.Sprintf("devproxy %d (%s)", o.pid, o.config)
			}
		}
	}
	var clean []string
	for _, n := range names {
		h := siteHost(n)
		if _, problem, _ := config.CheckName(strings.TrimPrefix(h, "*.")); problem != "" {
			return fmt.Errorf("name %q: %s", n, problem)
		}
		if by, ok := taken[h]; ok {
			return fmt.Errorf("%s is served by %s already", h, by)
		}
		clean = append(clean, h)
	}
	s.guests.mu.Lock()
	g.names = clean
	if !slices.Contains(s.guests.all, g) {
		s.guests.all = append(s.guests.all, g)
	}
	s.guests.ever = true
	s.guests.mu.Unlock()
	s.rebuild()
	return nil
}

// publicScheme is the scheme browsers reach this devproxy with.
func (s *Server) publicScheme() string {
	if s.https.Load() != nil {
		return "https"
	}
	return "http"
}

// tellScheme tells every guest the scheme after https was switched on or
// off.
func (s *Server) tellScheme() {
	guests, _ := s.guests.snapshot()
	for _, g := range guests {
		g.tell(shareReply{Scheme: s.publicScheme()})
	}
}

// dropGuest forgets g and rebuilds the router without its names.
func (s *Server) dropGuest(g *guest) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.guests.remove(g)
	s.rebuild()
}

// rebuild builds the router of the config in use again, with the guests
// as they are now; reloadMu is held.
func (s *Server) rebuild() {
	rt := s.build(s.router.Load().parsed, nil)
	s.router.Store(rt)
	s.transports.retain(rt.pools)
}

// ownNames are the names rt serves itself: its top-level name and sites.
func (s *Server) ownNames(rt *router) []string {
	var out []string
	if rt.name != "" {
		out = append(out, rt.name)
	}
	for _, st := range rt.cfg.Sites {
		out = append(out, st.Name)
	}
	return out
}

// sharedSites lists every name served on the shared address: this
// devproxy's, then each guest's.
func (s *Server) sharedSites() []SharedSite {
	rt := s.router.Load()
	file, _ := filepath.Abs(s.opts.ConfigFile)
	var out []SharedSite
	add := func(name, cfg string, pid int, host bool) {
		ss := SharedSite{Name: name, Config: cfg, PID: pid, Host: host}
		if !strings.HasPrefix(name, "*.") {
			ss.URL = s.siteURL(name)
		}
		out = append(out, ss)
	}
	for _, n := range s.ownNames(rt) {
		add(n, file, os.Getpid(), true)
	}
	guests, _ := s.guests.snapshot()
	for _, g := range guests {
		for _, n := range g.names {
			add(n, g.config, g.pid, false)
		}
	}
	return out
}

// List asks the devproxy that listens on addr which names it and its
// guests serve; dir is the folder of the sockets, "" for ShareDir().
func List(ctx context.Context, dir, addr string) ([]SharedSite, error) {
	if dir == "" {
		dir = ShareDir()
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socketPath(dir, addr))
	if err != nil {
		return nil, fmt.Errorf("no devproxy shares %s: %w", addr, ErrNotShared)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := json.NewEncoder(c).Encode(shareMsg{Op: "list"}); err != nil {
		return nil, err
	}
	var rep shareReply
	if err := json.NewDecoder(c).Decode(&rep); err != nil {
		return nil, fmt.Errorf("read the list of %s: %w", addr, err)
	}
	return rep.Sites, nil
}

// ErrNotShared is the error of Join and List when no devproxy answers on
// the socket of an address.
var ErrNotShared = errors.New("no devproxy answers on its socket")

// guestLink is a guest's registration with its host.
type guestLink struct {
	addr string // the shared listen address
	conn net.Conn
	enc  *json.Encoder
	dec  *json.Decoder
	mu   sync.Mutex // serialises writes
	// https is set while the host serves the shared address over TLS,
	// as it says over this connection; ready is closed once the host
	// answered the registration.
	https atomic.Bool
	ready chan struct{}
}

// public returns r, which the host forwarded from the shared address, as
// the browser sent it: over TLS when the host serves https there, so that
// the guest's guards, its rewriting of Location and cookies and its
// X-Forwarded-Proto see the browser's scheme. That comes from the host
// over the registration, never from a header of the request, which any
// local client could send. Requests wait for the host's answer.
func (g *guestLink) public(r *http.Request) *http.Request {
	select {
	case <-g.ready:
	case <-r.Context().Done():
		return r
	}
	if !g.https.Load() || r.TLS != nil {
		return r
	}
	r = r.WithContext(r.Context())
	// The host did the handshake with the browser; this is its outcome
	// as far as the guest needs it.
	r.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: siteHost(r.Host)}
	return r
}

// Join prepares s to serve as a guest of the devproxy that listens on
// addr: it connects to its socket and returns the private loopback
// listener to Serve on, which registers s's names when it starts. The
// error wraps ErrNotShared when no devproxy answers there.
func (s *Server) Join(addr string) (net.Listener, error) {
	dir, err := s.shareDir()
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("unix", socketPath(dir, addr))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, ErrNotShared)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.Close()
		return nil, err
	}
	s.guest = &guestLink{addr: addr, conn: c, enc: json.NewEncoder(c), dec: json.NewDecoder(bufio.NewReader(c)), ready: make(chan struct{})}
	return ln, nil
}

// guestNames are the names s registers as a guest.
func (s *Server) guestNames() []string { return s.ownNames(s.router.Load()) }

// register sends s's names to its host, to be served by forwarding to
// target, and waits for the answer.
func (s *Server) register(target string) error {
	names := s.guestNames()
	if len(names) == 0 {
		return fmt.Errorf("%s is in use by another devproxy, and this one has no name to share it with: give it one with -name NAME or name: in the config", s.guest.addr)
	}
	file, _ := filepath.Abs(s.opts.ConfigFile)
	s.guest.mu.Lock()
	err := s.guest.enc.Encode(shareMsg{Op: "register", Names: names, Target: target, Config: file, PID: os.Getpid()})
	s.guest.mu.Unlock()
	if err != nil {
		return err
	}
	var rep shareReply
	if err := s.guest.dec.Decode(&rep); err != nil {
		return fmt.Errorf("register with the devproxy on %s: %w", s.guest.addr, err)
	}
	if rep.Error != "" {
		return fmt.Errorf("the devproxy on %s refused this one's names: %s", s.guest.addr, rep.Error)
	}
	s.guest.https.Store(rep.Scheme == "https")
	close(s.guest.ready)
	return nil
}

// updateNames tells the host the names after a reload.
func (s *Server) updateNames() {
	if s.guest == nil {
		return
	}
	s.guest.mu.Lock()
	defer s.guest.mu.Unlock()
	_ = s.guest.enc.Encode(shareMsg{Op: "update", Names: s.guestNames()})
}

// watchHost follows the host's scheme, and ends the guest with an error
// when its host goes away.
func (s *Server) watchHost(errc chan<- error) {
	for {
		var rep shareReply
		if err := s.guest.dec.Decode(&rep); err != nil {
			select {
			case errc <- fmt.Errorf("the devproxy on %s that served this one's names has stopped", s.guest.addr):
			default:
			}
			return
		}
		if rep.Scheme != "" {
			s.guest.https.Store(rep.Scheme == "https")
		}
	}
}
