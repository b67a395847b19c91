package localca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/syncbuf"
)

func TestCertificateNames(t *testing.T) {
	ca := testCA(t)
	iss := NewIssuer(ca, IssuerOptions{Hosts: []string{"MyApp.test", "192.168.1.50", "dev.example.com."}})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	accepted := []struct {
		name   string
		verify string // the name a client checks
	}{
		{"localhost", "localhost"},
		{"LocalHost.", "localhost"},
		{"app.localhost", "app.localhost"},
		{"a.b-c.localhost", "a.b-c.localhost"},
		{"127.0.0.1", "127.0.0.1"},
		{"::1", "::1"},
		{"myapp.test", "myapp.test"},
		{"MYAPP.TEST", "myapp.test"},
		{"dev.example.com", "dev.example.com"},
		{"192.168.1.50", "192.168.1.50"},
		{"::ffff:192.168.1.50", "192.168.1.50"},
	}
	for _, tt := range accepted {
		cert, err := iss.Certificate(tt.name)
		if err != nil {
			t.Errorf("Certificate(%q): %v", tt.name, err)
			continue
		}
		_, err = cert.Leaf.Verify(x509.VerifyOptions{DNSName: tt.verify, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("Certificate(%q) does not verify for %q: %v", tt.name, tt.verify, err)
		}
	}

	refused := []string{
		"example.com", "localhost.evil.com", "evil-localhost", "xlocalhost", "a..localhost",
		"-a.localhost", "a b.localhost", "myapp.test.evil", "sub.myapp.test",
		"10.0.0.1", "127.0.0.2", "::2", "",
	}
	for _, name := range refused {
		cert, err := iss.Certificate(name)
		var ne *NameError
		if !errors.As(err, &ne) {
			t.Errorf("Certificate(%q) = %v, %v; want a *NameError", name, cert, err)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("no certificate for %q", normalize(name))) ||
			!strings.Contains(err.Error(), "add it to allowed_hosts in the config: allowed_hosts: [") {
			t.Errorf("Certificate(%q): error %q, want the name and how to allow it", name, err)
		}
	}

	iss.SetHosts(nil)
	if _, err := iss.Certificate("myapp.test"); err == nil {
		t.Error(`after SetHosts(nil): Certificate("myapp.test") succeeded, want refused`)
	}
	if _, err := iss.Certificate("localhost"); err != nil {
		t.Errorf(`after SetHosts(nil): Certificate("localhost"): %v`, err)
	}
}

func TestLeafContents(t *testing.T) {
	ca := testCA(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	iss := NewIssuer(ca, IssuerOptions{Now: func() time.Time { return now }})
	cert, err := iss.Certificate("app.localhost")
	if err != nil {
		t.Fatal(err)
	}
	l := cert.Leaf
	if l.IsCA || len(l.ExtKeyUsage) != 1 || l.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("IsCA = %v, ExtKeyUsage = %v; want a server leaf", l.IsCA, l.ExtKeyUsage)
	}
	if got, want := l.NotAfter.Sub(now), 7*24*time.Hour; got != want {
		t.Errorf("validity from now = %v, want %v", got, want)
	}
	if !l.NotBefore.Before(now) {
		t.Errorf("NotBefore = %v, want before now (%v)", l.NotBefore, now)
	}
	if len(cert.Certificate) != 1 {
		t.Errorf("chain has %d certificates, want the leaf only", len(cert.Certificate))
	}
	if got := fmt.Sprint(l.DNSNames, l.IPAddresses); got != "[app.localhost] []" {
		t.Errorf("names = %s, want [app.localhost] []", got)
	}
	lo, err := iss.Certificate("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(lo.Leaf.DNSNames, lo.Leaf.IPAddresses); got != "[localhost] [127.0.0.1 ::1]" {
		t.Errorf("loopback names = %s, want [localhost] [127.0.0.1 ::1]", got)
	}
	if six, _ := iss.Certificate("::1"); six != lo {
		t.Error(`Certificate("::1") is not the certificate of 127.0.0.1, want one loopback certificate`)
	}

	// A leaf never outlives its CA.
	late := ca.Cert.NotAfter.Add(-48 * time.Hour)
	cert, err = NewIssuer(ca, IssuerOptions{Now: func() time.Time { return late }}).Certificate("localhost")
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Leaf.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("leaf near the CA's end: NotAfter = %v, want the CA's %v", cert.Leaf.NotAfter, ca.Cert.NotAfter)
	}
}

