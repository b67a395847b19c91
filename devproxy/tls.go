package devproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/devproxy/localca"
)

// certSource hands out the certificate for a TLS handshake: the local
// CA's Issuer or a key pair from the config's tls block.
type certSource interface {
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
}

// httpsCerts are the certificates devproxy serves https with.
type httpsCerts struct {
	certs certSource
	// ca is the local CA whose leaves certs hands out, and issuer is
	// certs then (it follows allowed_hosts on reload); both nil for a
	// tls block's pair.
	ca     *localca.CA
	issuer *localca.Issuer
	// files is the tls block served, nil for the local CA.
	files *config.TLSFiles
}

// openCerts returns the certificates to serve with cfg: the tls block's
// pair, or leaves of the local CA in dir (created on first use) for
// localhost, *.localhost, the loopback addresses and cfg's allowed_hosts.
func openCerts(cfg *config.Config, dir string, now func() time.Time) (*httpsCerts, error) {
	if t := cfg.TLS; t != nil {
		kp, err := localca.LoadKeyPair(t.Cert, t.Key, now)
		if err != nil {
			return nil, err
		}
		return &httpsCerts{certs: kp, files: t}, nil
	}
	ca, err := localca.Open(localca.Options{Dir: dir, Now: now})
	if err != nil {
		return nil, err
	}
	iss := localca.NewIssuer(ca, localca.IssuerOptions{Hosts: cfg.AllowedHosts, Now: now})
	return &httpsCerts{certs: iss, ca: ca, issuer: iss}, nil
}

// tlsConfig is the server side of every TLS connection: HTTP/2 offered
// first, HTTP/1.1 for clients that want it (and for WebSockets: devproxy
// does not enable RFC 8441's extended CONNECT, so a browser opens an
// HTTP/1.1 connection for each socket).
func tlsConfig(certs certSource) *tls.Config {
	return &tls.Config{
		GetCertificate: certs.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
		MinVersion:     tls.VersionTLS12,
	}
}

// http2Config sizes HTTP/2 for a dev server's unbundled page load: many
// hundreds of module requests at once on one connection, and uploads that
// are not held back by small receive windows. Send windows are the
// browser's to set (Chromium offers 15 MB per connection).
func http2Config() *http.HTTP2Config {
	return &http.HTTP2Config{
		// Vite serves each module as a request; 1000 streams let a page
		// of hundreds of modules ask for all of them at once instead of
		// queueing behind the default 250.
		MaxConcurrentStreams: 1000,
		// Receive windows as large as Chromium's own (15 MB, 6 MB)
		// rather than the 1 MB default, so uploads run at loopback speed
		// without waiting for window updates.
		MaxReceiveBufferPerConnection: 16 << 20,
		MaxReceiveBufferPerStream:     4 << 20,
	}
}

// tlsRecordHandshake is the first byte of every TLS connection: a
// handshake record carrying the ClientHello. Plain HTTP starts with a
// method's letter.
const tlsRecordHandshake = 0x16

// sniffListener splits one listening socket into two: connections that
// start a TLS handshake (served over TLS by the main server) and plain
// ones (answered with a redirect to https). The first byte is read in a
// goroutine of its own, so a client that connects and sends nothing
// (browsers preconnect) holds up no one; it is dropped after wait.
type sniffListener struct {
	ln     net.Listener
	cfg    *tls.Config
	wait   time.Duration
	secure chan net.Conn
	plain  chan net.Conn

	closeOnce sync.Once
	closed    chan struct{}
	mu        sync.Mutex
	err       error // why Accept stopped; net.ErrClosed after Close
}

func newSniffListener(ln net.Listener, cfg *tls.Config, wait time.Duration) *sniffListener {
	l := &sniffListener{ln: ln, cfg: cfg, wait: wait, secure: make(chan net.Conn), plain: make(chan net.Conn), closed: make(chan struct{})}
	go l.run()
	return l
}

func (l *sniffListener) run() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if !errors.Is(err, net.ErrClosed) {
				select {
				case <-l.closed:
				default:
					// Out of file descriptors, say: pause as net/http does
					// rather than end devproxy.
					time.Sleep(10 * time.Millisecond)
					continue
				}
			}
			l.stop(err)
			return
		}
		go l.sniff(c)
	}
}

func (l *sniffListener) sniff(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(l.wait))
	var b [1]byte
	if _, err := c.Read(b[:]); err != nil {
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	pc := &peekedConn{Conn: c, first: b[0], unread: true}
	out, conn := l.plain, net.Conn(pc)
	if b[0] == tlsRecordHandshake {
		out, conn = l.secure, tls.Server(pc, l.cfg)
	}
	select {
	case out <- conn:
	case <-l.closed:
		_ = c.Close()
	}
}

func (l *sniffListener) stop(err error) {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
		close(l.closed)
		_ = l.ln.Close()
	})
}

func (l *sniffListener) accept(ch chan net.Conn) (net.Conn, error) {
	select {
	case c := <-ch:
		return c, nil
	case <-l.closed:
		l.mu.Lock()
		defer l.mu.Unlock()
		return nil, l.err
	}
}

// half is one of the two listeners a sniffListener hands out. Closing
// the owner (the TLS half, whose server is the listener's) closes the
// socket; closing the other leaves it to the owner.
type half struct {
	l     *sniffListener
	ch    chan net.Conn
	owner bool
}

func (h half) Accept() (net.Conn, error) { return h.l.accept(h.ch) }
func (h half) Addr() net.Addr            { return h.l.ln.Addr() }

func (h half) Close() error {
	if h.owner {
		h.l.stop(net.ErrClosed)
	}
	return nil
}

// peekedConn gives back the byte the sniffer read before the rest.
type peekedConn struct {
	net.Conn
	first  byte
	unread bool
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if c.unread && len(p) > 0 {
		c.unread = false
		p[0] = c.first
		return 1, nil
	}
	return c.Conn.Read(p)
}

// bannerTrust is the banner's line about the local CA, empty when the
// browsers trust it or devproxy serves a tls block's certificate.
func (s *Server) bannerTrust(ctx context.Context) string {
	h := s.https.Load()
	if h == nil || h.ca == nil {
		return ""
	}
	st := h.ca.Trusted(ctx, localca.TrustOptions{Home: s.opts.Home})
	if st.OK {
		return ""
	}
	return "browsers do not trust devproxy's local CA yet (" + st.Store + ": " + st.Did + "): run " + st.Command + ", then reload the page"
}

// redirectToHTTPS answers a plain http:// request on the https port: a
// temporary redirect (307 keeps the method and body; a permanent one
// would stay in the browser's cache after https is turned off again).
func redirectToHTTPS(listen func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if host == "" {
			host = listen()
		}
		target := "https://" + host + r.URL.RequestURI()
		w.Header().Set("Location", target)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusTemporaryRedirect)
		_, _ = w.Write([]byte("devproxy serves https on this port: open " + target + "\n"))
	})
}
