package localca

import (
	"container/list"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// IssuerOptions tunes an Issuer.
type IssuerOptions struct {
	// Hosts are the names certified besides localhost, *.localhost,
	// 127.0.0.1 and ::1: host names or IP addresses, compared without
	// regard to case (the config's allowed_hosts). Nil means none.
	Hosts []string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Validity is how long a leaf certificate is valid. Zero means 7 days.
	Validity time.Duration
	// Renew is how long before its end a cached leaf is replaced by a new
	// one. Zero means a seventh of Validity (1 day of 7).
	Renew time.Duration
	// CacheSize is how many leaves are kept; past it the least recently
	// used is dropped. Zero means 256.
	CacheSize int
}

// Issuer mints leaf certificates signed by a CA, one per name, on demand,
// and keeps them until they near their end. It is safe for concurrent use:
// handshakes that ask for the same new name at once wait for one mint.
type Issuer struct {
	ca       *CA
	now      func() time.Time
	validity time.Duration
	renew    time.Duration
	size     int
	hosts    atomic.Pointer[hostSet]

	mu    sync.Mutex
	lru   *list.List               // of *leaf, most recently used first
	cache map[string]*list.Element // by name
}

// leaf is one cached certificate, or one being minted until ready closes.
type leaf struct {
	name  string
	ready chan struct{}
	cert  *tls.Certificate // set before ready closes
	err   error            // set before ready closes
}

// loopbackKey is the cache key of the certificate for connections without
// a server name.
const loopbackKey = ""

// NewIssuer returns an Issuer that signs with ca.
func NewIssuer(ca *CA, opts IssuerOptions) *Issuer {
	i := &Issuer{ca: ca, now: opts.Now, validity: opts.Validity, renew: opts.Renew, size: opts.CacheSize,
		lru: list.New(), cache: map[string]*list.Element{}}
	if i.now == nil {
		i.now = time.Now
	}
	if i.validity <= 0 {
		i.validity = 7 * 24 * time.Hour
	}
	if i.renew <= 0 {
		i.renew = i.validity / 7
	}
	if i.size <= 0 {
		i.size = 256
	}
	i.SetHosts(opts.Hosts)
	return i
}

// SetHosts replaces the allowed hosts (on a config reload). Cached leaves
// of names no longer allowed are never served again.
func (i *Issuer) SetHosts(hosts []string) {
	set := &hostSet{names: map[string]bool{}, addrs: map[netip.Addr]bool{}}
	for _, h := range hosts {
		h = normalize(h)
		if a, err := netip.ParseAddr(h); err == nil {
			set.addrs[a.Unmap()] = true
		} else if h != "" {
			set.names[h] = true
		}
	}
	i.hosts.Store(set)
}

// hostSet is an immutable allow-list.
type hostSet struct {
	names map[string]bool
	addrs map[netip.Addr]bool
}

// NameError is a name the Issuer refuses to certify.
type NameError struct {
	// Name is the server name asked for, or the IP address of a
	// connection that sent none.
	Name string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("no certificate for %q: devproxy certifies only localhost, *.localhost, 127.0.0.1, ::1 "+
		"and allowed_hosts; to use this name for this machine, add it to allowed_hosts in the config: allowed_hosts: [%s]",
		e.Name, e.Name)
}

// GetCertificate is for tls.Config.GetCertificate: the leaf for the
// handshake's server name (SNI). A client that sends none (it was given an
// IP address) gets the certificate of the address it connected to: the
// loopback one (127.0.0.1 and ::1) for a loopback address.
func (i *Issuer) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello.ServerName != "" {
		return i.Certificate(hello.ServerName)
	}
	if hello.Conn != nil {
		if a, ok := localAddr(hello.Conn); ok && !a.IsLoopback() {
			return i.Certificate(a.String())
		}
	}
	return i.get(loopbackKey)
}

func localAddr(c net.Conn) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap().WithZone(""), true
}

// Certificate returns the leaf for name (a host name or an IP address),
// minting it when it is not cached or nears its end. A name outside the
// allowed set is a *NameError.
func (i *Issuer) Certificate(name string) (*tls.Certificate, error) {
	name = normalize(name)
	if a, err := netip.ParseAddr(name); err == nil {
		a = a.Unmap()
		if a == loopback4() || a == loopback6() {
			return i.get(loopbackKey)
		}
		if !i.hosts.Load().addrs[a] {
			return nil, &NameError{Name: name}
		}
		return i.get(a.String())
	}
	if !i.allowedName(name) {
		return nil, &NameError{Name: name}
	}
	return i.get(name)
}

// The loopback addresses, which share the loopback certificate.
func loopback4() netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, 1}) }
func loopback6() netip.Addr { return netip.IPv6Loopback() }

func normalize(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

func (i *Issuer) allowedName(name string) bool {
	if !validHostName(name) {
		return false
	}
	return name == "localhost" || strings.HasSuffix(name, ".localhost") || i.hosts.Load().names[name]
}

// validHostName reports whether name is made of DNS labels: letters,
// digits and hyphens, 1 to 63 each, 253 in all.
func validHostName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// get returns the cached leaf for key, or mints it; concurrent callers for
// one key share one mint.
func (i *Issuer) get(key string) (*tls.Certificate, error) {
	now := i.now()
	i.mu.Lock()
	if el, ok := i.cache[key]; ok {
		l := el.Value.(*leaf)
		select {
		case <-l.ready:
			if l.err == nil && l.cert.Leaf.NotAfter.Sub(now) > i.renew {
				i.lru.MoveToFront(el)
				i.mu.Unlock()
				return l.cert, nil
			}
			i.lru.Remove(el)
			delete(i.cache, key)
		default:
			i.lru.MoveToFront(el)
			i.mu.Unlock()
			<-l.ready
			return l.cert, l.err
		}
	}
	l := &leaf{name: key, ready: make(chan struct{})}
	i.cache[key] = i.lru.PushFront(l)
	for i.lru.Len() > i.size {
		old := i.lru.Back()
		i.lru.Remove(old)
		delete(i.cache, old.Value.(*leaf).name)
	}
	i.mu.Unlock()

	l.cert, l.err = i.mint(key, now)
	if l.err != nil {
		i.mu.Lock()
		if el, ok := i.cache[key]; ok && el.Value == l {
			i.lru.Remove(el)
			delete(i.cache, key)
		}
		i.mu.Unlock()
	}
	close(l.ready)
	return l.cert, l.err
}

// mint signs a new leaf for key: a host name, an IP address, or
// loopbackKey.
func (i *Issuer) mint(key string, now time.Time) (*tls.Certificate, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create a key for %q: %w", key, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"devproxy development certificate"}},
		NotBefore:             now.Add(-time.Hour), // a little slack for a guest VM's clock
		NotAfter:              now.Add(i.validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if tmpl.NotAfter.After(i.ca.Cert.NotAfter) {
		tmpl.NotAfter = i.ca.Cert.NotAfter
	}
	switch a, err := netip.ParseAddr(key); {
	case key == loopbackKey:
		tmpl.Subject.CommonName = "localhost"
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{loopback4().AsSlice(), loopback6().AsSlice()}
	case err == nil:
		tmpl.Subject.CommonName = key
		tmpl.IPAddresses = []net.IP{a.AsSlice()}
	default:
		tmpl.Subject.CommonName = key
		tmpl.DNSNames = []string{key}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, i.ca.Cert, priv.Public(), i.ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign a certificate for %q: %w", key, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: cert}, nil
}
