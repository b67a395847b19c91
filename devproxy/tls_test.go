package devproxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/devproxy/localca"
)

// httpsProxy is a devproxy serving https with a local CA of its own, and
// the clients that trust only that CA.
type httpsProxy struct {
	*testProxy
	port  string
	roots *x509.CertPool
	h2    *http.Client // offers h2 and HTTP/1.1, as a browser does
	h1    *http.Client // offers HTTP/1.1 only
}

// startHTTPSProxy serves config over https (the -https flag) with a CA in
// a temp folder.
func startHTTPSProxy(t *testing.T, config string) *httpsProxy {
	t.Helper()
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	must(t, os.WriteFile(file, []byte(config), 0o644))
	caDir, home := t.TempDir(), t.TempDir()
	p := serveTest(t, file, func(o *Options) {
		o.HTTPS, o.CADir, o.Home = true, caDir, home
	}, nil)
	ca, err := localca.Load(localca.Options{Dir: caDir})
	if err != nil {
		t.Fatalf("the CA devproxy made: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	_, port, _ := net.SplitHostPort(p.host)
	hp := &httpsProxy{testProxy: p, port: port, roots: roots, h2: tlsClient(roots, true), h1: tlsClient(roots, false)}
	p.url = "https://localhost:" + port
	return hp
}

// tlsClient trusts roots only; h2 says whether it offers HTTP/2.
func tlsClient(roots *x509.CertPool, h2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: h2}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	tr.Protocols.SetHTTP2(h2)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// httpsBackend is an API and dev server in one: it echoes what reached it
// and answers the paths the tests ask for.
func httpsBackend(t *testing.T, events chan string) string {
	ws := wsEchoHandler(t, "echo:", nil)
	be := namedHandlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ws":
			ws(w, r)
		case "/api/echo":
			fmt.Fprintf(w, "proto=%s\nxfp=%s\nxfh=%s\n", r.Proto, r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"))
		case "/api/login":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "1", Path: "/", Domain: "127.0.0.1", Secure: true, HttpOnly: true})
			w.Header().Set("Location", "http://"+r.Host+"/api/home")
			w.WriteHeader(http.StatusFound)
		case "/api/upload":
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
		case "/api/events":
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			for {
				select {
				case ev, ok := <-events:
					if !ok {
						return
					}
					fmt.Fprintf(w, "data: %s\n\n", ev)
					w.(http.Flusher).Flush()
				case <-r.Context().Done():
					return
				}
			}
		default:
			io.WriteString(w, "dev server: "+r.URL.Path)
		}
	}))
	return be
}

func namedHandlerServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestHTTPSServesEveryRouteKind(t *testing.T) {
	events := make(chan string)
	be := httpsBackend(t, events)
	p := startHTTPSProxy(t, "frontend: "+be+"\nroutes:\n  /api: "+be+"\n  /mock:\n    respond: {json: {ok: true}}\n")
	for _, c := range []struct {
		name   string
		client *http.Client
		proto  string
	}{
		{"h2", p.h2, "HTTP/2.0"},
		{"h1", p.h1, "HTTP/1.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, tc := range []struct {
				path, want string
			}{
				{"/api/echo", "proto=HTTP/1.1\nxfp=https\nxfh=localhost:" + p.port + "\n"},
				{"/mock", `{"ok":true}`},
				{"/app/main.ts", "dev server: /app/main.ts"},
			} {
				res, body := fetch(t, c.client, "GET", p.url+tc.path, nil, nil)
				if res.StatusCode != 200 || strings.TrimSpace(body) != strings.TrimSpace(tc.want) {
					t.Errorf("GET %s over %s: %d %q, want 200 %q", tc.path, c.name, res.StatusCode, body, tc.want)
				}
				if res.Proto != c.proto {
					t.Errorf("GET %s: proto %s, want %s", tc.path, res.Proto, c.proto)
				}
			}

			// A target's http:// redirect and its cookie stay on
			// devproxy's https origin.
			res, _ := fetch(t, c.client, "GET", p.url+"/api/login", nil, nil)
			if loc := res.Header.Get("Location"); loc != p.url+"/api/home" {
				t.Errorf("GET /api/login: Location %q, want %q", loc, p.url+"/api/home")
			}
			if ck := res.Header.Get("Set-Cookie"); !strings.Contains(ck, "Secure") || strings.Contains(ck, "Domain=127.0.0.1") {
				t.Errorf("GET /api/login: Set-Cookie %q, want Secure and no target domain", ck)
			}

			// Uploads of several windows' worth.
			payload := bytes.Repeat([]byte("devproxy upload "), 1<<19) // 8 MB
			sum := sha256.Sum256(payload)
			res, body := fetch(t, c.client, "POST", p.url+"/api/upload", bytes.NewReader(payload), nil)
			if want := fmt.Sprintf("%d %x", len(payload), sum); res.StatusCode != 200 || body != want {
				t.Errorf("POST /api/upload: %d %q, want 200 %q", res.StatusCode, body, want)
			}

			// The status endpoint says which protocol asked.
			res, body = fetch(t, c.client, "GET", p.url+"/__devproxy/status", nil, nil)
			wantProto := map[string]string{"h2": `"protocol": "h2"`, "h1": `"protocol": "HTTP/1.1"`}[c.name]
			if res.StatusCode != 200 || !strings.Contains(body, wantProto) || !strings.Contains(body, `"url": "https://localhost:`+p.port+`"`) {
				t.Errorf("GET /__devproxy/status over %s: %s, want %s and the https url", c.name, body, wantProto)
			}
		})
	}
	p.log.waitFor(t, "/api/echo", " h2\n")
}

