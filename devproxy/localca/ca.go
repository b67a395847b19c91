package localca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// The files of the CA in its folder.
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

// caValidity is how long a new CA is valid.
const caValidity = 10 * 365 * 24 * time.Hour

// Options says where the CA lives and how it is made.
type Options struct {
	// Dir is the folder of ca.pem and ca-key.pem. Empty means
	// DefaultDir().
	Dir string
	// Now is the clock, used for a new CA's validity and to refuse an
	// expired one. Nil means time.Now.
	Now func() time.Time
	// Owner names the CA's owner in its subject ("devproxy local CA
	// <Owner>"), so a trust store listing tells CAs of several people or
	// machines apart. Empty means user@host of the current process.
	Owner string
}

// CA is a loaded certificate authority: its certificate and private key.
type CA struct {
	// Cert is the CA certificate.
	Cert *x509.Certificate
	// CertPath and KeyPath are the files it was loaded from or written to.
	CertPath, KeyPath string
	// Created is true when Open made the CA just now.
	Created bool

	key     crypto.Signer
	certPEM []byte
}

// DefaultDir is the CA's folder: devproxy under the user's config folder
// (~/.config/devproxy on Linux, ~/Library/Application Support/devproxy on
// macOS, %AppData%\devproxy on Windows).
func DefaultDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the folder for devproxy's CA: %w", err)
	}
	return filepath.Join(dir, "devproxy"), nil
}

// Error is a problem with one of the CA's files, and what to do about it.
type Error struct {
	// Path is the file or folder at fault.
	Path string
	// Problem says what is wrong, in lower case.
	Problem string
	// Hint says what to do.
	Hint string
	// Err is the cause, if any (an *fs.PathError, say).
	Err error
}

func (e *Error) Error() string { return e.Path + ": " + e.Problem }

func (e *Error) Unwrap() error { return e.Err }

// resetHint is the way out of a CA that cannot be used.
func resetHint(dir string) string {
	return "delete " + filepath.Join(dir, CertFile) + " and " + filepath.Join(dir, KeyFile) +
		" to start with a new CA, then run devproxy trust again"
}

// PEM is the CA certificate in PEM form, as trust stores take it.
func (ca *CA) PEM() []byte { return ca.certPEM }

// Open loads the CA from its folder, or creates it there when neither file
// exists. A CA that cannot be used (a file unreadable, corrupt, missing its
// partner, the key readable by others, the certificate expired) is an
// *Error, never replaced: browsers may trust it already.
func Open(opts Options) (*CA, error) {
	dir, now, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	_, certErr := os.Lstat(certPath)
	keyInfo, keyErr := os.Lstat(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		ca, err := create(dir, opts.Owner, now())
		if !errors.Is(err, fs.ErrExist) {
			return ca, err
		}
		// Another devproxy created the key at the same moment: use its CA.
		_ = waitForFile(certPath, 5*time.Second)
	case errors.Is(certErr, fs.ErrNotExist) && keyErr == nil && time.Since(keyInfo.ModTime()) < time.Minute:
		// A fresh key without its certificate: another devproxy is
		// creating the CA, and writes the certificate right after the key.
		_ = waitForFile(certPath, 5*time.Second)
	}
	return load(dir, now())
}

// Load loads the CA like Open but never creates it: when neither file
// exists, the error wraps fs.ErrNotExist.
func Load(opts Options) (*CA, error) {
	dir, now, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	_, certErr := os.Lstat(certPath)
	_, keyErr := os.Lstat(keyPath)
	if errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist) {
		return nil, &Error{Path: certPath, Problem: "no CA yet", Err: certErr,
			Hint: "devproxy creates it when it first serves https, or run devproxy trust"}
	}
	return load(dir, now())
}

func (opts Options) resolve() (dir string, now func() time.Time, err error) {
	dir, now = opts.Dir, opts.Now
	if dir == "" {
		if dir, err = DefaultDir(); err != nil {
			return "", nil, err
		}
	}
	if now == nil {
		now = time.Now
	}
	return dir, now, nil
}

