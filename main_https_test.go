package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devproxy/devproxy/devproxy/localca"
)

// TestBinaryHTTPSFlag runs devproxy -https with HOME in a temp dir: it
// creates the local CA under that HOME's config folder, serves TLS with
// HTTP/2 that a client trusting only that CA accepts, and answers a plain
// http:// request on the same port with a redirect to https.
func TestBinaryHTTPSFlag(t *testing.T) {
	bin := buildBinary(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	cfg := writeConfig(t, "listen: 127.0.0.1:0\nroutes:\n  /api/hello:\n    respond: {body: hi}\n")
	p := startBinary(t, bin, "-https", "-config", cfg)
	port, ok := strings.CutPrefix(p.url, "https://localhost:")
	if !ok {
		t.Fatalf("devproxy -https printed URL %q, want https://localhost:PORT", p.url)
	}
	caFile := filepath.Join(home, ".config", "devproxy", "ca.pem")
	ca, err := localca.Load(localca.Options{Dir: filepath.Dir(caFile)})
	if err != nil {
		t.Fatalf("the CA devproxy -https made at %s: %v", caFile, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get(p.url + "/api/hello")
	if err != nil {
		t.Fatalf("GET %s/api/hello trusting only the CA in %s: %v", p.url, caFile, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "hi" || res.Proto != "HTTP/2.0" {
		t.Errorf("GET %s/api/hello: %d %q over %s, want 200 \"hi\" over HTTP/2.0", p.url, res.StatusCode, body, res.Proto)
	}

	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = plain.Get("http://localhost:" + port + "/api/hello?x=1")
	if err != nil {
		t.Fatalf("GET http:// on the https port: %v", err)
	}
	res.Body.Close()
	if want := "https://localhost:" + port + "/api/hello?x=1"; res.StatusCode != http.StatusTemporaryRedirect || res.Header.Get("Location") != want {
		t.Errorf("GET http:// on the https port: %d Location %q, want 307 %q", res.StatusCode, res.Header.Get("Location"), want)
	}
}