func TestHTTPSServesStaticFolder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"dist/index.html": "<!doctype html><title>app</title>", "dist/app.js": "console.log(1)"})
	file := filepath.Join(dir, "devproxy.yaml")
	must(t, os.WriteFile(file, []byte("https: true\nfrontend: ./dist\n"), 0o644))
	caDir := t.TempDir()
	p := serveTest(t, file, func(o *Options) { o.CADir, o.Home = caDir, t.TempDir() }, nil)
	ca, err := localca.Load(localca.Options{Dir: caDir})
	must(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	_, port, _ := net.SplitHostPort(p.host)
	res, body := fetch(t, tlsClient(roots, true), "GET", "https://localhost:"+port+"/app.js", nil, nil)
	if res.StatusCode != 200 || body != "console.log(1)" || res.ProtoMajor != 2 {
		t.Errorf("GET /app.js: %d %s %q, want 200 over h2 with the file", res.StatusCode, res.Proto, body)
	}
}

func TestHTTPSEventStreamFlushedPerEvent(t *testing.T) {
	for _, name := range []string{"h2", "h1"} {
		t.Run(name, func(t *testing.T) {
			events := make(chan string)
			be := httpsBackend(t, events)
			p := startHTTPSProxy(t, "routes:\n  /api: "+be+"\n")
			defer close(events)
			c := map[string]*http.Client{"h2": p.h2, "h1": p.h1}[name]
			res, err := c.Get(p.url + "/api/events")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			br := bufio.NewReader(res.Body)
			for _, ev := range []string{"one", "two", "three"} {
				// The next event is sent only after the last one arrived.
				select {
				case events <- ev:
				case <-time.After(waitTimeout):
					t.Fatalf("the backend never asked for event %s", ev)
				}
				line, err := br.ReadString('\n')
				if err != nil || line != "data: "+ev+"\n" {
					t.Fatalf("event %s: %q %v", ev, line, err)
				}
				if _, err := br.ReadString('\n'); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestHTTPSWebSocketOverHTTP1(t *testing.T) {
	be := httpsBackend(t, nil)
	p := startHTTPSProxy(t, "frontend: "+be+"\n")
	// A browser opens an HTTP/1.1 TLS connection for a WebSocket when the
	// server does not offer extended CONNECT over HTTP/2.
	c, err := tls.Dial("tcp", p.host, &tls.Config{RootCAs: p.roots, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	ws, res, err := wsHandshake(c, "https://localhost:"+p.port+"/ws", nil)
	if err != nil || ws == nil {
		t.Fatalf("WebSocket handshake over https: %v %v", res, err)
	}
	defer ws.close()
	must(t, ws.send([]byte("hmr")))
	msg, err := ws.recv()
	if err != nil || string(msg) != "echo:hmr" {
		t.Errorf("echo: %q %v, want echo:hmr", msg, err)
	}
}

// h2Settings reads the server's first SETTINGS frame on a fresh HTTP/2
// connection.
func h2Settings(t *testing.T, c net.Conn) map[uint16]uint32 {
	t.Helper()
	_, err := io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
	must(t, err)
	typ, payload := h2Frame(t, c)
	if typ != 0x4 {
		t.Fatalf("first frame type %d, want SETTINGS", typ)
	}
	settings := map[uint16]uint32{}
	for i := 0; i+6 <= len(payload); i += 6 {
		settings[binary.BigEndian.Uint16(payload[i:])] = binary.BigEndian.Uint32(payload[i+2:])
	}
	return settings
}

func h2Frame(t *testing.T, c net.Conn) (byte, []byte) {
	t.Helper()
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("read an HTTP/2 frame: %v", err)
	}
	n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
	payload := make([]byte, n)
	if _, err := io.ReadFull(c, payload); err != nil {
		t.Fatal(err)
	}
	return hdr[3], payload
}

// TestHTTP2SettingsAndGoaway pins the HTTP/2 settings a browser sees (no
// RFC 8441 extended CONNECT, room for a page of hundreds of modules) and
// the GOAWAY at shutdown.
func TestHTTP2SettingsAndGoaway(t *testing.T) {
	p := startHTTPSProxy(t, "routes:\n  /x:\n    respond: {body: hi}\n")
	c, err := tls.Dial("tcp", p.host, &tls.Config{RootCAs: p.roots, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.ConnectionState().NegotiatedProtocol; got != "h2" {
		t.Fatalf("ALPN: %q, want h2", got)
	}
	must(t, c.SetDeadline(time.Now().Add(waitTimeout)))
	st := h2Settings(t, c)
	const enableConnectProtocol, maxConcurrentStreams, initialWindowSize = 0x8, 0x3, 0x4
	if v, ok := st[enableConnectProtocol]; ok && v != 0 {
		t.Errorf("SETTINGS_ENABLE_CONNECT_PROTOCOL = %d, want off: WebSockets go over HTTP/1.1", v)
	}
	if st[maxConcurrentStreams] < 1000 {
		t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS = %d, want at least 1000", st[maxConcurrentStreams])
	}
	if st[initialWindowSize] < 1<<20 {
		t.Errorf("SETTINGS_INITIAL_WINDOW_SIZE = %d, want at least 1 MB", st[initialWindowSize])
	}
	stopped := make(chan struct{})
	go func() { p.stop(); close(stopped) }()
	for {
		typ, _ := h2Frame(t, c)
		if typ == 0x7 {
			break // GOAWAY
		}
	}
	c.Close()
	<-stopped
}

func TestHTTPSCertificateNames(t *testing.T) {
	p := startHTTPSProxy(t, "allowed_hosts: [myapp.test]\nroutes:\n  /x:\n    respond: {body: hi}\n")
	handshake := func(serverName string) (*x509.Certificate, error) {
		c, err := tls.Dial("tcp", p.host, &tls.Config{RootCAs: p.roots, ServerName: serverName, InsecureSkipVerify: serverName == ""})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0], nil
	}
	for _, name := range []string{"localhost", "app.localhost", "myapp.test"} {
		if _, err := handshake(name); err != nil {
			t.Errorf("handshake for %s: %v, want a trusted certificate", name, err)
		}
	}
	// No server name (the client was given an IP address): the loopback
	// certificate, good for 127.0.0.1 and ::1.
	leaf, err := handshake("")
	if err != nil {
		t.Fatal(err)
	}
	opts := x509.VerifyOptions{Roots: p.roots}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		opts.DNSName = ip
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("certificate without SNI for %s: %v", ip, err)
		}
	}
	for _, name := range []string{"example.com", "other.test"} {
		if _, err := handshake(name); err == nil {
			t.Errorf("handshake for %s succeeded, want it refused", name)
		}
	}

	// allowed_hosts follows the config.
	saveByRename(t, p.file, "allowed_hosts: [other.test]\nroutes:\n  /x:\n    respond: {body: reloaded}\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	if _, err := handshake("other.test"); err != nil {
		t.Errorf("handshake for other.test after the reload: %v", err)
	}
	if _, err := handshake("myapp.test"); err == nil {
		t.Error("handshake for myapp.test after it left allowed_hosts succeeded, want it refused")
	}
	// Hot reload of the config reaches requests over h2.
	res, body := fetch(t, p.h2, "GET", p.url+"/x", nil, nil)
	if res.StatusCode != 200 || body != "reloaded" {
		t.Errorf("GET /x after the reload: %d %q, want 200 reloaded", res.StatusCode, body)
	}
}

func TestHTTPSRedirectsPlainHTTP(t *testing.T) {
	p := startHTTPSProxy(t, "routes:\n  /x:\n    respond: {body: hi}\n")
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, method := range []string{"GET", "POST"} {
		res, body := fetch(t, plain, method, "http://localhost:"+p.port+"/x/y?q=1", strings.NewReader("b"), nil)
		want := "https://localhost:" + p.port + "/x/y?q=1"
		if res.StatusCode != http.StatusTemporaryRedirect || res.Header.Get("Location") != want {
			t.Errorf("%s http:// on the https port: %d Location %q, want 307 %q", method, res.StatusCode, res.Header.Get("Location"), want)
		}
		if !strings.Contains(body, "serves https") {
			t.Errorf("%s http:// on the https port: body %q, want it to say why", method, body)
		}
	}
	// The https side still answers on the same port.
	p.wantBody(t, "/x", "hi")
}

func (p *httpsProxy) wantBody(t *testing.T, path, want string) {
	t.Helper()
	res, body := fetch(t, p.h2, "GET", p.url+path, nil, nil)
	if res.StatusCode != 200 || body != want {
		t.Errorf("GET %s: %d %q, want 200 %q", path, res.StatusCode, body, want)
	}
}

func TestHTTPSBanner(t *testing.T) {
	p := startHTTPSProxy(t, "routes:\n  /x:\n    respond: {body: hi}\n")
	p.log.waitFor(t, "open https://localhost:"+p.port, "browsers do not trust devproxy's local CA yet", "devproxy trust")
}

// writeKeyPair writes cert.pem and key.pem for localhost into dir, issued
// by a CA of its own and not devproxy's, and returns that CA.
func writeKeyPair(t *testing.T, dir string) *localca.CA {
	t.Helper()
	other, err := localca.Open(localca.Options{Dir: t.TempDir()})
	must(t, err)
	leaf, err := localca.NewIssuer(other, localca.IssuerOptions{}).Certificate("localhost")
	must(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]}), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return other
}

// TestHTTPSKeyPairFromConfig serves the certificate of a tls block, for
// every name, and nothing from the local CA.
func TestHTTPSKeyPairFromConfig(t *testing.T) {
	dir := t.TempDir()
	other := writeKeyPair(t, dir)
	file := filepath.Join(dir, "devproxy.yaml")
	must(t, os.WriteFile(file, []byte("tls: {cert: cert.pem, key: key.pem}\nroutes:\n  /x:\n    respond: {body: pair}\n"), 0o644))
	caDir := filepath.Join(t.TempDir(), "unused")
	p := serveTest(t, file, func(o *Options) { o.CADir = caDir }, nil)
	roots := x509.NewCertPool()
	roots.AddCert(other.Cert)
	_, port, _ := net.SplitHostPort(p.host)
	res, body := fetch(t, tlsClient(roots, true), "GET", "https://localhost:"+port+"/x", nil, nil)
	if res.StatusCode != 200 || body != "pair" {
		t.Errorf("GET /x with the tls block's certificate: %d %q", res.StatusCode, body)
	}
	c, err := tls.Dial("tcp", p.host, &tls.Config{RootCAs: roots, ServerName: "anything.example", InsecureSkipVerify: true})
	must(t, err)
	if got := c.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "localhost" {
		t.Errorf("certificate for anything.example: %q, want the pair's", got)
	}
	c.Close()
	if _, err := os.Stat(caDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a tls block made the local CA at %s: %v", caDir, err)
	}
	if strings.Contains(p.log.String(), "do not trust") {
		t.Errorf("banner with a tls block warns about the local CA:\n%s", p.log.String())
	}
}

// TestHTTP2SlowCallDoesNotStallOthers: on one HTTP/2 connection a slow
// API call leaves the module loads beside it free to finish.
func TestHTTP2SlowCallDoesNotStallOthers(t *testing.T) {
	p := startHTTPSProxy(t, "routes:\n  /slow:\n    respond: {body: slow, delay: 3s}\n  /fast:\n    respond: {body: fast}\n")
	p.wantBody(t, "/fast", "fast") // the connection is open
	slow := make(chan string, 1)
	go func() {
		res, err := p.h2.Get(p.url + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		slow <- string(b)
	}()
	for i := range 50 {
		res, body := fetch(t, p.h2, "GET", p.url+"/fast", nil, nil)
		if body != "fast" || res.ProtoMajor != 2 {
			t.Fatalf("GET /fast #%d: %s %q", i, res.Proto, body)
		}
	}
	select {
	case got := <-slow:
		t.Errorf("the slow call finished (%q) before 50 fast ones, want them beside it", got)
	default:
	}
	if got := <-slow; got != "slow" {
		t.Errorf("GET /slow: %q", got)
	}
}

// TestReloadSwitchesHTTPS pins that https: true saved over a running plain
// config takes effect at once on the same port, as a listen change does:
// the next TLS request is served, a plain one gets the redirect, a
// request in flight on the old listener finishes, and saving https off
// again sends the open HTTP/2 connections a GOAWAY and serves plain http.
func TestReloadSwitchesHTTPS(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	slowAPI := namedHandlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		io.WriteString(w, "slow")
	}))
	routes := "routes:\n  /x:\n    respond: {body: hi}\n  /slow: " + slowAPI + "\n"
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	must(t, os.WriteFile(file, []byte(routes), 0o644))
	caDir := t.TempDir()
	p := serveTest(t, file, func(o *Options) { o.CADir, o.Home = caDir, t.TempDir() }, nil)
	_, port, _ := net.SplitHostPort(p.host)
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if res, body := fetch(t, plain, "GET", "http://localhost:"+port+"/x", nil, nil); res.StatusCode != 200 || body != "hi" {
		t.Fatalf("GET http:// /x before the switch: %d %q", res.StatusCode, body)
	}

	// A request in flight on the plain listener when https is switched on.
	slow := make(chan string, 1)
	go func() {
		res, err := plain.Get("http://localhost:" + port + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		slow <- fmt.Sprintf("%d %s", res.StatusCode, b)
	}()
	<-arrived
	saveByRename(t, file, "https: true\n"+routes)
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "config reloaded: https on with the local CA, now https://localhost:"+port+" (http:// requests get a redirect)",
		"browsers do not trust devproxy's local CA yet")
	close(release)
	if got := <-slow; got != "200 slow" {
		t.Errorf("GET /slow in flight across the switch: %q, want 200 slow", got)
	}
	ca, err := localca.Load(localca.Options{Dir: caDir})
	if err != nil {
		t.Fatalf("the CA the switch made: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	h2 := tlsClient(roots, true)
	res, body := fetch(t, h2, "GET", "https://localhost:"+port+"/x", nil, nil)
	if res.StatusCode != 200 || body != "hi" || res.ProtoMajor != 2 {
		t.Errorf("GET https:// /x after the switch: %d %q over %s, want 200 hi over HTTP/2", res.StatusCode, body, res.Proto)
	}
	res, _ = fetch(t, plain, "GET", "http://localhost:"+port+"/x?q=1", nil, nil)
	if want := "https://localhost:" + port + "/x?q=1"; res.StatusCode != http.StatusTemporaryRedirect || res.Header.Get("Location") != want {
		t.Errorf("GET http:// /x after the switch: %d Location %q, want 307 %q", res.StatusCode, res.Header.Get("Location"), want)
	}
	if got, want := p.srv.OpenURL(), "https://localhost:"+port; got != want {
		t.Errorf("OpenURL() after the switch = %q, want %q", got, want)
	}

	// Back to plain http: an open HTTP/2 connection is told to go away.
	c, err := tls.Dial("tcp", p.host, &tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{"h2"}})
	must(t, err)
	defer c.Close()
	must(t, c.SetDeadline(time.Now().Add(waitTimeout)))
	h2Settings(t, c)
	saveByRename(t, file, routes)
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	for {
		if typ, _ := h2Frame(t, c); typ == 0x7 {
			break // GOAWAY
		}
	}
	p.log.waitFor(t, "config reloaded: https off, now http://localhost:"+port)
	if res, body := fetch(t, plain, "GET", "http://localhost:"+port+"/x", nil, nil); res.StatusCode != 200 || body != "hi" {
		t.Errorf("GET http:// /x after https off: %d %q, want 200 hi", res.StatusCode, body)
	}
	if _, err := h2.Get("https://localhost:" + port + "/x"); err == nil {
		t.Error("GET https:// /x after https off succeeded, want a failed handshake")
	}
}

// TestReloadSwitchesTLSPair pins that a tls block saved over the local CA
// (and a broken one after it) takes effect on save: new connections get
// the pair's certificate; a pair that cannot be used keeps the running
// one and says why.
func TestReloadSwitchesTLSPair(t *testing.T) {
	dir := t.TempDir()
	other := writeKeyPair(t, dir)
	must(t, os.WriteFile(filepath.Join(dir, "empty.pem"), nil, 0o644))
	const routes = "routes:\n  /x:\n    respond: {body: hi}\n"
	file := filepath.Join(dir, "devproxy.yaml")
	must(t, os.WriteFile(file, []byte("https: true\n"+routes), 0o644))
	caDir := t.TempDir()
	p := serveTest(t, file, func(o *Options) { o.CADir, o.Home = caDir, t.TempDir() }, nil)
	_, port, _ := net.SplitHostPort(p.host)
	issuer := func() string {
		c, err := tls.Dial("tcp", p.host, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Issuer.String()
	}
	local := issuer()

	saveByRename(t, file, "tls: {cert: cert.pem, key: key.pem}\n"+routes)
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "config reloaded: tls the local CA → cert.pem, new connections get it")
	if got, want := issuer(), other.Cert.Subject.String(); got != want {
		t.Errorf("certificate issuer after the tls block was saved: %q, want the pair's %q", got, want)
	}
	roots := x509.NewCertPool()
	roots.AddCert(other.Cert)
	if res, body := fetch(t, tlsClient(roots, true), "GET", "https://localhost:"+port+"/x", nil, nil); res.StatusCode != 200 || body != "hi" {
		t.Errorf("GET /x with the pair trusted: %d %q", res.StatusCode, body)
	}

	saveByRename(t, file, "tls: {cert: empty.pem, key: key.pem}\n"+routes)
	if err := p.waitReload(t); err == nil {
		t.Fatal("a tls block with an empty certificate was applied, want it refused")
	}
	p.log.waitFor(t, "config error, kept previous config: https: "+filepath.Join(dir, "empty.pem")+": cannot be used with",
		"hint: give a PEM certificate and the PEM private key it was made with")
	if got, want := issuer(), other.Cert.Subject.String(); got != want {
		t.Errorf("certificate issuer after a refused tls block: %q, want the running pair's %q", got, want)
	}

	saveByRename(t, file, "https: true\n"+routes)
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "config reloaded: tls cert.pem → the local CA")
	if got := issuer(); got != local {
		t.Errorf("certificate issuer after the tls block was removed: %q, want the local CA's %q", got, local)
	}
}

// TestReloadKeepsHTTPSFlag pins that -https wins over a save that turns
// https off, as -listen wins over listen.
func TestReloadKeepsHTTPSFlag(t *testing.T) {
	const routes = "routes:\n  /x:\n    respond: {body: hi}\n"
	p := startHTTPSProxy(t, "https: true\n"+routes)
	saveByRename(t, p.file, routes)
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	p.log.waitFor(t, "config reloaded: https: false ignored: -https wins")
	p.wantBody(t, "/x", "hi")
}
