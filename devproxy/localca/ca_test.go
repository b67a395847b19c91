package localca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA creates a CA in a fresh folder.
func testCA(t *testing.T) *CA {
	t.Helper()
	ca, err := Open(Options{Dir: filepath.Join(t.TempDir(), "devproxy"), Owner: "alice@box"})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestOpenCreatesThenLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config", "devproxy")
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ca, err := Open(Options{Dir: dir, Owner: "alice@box", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Created {
		t.Error("first Open: Created = false, want true")
	}
	if ca.CertPath != filepath.Join(dir, "ca.pem") || ca.KeyPath != filepath.Join(dir, "ca-key.pem") {
		t.Errorf("paths = %s, %s; want ca.pem and ca-key.pem in %s", ca.CertPath, ca.KeyPath, dir)
	}
	for _, f := range []struct {
		path string
		mode fs.FileMode
	}{{dir, 0o700}, {ca.KeyPath, 0o600}, {ca.CertPath, 0o644}} {
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != f.mode {
			t.Errorf("%s: mode = %04o, want %04o", f.path, got, f.mode)
		}
	}
	c := ca.Cert
	if want := "devproxy local CA alice@box"; c.Subject.CommonName != want {
		t.Errorf("subject CN = %q, want %q", c.Subject.CommonName, want)
	}
	if !c.IsCA || !c.MaxPathLenZero || c.MaxPathLen != 0 {
		t.Errorf("IsCA = %v, MaxPathLen = %d (zero %v); want a CA that signs no intermediates", c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
	}
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("public key = %T, want ECDSA P-256", c.PublicKey)
	}
	if got, want := c.NotAfter.Sub(now), 10*365*24*time.Hour; got != want {
		t.Errorf("validity from now = %v, want %v", got, want)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("not self-signed: %v", err)
	}

	again, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if again.Created {
		t.Error("second Open: Created = true, want false")
	}
	if !again.Cert.Equal(ca.Cert) || !again.key.Public().(*ecdsa.PublicKey).Equal(ca.key.Public()) {
		t.Error("second Open returned another CA, want the one on disk")
	}
	loaded, err := Load(Options{Dir: dir})
	if err != nil || !loaded.Cert.Equal(ca.Cert) {
		t.Errorf("Load = %v, %v; want the CA on disk", loaded, err)
	}
}

func TestLoadWithoutCA(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(Options{Dir: dir})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of an empty folder: err = %v, want one wrapping fs.ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CertFile)); err == nil {
		t.Error("Load created ca.pem, want nothing created")
	}
}

// TestOpenConcurrent starts many Opens on one empty folder at once: they
// must all end up with the same CA, not one pair per caller or a
// certificate of one with the key of another.
func TestOpenConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	cas := make([]*CA, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { cas[i], errs[i] = Open(Options{Dir: dir}) })
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		if !cas[i].Cert.Equal(cas[0].Cert) {
			t.Errorf("Open %d: another CA than Open 0", i)
		}
		if cas[i].Created {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d Opens say they created the CA, want 1", created)
	}
	if _, err := Open(Options{Dir: dir}); err != nil {
		t.Errorf("Open after the race: %v", err)
	}
}

func TestOpenRefusesBadFiles(t *testing.T) {
	const badKey = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
	other := testCA(t)
	otherKey, err := os.ReadFile(other.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		spoil       func(t *testing.T, ca *CA)
		now         time.Time
		wantFile    string // CertFile or KeyFile
		wantProblem string
		wantHint    string
	}{
		{"corrupt certificate", func(t *testing.T, ca *CA) { write(t, ca.CertPath, "garbage", 0o644) },
			time.Time{}, CertFile, "not a CA certificate: no PEM CERTIFICATE block", "delete "},
		{"truncated certificate", func(t *testing.T, ca *CA) {
			write(t, ca.CertPath, string(ca.PEM()[:200])+"\n-----END CERTIFICATE-----\n", 0o644)
		}, time.Time{}, CertFile, "not a CA certificate", "run devproxy trust again"},
		{"corrupt key", func(t *testing.T, ca *CA) { write(t, ca.KeyPath, badKey, 0o600) },
			time.Time{}, KeyFile, "not a private key", "delete "},
		{"key of another CA", func(t *testing.T, ca *CA) { write(t, ca.KeyPath, string(otherKey), 0o600) },
			time.Time{}, KeyFile, "is not the key of ", "delete "},
		{"key readable by others", func(t *testing.T, ca *CA) { chmod(t, ca.KeyPath, 0o644) },
			time.Time{}, KeyFile, "the CA key is readable by others (mode 0644)", "run chmod 600 "},
		{"key readable by the group", func(t *testing.T, ca *CA) { chmod(t, ca.KeyPath, 0o640) },
			time.Time{}, KeyFile, "(mode 0640)", "chmod 600"},
		{"key missing", func(t *testing.T, ca *CA) { remove(t, ca.KeyPath) },
			time.Time{}, KeyFile, "missing, but ca.pem exists", "restore it from a backup, or delete"},
		{"certificate missing", func(t *testing.T, ca *CA) {
			remove(t, ca.CertPath)
			// An old key: not one whose certificate another process is
			// about to write.
			hourAgo := time.Now().Add(-time.Hour)
			if err := os.Chtimes(ca.KeyPath, hourAgo, hourAgo); err != nil {
				t.Fatal(err)
			}
		},
			time.Time{}, CertFile, "missing, but ca-key.pem exists", "restore it"},
		{"certificate unreadable", func(t *testing.T, ca *CA) {
			remove(t, ca.CertPath)
			if err := os.Mkdir(ca.CertPath, 0o700); err != nil {
				t.Fatal(err)
			}
		}, time.Time{}, CertFile, "cannot be read: is a directory", "delete "},
		{"expired", func(t *testing.T, ca *CA) {}, time.Now().AddDate(11, 0, 0), CertFile, "the CA expired on ", "delete "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := testCA(t)
			tt.spoil(t, ca)
			opts := Options{Dir: filepath.Dir(ca.CertPath)}
			if !tt.now.IsZero() {
				opts.Now = func() time.Time { return tt.now }
			}
			_, err := Open(opts)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Open: err = %v, want an *Error", err)
			}
			wantPath := filepath.Join(opts.Dir, tt.wantFile)
			if e.Path != wantPath || !strings.Contains(e.Problem, tt.wantProblem) || !strings.Contains(e.Hint, tt.wantHint) {
				t.Errorf("Open: error %q, hint %q; want path %s, problem with %q, hint with %q", e, e.Hint, wantPath, tt.wantProblem, tt.wantHint)
			}
			if !strings.HasPrefix(err.Error(), wantPath+": ") {
				t.Errorf("Open: error %q does not start with the file", err)
			}
			// The files are left alone: browsers may trust this CA already.
			if _, err := os.Stat(ca.CertPath); tt.wantFile != CertFile && err != nil {
				t.Errorf("ca.pem gone after a failed Open: %v", err)
			}
		})
	}
}

func write(t *testing.T, path, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