// load reads the CA's two files and checks they belong together.
func load(dir string, now time.Time) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	certPEM, err := readFile(certPath, dir)
	if err != nil {
		return nil, err
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, &Error{Path: certPath, Problem: "not a CA certificate: " + err.Error(), Hint: resetHint(dir)}
	}
	if err := checkKeyMode(keyPath); err != nil {
		return nil, err
	}
	keyPEM, err := readFile(keyPath, dir)
	if err != nil {
		return nil, err
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, &Error{Path: keyPath, Problem: "not a private key: " + err.Error(), Hint: resetHint(dir)}
	}
	if !publicKeyOf(key).Equal(cert.PublicKey) {
		return nil, &Error{Path: keyPath, Problem: "is not the key of " + certPath, Hint: resetHint(dir)}
	}
	if now.After(cert.NotAfter) {
		return nil, &Error{Path: certPath, Problem: "the CA expired on " + cert.NotAfter.Format(time.DateOnly), Hint: resetHint(dir)}
	}
	return &CA{Cert: cert, CertPath: certPath, KeyPath: keyPath, key: key, certPEM: certPEM}, nil
}

func readFile(path, dir string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, fs.ErrNotExist):
		other := KeyFile
		if filepath.Base(path) == KeyFile {
			other = CertFile
		}
		return nil, &Error{Path: path, Problem: "missing, but " + other + " exists", Err: err,
			Hint: "restore it from a backup, or " + resetHint(dir)}
	case errors.Is(err, fs.ErrPermission):
		return nil, &Error{Path: path, Problem: "cannot be read: permission denied", Err: err,
			Hint: "run devproxy as the user who owns it, or make it readable to you (chmod u+r " + path + ")"}
	}
	return nil, &Error{Path: path, Problem: "cannot be read: " + reason(err), Err: err, Hint: resetHint(dir)}
}

// checkKeyMode refuses a key that others than its owner may read: a key
// others can read lets them certify any site for this user's browsers.
func checkKeyMode(keyPath string) error {
	if runtime.GOOS == "windows" {
		return nil // mode bits say nothing there; the folder's ACL protects it
	}
	fi, err := os.Stat(keyPath)
	if err != nil {
		return nil // readFile reports it
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		return &Error{Path: keyPath, Problem: fmt.Sprintf("the CA key is readable by others (mode %04o)", mode),
			Hint: "run chmod 600 " + keyPath + "; if others may have read it, " + resetHint(filepath.Dir(keyPath))}
	}
	return nil
}

func parseCert(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, errors.New("the certificate is not a CA")
	}
	return cert, nil
}

func parseKey(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil || !strings.HasSuffix(block.Type, "PRIVATE KEY") {
		return nil, errors.New("no PEM PRIVATE KEY block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, errors.New("unsupported key type")
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("cannot decode the key")
}

func publicKeyOf(k crypto.Signer) interface{ Equal(crypto.PublicKey) bool } {
	return k.Public().(interface{ Equal(crypto.PublicKey) bool })
}

// create makes a new CA in dir. The key is linked into place only once
// written whole, and never over an existing file, so two processes that
// start at once end up with one CA: the loser gets an fs.ErrExist error.
func create(dir, owner string, now time.Time) (*CA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &Error{Path: dir, Problem: "cannot create the CA folder: " + reason(err), Err: err,
			Hint: "create it yourself (mkdir -p -m 700 " + dir + "), or fix its parent's permissions"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create the CA key: %w", err)
	}
	if owner == "" {
		owner = currentOwner()
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	ski := sha1.Sum(pub) // the subject key id is an identifier, not a security property
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject: pkix.Name{
			CommonName:         "devproxy local CA " + owner,
			Organization:       []string{"devproxy local CA"},
			OrganizationalUnit: []string{owner},
		},
		SubjectKeyId:          ski[:],
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	if err := writeNew(keyPath, keyPEM, 0o600, false); err != nil {
		return nil, err
	}
	if err := writeNew(certPath, certPEM, 0o644, true); err != nil {
		return nil, err
	}
	return &CA{Cert: cert, CertPath: certPath, KeyPath: keyPath, Created: true, key: key, certPEM: certPEM}, nil
}

// writeNew writes a temporary file in path's folder and moves it to path:
// replacing what is there, or, when replace is false, failing with an
// error that wraps fs.ErrExist if path exists.
func writeNew(path string, data []byte, mode os.FileMode, replace bool) error {
	fail := func(err error) error {
		return &Error{Path: path, Problem: "cannot write: " + reason(err), Err: err,
			Hint: "make " + filepath.Dir(path) + " writable to you"}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fail(err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if replace {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// waitForFile polls for path to appear, for a process creating it at the
// same time; there is no event to wait on across processes.
func waitForFile(path string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		_, err := os.Stat(path)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err.Error()
	}
	return err.Error()
}

func currentOwner() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return name + "@" + host
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}