// clock is a settable time for the cache tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestCacheAndRenewal(t *testing.T) {
	ca := testCA(t)
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clk := &clock{now: start}
	iss := NewIssuer(ca, IssuerOptions{Now: clk.Now})
	first, err := iss.Certificate("localhost")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at       time.Duration // from start
		wantSame bool          // the cached leaf, or a new one
	}{
		{time.Minute, true},
		{5 * 24 * time.Hour, true},
		{6*24*time.Hour - time.Minute, true}, // 1 day and 1 minute left
		{6*24*time.Hour + time.Minute, false},
	}
	for _, s := range steps {
		clk.set(start.Add(s.at))
		got, err := iss.Certificate("localhost")
		if err != nil {
			t.Fatal(err)
		}
		if same := got == first; same != s.wantSame {
			t.Errorf("at start+%v: same leaf = %v, want %v", s.at, same, s.wantSame)
		}
		if !s.wantSame && !got.Leaf.NotAfter.Equal(start.Add(s.at+7*24*time.Hour)) {
			t.Errorf("renewed leaf: NotAfter = %v, want now + 7 days", got.Leaf.NotAfter)
		}
	}
}

func TestCacheBound(t *testing.T) {
	iss := NewIssuer(testCA(t), IssuerOptions{CacheSize: 2})
	get := func(name string) *tls.Certificate {
		t.Helper()
		c, err := iss.Certificate(name)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := get("a.localhost"), get("b.localhost")
	if get("a.localhost") != a { // a is now the most recently used
		t.Fatal("a.localhost: not cached")
	}
	get("c.localhost") // drops b, the least recently used
	if get("a.localhost") != a {
		t.Error("a.localhost: dropped, want kept (recently used)")
	}
	if get("b.localhost") == b {
		t.Error("b.localhost: kept, want dropped (cache of 2)")
	}
	if n := iss.lru.Len(); n != 2 {
		t.Errorf("cache holds %d leaves, want 2", n)
	}
}

// TestConcurrentHandshakes asks for a few names from many goroutines at
// once: every caller of one name gets the same leaf, minted once.
func TestConcurrentHandshakes(t *testing.T) {
	iss := NewIssuer(testCA(t), IssuerOptions{CacheSize: 3})
	names := []string{"localhost", "a.localhost", "b.localhost", "c.localhost", "127.0.0.1"}
	const perName = 20
	var mu sync.Mutex
	got := map[string]map[*tls.Certificate]bool{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, name := range names {
		got[name] = map[*tls.Certificate]bool{}
		for range perName {
			wg.Go(func() {
				<-start
				c, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: name})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[name][c] = true
				mu.Unlock()
			})
		}
	}
	close(start)
	wg.Wait()
	// With a cache of 3 for 5 names a name may be dropped and minted again
	// between callers; never more than a few times.
	for name, certs := range got {
		if len(certs) == 0 || len(certs) > perName/2 {
			t.Errorf("%s: %d distinct leaves for %d callers", name, len(certs), perName)
		}
	}
	if n := iss.lru.Len(); n > 3 {
		t.Errorf("cache holds %d leaves, want at most 3", n)
	}

	// With room for all, each name is minted exactly once.
	iss = NewIssuer(testCA(t), IssuerOptions{})
	var all sync.Map
	for _, name := range names {
		for range perName {
			wg.Go(func() {
				c, err := iss.Certificate(name)
				if err != nil {
					t.Error(err)
					return
				}
				if prev, loaded := all.LoadOrStore(name, c); loaded && prev != c {
					t.Errorf("%s: two leaves minted, want one", name)
				}
			})
		}
	}
	wg.Wait()
}

// tlsServer serves HTTP/2 and HTTP/1.1 over TLS on 127.0.0.1 with the
// certificates of get; its handshake errors go to errLog.
func tlsServer(t *testing.T, get func(*tls.ClientHelloInfo) (*tls.Certificate, error), errLog io.Writer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s %s", r.Proto, r.Host, r.TLS.ServerName)
		}),
		TLSConfig: &tls.Config{GetCertificate: get},
		ErrorLog:  log.New(errLog, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeTLS(ln, "", "")
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// client trusts only roots and connects every host name to addr.
func client(roots *x509.CertPool, addr string) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}}
}

