package localca

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/syncbuf"
)

// writePair writes the issuer's leaf for name as PEM files, as mkcert
// would make them.
func writePair(t *testing.T, iss *Issuer, name string) (certFile, keyFile string) {
	t.Helper()
	cert, err := iss.Certificate(name)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	write(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})), 0o644)
	write(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})), 0o600)
	return certFile, keyFile
}

func TestKeyPairServedForEveryName(t *testing.T) {
	ca := testCA(t)
	certFile, keyFile := writePair(t, NewIssuer(ca, IssuerOptions{Hosts: []string{"team.test"}}), "team.test")
	kp, err := LoadKeyPair(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := kp.Leaf().DNSNames; len(got) != 1 || got[0] != "team.test" {
		t.Errorf("Leaf().DNSNames = %v, want [team.test]", got)
	}
	var errLog syncbuf.Buffer
	addr := tlsServer(t, kp.GetCertificate, &errLog)
	_, port, _ := net.SplitHostPort(addr)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	resp, err := client(roots, addr).Get("https://team.test:" + port + "/")
	if err != nil {
		t.Fatalf("GET https://team.test: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "HTTP/2.0 team.test:" + port + " team.test"; string(body) != want {
		t.Errorf("GET https://team.test: body = %q, want %q", body, want)
	}
	// The pair is served whatever the name; the client judges it.
	for _, name := range []string{"localhost", "anything.example", ""} {
		c, err := kp.GetCertificate(&tls.ClientHelloInfo{ServerName: name})
		if err != nil || c.Leaf.DNSNames[0] != "team.test" {
			t.Errorf("GetCertificate(%q) = %v, %v; want the pair", name, c, err)
		}
	}
}

func TestKeyPairErrors(t *testing.T) {
	ca := testCA(t)
	iss := NewIssuer(ca, IssuerOptions{})
	certFile, keyFile := writePair(t, iss, "localhost")
	_, otherKey := writePair(t, iss, "a.localhost")
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	write(t, garbage, "not pem", 0o644)
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name        string
		cert, key   string
		now         time.Time
		wantPath    string
		wantProblem string
		wantHint    string
	}{
		{"missing cert", missing, keyFile, time.Time{}, missing, "no such file", "mkcert localhost 127.0.0.1 ::1"},
		{"missing key", certFile, missing, time.Time{}, missing, "no such file", "check the path in the config's tls section"},
		{"unreadable cert", dir, keyFile, time.Time{}, dir, "cannot be read: is a directory", "check the path"},
		{"corrupt cert", garbage, keyFile, time.Time{}, garbage, "cannot be used with " + keyFile + ": tls: failed to find any PEM data in certificate input", "PEM certificate"},
		{"key of another cert", certFile, otherKey, time.Time{}, certFile, "private key does not match public key", "the PEM private key it was made with"},
		{"expired", certFile, keyFile, time.Now().AddDate(0, 1, 0), certFile, "the certificate expired on ", "make a new one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var now func() time.Time
			if !tt.now.IsZero() {
				now = func() time.Time { return tt.now }
			}
			_, err := LoadKeyPair(tt.cert, tt.key, now)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("LoadKeyPair: err = %v, want an *Error", err)
			}
			if e.Path != tt.wantPath || !strings.Contains(e.Problem, tt.wantProblem) || !strings.Contains(e.Hint, tt.wantHint) {
				t.Errorf("LoadKeyPair: error %q, hint %q; want path %s, problem with %q, hint with %q", e, e.Hint, tt.wantPath, tt.wantProblem, tt.wantHint)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("LoadKeyPair created a file")
	}
}
