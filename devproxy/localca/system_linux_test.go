package localca

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// systemChildEnv marks the copy of the test binary that runs inside a
// private mount namespace.
const systemChildEnv = "DEVPROXY_LOCALCA_SYSTEM_STORE_CHILD"

// TestSystemStore runs Trust and Untrust against the real
// update-ca-certificates, in a private mount namespace in which copies of
// /usr/local/share/ca-certificates and /etc/ssl/certs are mounted over
// the real ones: the machine's store is never touched.
func TestSystemStore(t *testing.T) {
	if os.Getenv(systemChildEnv) != "" {
		systemStoreChild(t)
		return
	}
	if testing.Short() {
		t.Skip("runs update-ca-certificates twice; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, for a private mount namespace")
	}
	for _, tool := range []string{"unshare", "update-ca-certificates", "cp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	if !isDir(debianAnchors) || !isDir("/etc/ssl/certs") {
		t.Skip("needs a Debian-style store (/usr/local/share/ca-certificates, /etc/ssl/certs)")
	}
	before, _ := filepath.Glob(filepath.Join(debianAnchors, "devproxy-*"))
	local, etc := t.TempDir(), t.TempDir()
	for _, c := range [][2]string{{debianAnchors, local}, {"/etc/ssl/certs", etc}} {
		if out, err := exec.Command("cp", "-a", c[0]+"/.", c[1]).CombinedOutput(); err != nil {
			t.Fatalf("cp -a %s: %v: %s", c[0], err, out)
		}
	}
	script := `mount --bind "$1" ` + debianAnchors + ` && mount --bind "$2" /etc/ssl/certs && exec "$3" -test.run '^TestSystemStore$' -test.v`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", local, etc, os.Args[0])
	cmd.Env = append(os.Environ(), systemChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "unshare failed") || strings.Contains(string(out), "mount:") {
			t.Skipf("no private mount namespace here: %s", out)
		}
		t.Fatalf("in a mount namespace: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestSystemStore") {
		t.Fatalf("the test did not run in the namespace:\n%s", out)
	}
	t.Logf("in a mount namespace:\n%s", out)
	after, _ := filepath.Glob(filepath.Join(debianAnchors, "devproxy-*"))
	if len(after) != len(before) {
		t.Errorf("the machine's %s changed: %v, was %v", debianAnchors, after, before)
	}
}

func systemStoreChild(t *testing.T) {
	const bundle = "/etc/ssl/certs/ca-certificates.crt"
	ca := testCA(t)
	ctx := context.Background()
	opts := TrustOptions{Home: t.TempDir()}
	file := filepath.Join(debianAnchors, "devproxy-"+ca.serialPrefix()+".crt")
	system := func(steps []Step) Step {
		for _, s := range steps {
			if strings.HasPrefix(s.Store, "system store") {
				return s
			}
		}
		t.Fatalf("no system store step in\n%s", stepsString(steps))
		return Step{}
	}
	inBundle := func() bool {
		b, err := os.ReadFile(bundle)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Contains(b, bytes.TrimSpace(ca.PEM()))
	}

	s := system(ca.Trust(ctx, opts))
	if !s.OK || s.Store != "system store (update-ca-certificates)" || s.Where != file || s.Did != "copied the CA and ran update-ca-certificates" {
		t.Fatalf("Trust: system step = %+v", s)
	}
	if !inBundle() {
		t.Errorf("after Trust: %s does not hold the CA", bundle)
	}
	// Go programs (and curl, and anything using the bundle) trust leaves
	// of the CA now.
	leaf, err := NewIssuer(ca, IssuerOptions{}).Certificate("localhost")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: pool}); err != nil {
		t.Errorf("after Trust: a leaf does not verify against the system pool: %v", err)
	}
	if s := system(ca.Trust(ctx, opts)); !s.OK || s.Did != "already trusts the CA" {
		t.Errorf("Trust again: system step = %+v", s)
	}

	s = system(ca.Untrust(ctx, opts))
	if !s.OK || s.Did != "removed the CA and ran update-ca-certificates" {
		t.Fatalf("Untrust: system step = %+v", s)
	}
	if inBundle() {
		t.Errorf("after Untrust: %s still holds the CA", bundle)
	}
	if _, err := os.Stat(file); err == nil {
		t.Errorf("after Untrust: %s still exists", file)
	}
	if s := system(ca.Untrust(ctx, opts)); !s.OK || s.Did != "did not have the CA" {
		t.Errorf("Untrust again: system step = %+v", s)
	}
}