// TestTLSHandshake puts an Issuer behind a real TLS server and connects
// with Go clients that trust only the CA, over HTTP/2 and HTTP/1.1.
func TestTLSHandshake(t *testing.T) {
	ca := testCA(t)
	iss := NewIssuer(ca, IssuerOptions{Hosts: []string{"myapp.test"}})
	var errLog syncbuf.Buffer
	addr := tlsServer(t, iss.GetCertificate, &errLog)
	_, port, _ := net.SplitHostPort(addr)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	h2 := client(roots, addr)

	tests := []struct {
		url  string
		want string // the body: protocol, Host, SNI
	}{
		{"https://localhost:" + port + "/", "HTTP/2.0 localhost:" + port + " localhost"},
		{"https://app.localhost:" + port + "/", "HTTP/2.0 app.localhost:" + port + " app.localhost"},
		{"https://myapp.test:" + port + "/", "HTTP/2.0 myapp.test:" + port + " myapp.test"},
		// An IP address is sent without SNI: the loopback certificate.
		{"https://127.0.0.1:" + port + "/", "HTTP/2.0 127.0.0.1:" + port + " "},
	}
	for _, tt := range tests {
		resp, err := h2.Get(tt.url)
		if err != nil {
			t.Errorf("GET %s: %v", tt.url, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tt.want {
			t.Errorf("GET %s: body = %q, want %q", tt.url, body, tt.want)
		}
	}

	// HTTP/1.1 by ALPN gets the same certificates.
	h1 := client(roots, addr)
	h1.Transport.(*http.Transport).ForceAttemptHTTP2 = false
	h1.Transport.(*http.Transport).TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	resp, err := h1.Get("https://localhost:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Proto != "HTTP/1.1" {
		t.Errorf("HTTP/1.1 client: proto = %s, want HTTP/1.1", resp.Proto)
	}

	// A name outside the allowed set: the handshake fails, and the server
	// log says which name and how to allow it.
	_, err = h2.Get("https://evil.test:" + port + "/")
	if err == nil || !strings.Contains(err.Error(), "tls: internal error") {
		t.Errorf("GET https://evil.test: err = %v, want the handshake refused", err)
	}
	want := `no certificate for "evil.test": devproxy certifies only localhost, *.localhost, 127.0.0.1, ::1 and allowed_hosts; ` +
		`to use this name for this machine, add it to allowed_hosts in the config: allowed_hosts: [evil.test]`
	if err := waitFor(func() bool { return strings.Contains(errLog.String(), want) }); err != nil {
		t.Errorf("server log = %q, want a line with %q", errLog.String(), want)
	}

	// A client that trusts another CA refuses the leaf.
	other := x509.NewCertPool()
	other.AddCert(testCA(t).Cert)
	if _, err := client(other, addr).Get("https://localhost:" + port + "/"); err == nil ||
		!strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("GET with another CA trusted: err = %v, want unknown authority", err)
	}
}

// TestNoSNIOnIPv6 connects to [::1] by address, so without SNI, and
// checks the loopback certificate covers it.
func TestNoSNIOnIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	ln.Close()
	ca := testCA(t)
	iss := NewIssuer(ca, IssuerOptions{})
	ln, err = tls.Listen("tcp", "[::1]:0", &tls.Config{GetCertificate: iss.GetCertificate})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots})
	if err != nil {
		t.Fatalf("TLS to %s without SNI: %v", ln.Addr(), err)
	}
	conn.Close()
}

// TestNoSNIOnOtherAddress: a connection without SNI to an address that is
// not loopback gets that address's certificate when it is allowed, and is
// refused, naming the address, when it is not.
func TestNoSNIOnOtherAddress(t *testing.T) {
	iss := NewIssuer(testCA(t), IssuerOptions{Hosts: []string{"192.168.1.50"}})
	for _, tt := range []struct {
		local   string
		wantIP  string
		wantErr string
	}{
		{"192.168.1.50:8443", "192.168.1.50", ""},
		{"10.1.2.3:8443", "", `no certificate for "10.1.2.3"`},
		{"127.0.0.1:8443", "127.0.0.1", ""},
	} {
		hello := &tls.ClientHelloInfo{Conn: fakeConn{local: tt.local}}
		cert, err := iss.GetCertificate(hello)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("no SNI on %s: err = %v, want %q", tt.local, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("no SNI on %s: %v", tt.local, err)
		case cert.Leaf.VerifyHostname(tt.wantIP) != nil:
			t.Errorf("no SNI on %s: certificate for %v, want %s", tt.local, cert.Leaf.IPAddresses, tt.wantIP)
		}
	}
}

// fakeConn is a net.Conn with a given local address: a machine's LAN
// address cannot be counted on in a test.
type fakeConn struct {
	net.Conn
	local string
}

func (c fakeConn) LocalAddr() net.Addr {
	a, _ := net.ResolveTCPAddr("tcp", c.local)
	return a
}

// waitFor polls cond for up to 10 seconds: the server logs a handshake
// error on its own goroutine after the client has seen the alert.
func waitFor(cond func() bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}
