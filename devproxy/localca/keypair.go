package localca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"time"
)

// KeyPair is a certificate and key loaded from files, served for every
// name instead of the Issuer's leaves: for teams whose browsers trust
// another local CA already (mkcert's, say).
type KeyPair struct {
	cert *tls.Certificate
}

// LoadKeyPair reads a PEM certificate (its chain may follow it in the same
// file) and its PEM private key. now, when not nil, is the clock used to
// refuse an expired certificate. Problems are *Error values naming the
// file.
func LoadKeyPair(certFile, keyFile string, now func() time.Time) (*KeyPair, error) {
	for _, f := range []string{certFile, keyFile} {
		if _, err := os.ReadFile(f); err != nil {
			problem, hint := "cannot be read: "+reason(err), "check the path in the config's tls section"
			if errors.Is(err, fs.ErrNotExist) {
				problem = "no such file"
				hint = "check the path in the config's tls section; with mkcert, run mkcert localhost 127.0.0.1 ::1 to make the pair"
			}
			return nil, &Error{Path: f, Problem: problem, Hint: hint, Err: err}
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, &Error{Path: certFile, Problem: "cannot be used with " + keyFile + ": " + err.Error(),
			Hint: "give a PEM certificate and the PEM private key it was made with", Err: err}
	}
	if cert.Leaf == nil {
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, &Error{Path: certFile, Problem: "not a certificate: " + err.Error(), Err: err}
		}
		cert.Leaf = leaf
	}
	if now == nil {
		now = time.Now
	}
	if t := now(); t.After(cert.Leaf.NotAfter) {
		return nil, &Error{Path: certFile, Problem: "the certificate expired on " + cert.Leaf.NotAfter.Format(time.DateOnly),
			Hint: "make a new one (with mkcert: mkcert localhost 127.0.0.1 ::1)"}
	}
	return &KeyPair{cert: &cert}, nil
}

// GetCertificate is for tls.Config.GetCertificate: the pair's certificate,
// whatever the name.
func (k *KeyPair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) { return k.cert, nil }

// Leaf is the pair's certificate.
func (k *KeyPair) Leaf() *x509.Certificate { return k.cert.Leaf }
