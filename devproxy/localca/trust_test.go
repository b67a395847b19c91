package localca

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// needCertutil returns certutil's path, or skips the test.
func needCertutil(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the NSS tests run on Linux")
	}
	p, err := exec.LookPath("certutil")
	if err != nil {
		t.Skip("needs certutil: install it (apt-get install libnss3-tools) to run the NSS tests")
	}
	return p
}

// pathWith leaves only the given programs on PATH, so that Trust never
// reaches the machine's system store (update-ca-certificates, trust) from
// a test: its step must then say what to run instead.
func pathWith(t *testing.T, programs ...string) {
	t.Helper()
	bin := t.TempDir()
	for _, p := range programs {
		if err := os.Symlink(p, filepath.Join(bin, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
}

// newFirefoxProfile makes an empty Firefox profile certificate database.
func newFirefoxProfile(t *testing.T, certutil, home string) string {
	t.Helper()
	dir := filepath.Join(home, ".mozilla", "firefox", "x1y2z3.default-release")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(certutil, "-N", "--empty-password", "-d", "sql:"+dir).CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v: %s", err, out)
	}
	return dir
}

// listed returns certutil -L's line for nick in the database dir.
func listed(t *testing.T, certutil, dir, nick string) string {
	t.Helper()
	out, err := exec.Command(certutil, "-L", "-d", "sql:"+dir).CombinedOutput()
	if err != nil {
		t.Fatalf("certutil -L -d %s: %v: %s", dir, err, out)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(line, nick) {
			return strings.Join(strings.Fields(strings.TrimPrefix(line, nick)), " ")
		}
	}
	return ""
}

type wantStep struct {
	store string
	where string
	did   string
	ok    bool
	cmd   string // Command starts with it
}

func checkSteps(t *testing.T, op string, got []Step, want []wantStep) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d steps, want %d:\n%s", op, len(got), len(want), stepsString(got))
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Store != w.store || g.Where != w.where || g.Did != w.did || g.OK != w.ok || !strings.HasPrefix(g.Command, w.cmd) || (w.cmd == "" && g.Command != "") {
			t.Errorf("%s: step %d = %+v\nwant store %q, where %q, did %q, ok %v, command %q…", op, i, g, w.store, w.where, w.did, w.ok, w.cmd)
		}
		if g.OK != (g.Err == nil) {
			t.Errorf("%s: step %d: OK = %v with Err = %v", op, i, g.OK, g.Err)
		}
	}
}

func stepsString(steps []Step) string {
	var b strings.Builder
	for _, s := range steps {
		fmt.Fprintf(&b, "  %+v\n", s)
	}
	return b.String()
}

func sudo() string {
	if os.Geteuid() == 0 {
		return ""
	}
	return "sudo "
}

func TestTrustNSS(t *testing.T) {
	certutil := needCertutil(t)
	pathWith(t, certutil)
	home := t.TempDir()
	firefox := newFirefoxProfile(t, certutil, home)
	ca := testCA(t)
	opts := TrustOptions{Home: home}
	ctx := context.Background()
	chromium := filepath.Join(home, ".pki", "nssdb")
	sysFile := filepath.Join(debianAnchors, "devproxy-"+ca.serialPrefix()+".crt")
	system := wantStep{"system store (update-ca-certificates)", sysFile, "update-ca-certificates not found", false,
		"install ca-certificates, then run: " + sudo() + "cp " + ca.CertPath + " " + sysFile + " && " + sudo() + "update-ca-certificates"}
	node := wantStep{"Node.js", ca.CertPath, "Node does not read these stores: set this variable for Node processes (SSR, tests) that call devproxy",
		true, "NODE_EXTRA_CA_CERTS=" + ca.CertPath}

	if s := ca.Trusted(ctx, opts); s.OK || s.Err != nil || s.Did != "no database" || s.Command != "devproxy trust" {
		t.Errorf("Trusted before Trust = %+v; want not OK, no database, the command devproxy trust", s)
	}
	checkSteps(t, "Trust", ca.Trust(ctx, opts), []wantStep{
		{"Chromium NSS database", chromium, "created the database and added the CA", true, ""},
		{"Firefox profile", firefox, "added the CA", true, ""},
		system, node,
	})
	for _, dir := range []string{chromium, firefox} {
		if got := listed(t, certutil, dir, ca.Nickname()); got != "C,," {
			t.Errorf("certutil -L -d %s: %q has trust %q, want C,, (trusted to identify web sites)", dir, ca.Nickname(), got)
		}
	}
	if fi, err := os.Stat(chromium); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, %v; want a folder of mode 0700", chromium, fi.Mode(), err)
	}
	if s := ca.Trusted(ctx, opts); !s.OK || s.Err != nil || s.Did != "trusts the CA" || s.Where != chromium || s.Command != "" {
		t.Errorf("Trusted after Trust = %+v; want OK", s)
	}

	checkSteps(t, "Trust again", ca.Trust(ctx, opts), []wantStep{
		{"Chromium NSS database", chromium, "already trusts the CA", true, ""},
		{"Firefox profile", firefox, "already trusts the CA", true, ""},
		system, node,
	})

	// The CA listed but no longer trusted for web sites (its flags
	// edited by hand): Trust sets them again.
	if out, err := exec.Command(certutil, "-M", "-d", "sql:"+chromium, "-n", ca.Nickname(), "-t", ",,").CombinedOutput(); err != nil {
		t.Fatalf("certutil -M: %v: %s", err, out)
	}
	if s := ca.Trusted(ctx, opts); s.OK {
		t.Fatalf("Trusted with the flags cleared = %+v, want not OK", s)
	}
	if s := ca.Trust(ctx, opts)[0]; !s.OK || s.Did != "trusted the CA for web sites again" {
		t.Errorf("Trust with the flags cleared: step 0 = %+v, want the CA trusted again", s)
	}
	if got := listed(t, certutil, chromium, ca.Nickname()); got != "C,," {
		t.Errorf("after Trust: %q has trust %q, want C,,", ca.Nickname(), got)
	}

	// A second CA (made after the files were deleted) goes in beside the
	// first under its own nickname, and Untrust of it leaves the first.
	ca2 := testCA(t)
	ca2.Trust(ctx, opts)
	ca2.Untrust(ctx, opts)
	if got := listed(t, certutil, chromium, ca.Nickname()); got != "C,," {
		t.Errorf("after Untrust of another CA: %q has trust %q, want C,,", ca.Nickname(), got)
	}

	gone := wantStep{"system store (update-ca-certificates)", sysFile, "did not have the CA", true, ""}
	nodeOff := wantStep{"Node.js", ca.CertPath, "remove NODE_EXTRA_CA_CERTS where you set it", true, ""}
	checkSteps(t, "Untrust", ca.Untrust(ctx, opts), []wantStep{
		{"Chromium NSS database", chromium, "removed the CA", true, ""},
		{"Firefox profile", firefox, "removed the CA", true, ""},
		gone, nodeOff,
	})
	for _, dir := range []string{chromium, firefox} {
		if got := listed(t, certutil, dir, ca.Nickname()); got != "" {
			t.Errorf("after Untrust: certutil -L -d %s lists %q (%s), want it gone", dir, ca.Nickname(), got)
		}
	}
	if s := ca.Trusted(ctx, opts); s.OK || s.Err != nil || s.Did != "does not trust the CA" || s.Command != "devproxy trust" {
		t.Errorf("Trusted after Untrust = %+v; want not OK with the command devproxy trust", s)
	}
	checkSteps(t, "Untrust again", ca.Untrust(ctx, opts), []wantStep{
		{"Chromium NSS database", chromium, "did not have the CA", true, ""},
		{"Firefox profile", firefox, "did not have the CA", true, ""},
		gone, nodeOff,
	})
}

// TestTrustWithoutCertutil: every step says what to install and the
// exact commands, and those commands, run as printed, do the job.
func TestTrustWithoutCertutil(t *testing.T) {
	certutil := needCertutil(t)
	shell, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("needs sh")
	}
	mkdir, err := exec.LookPath("mkdir")
	if err != nil {
		t.Skip("needs mkdir")
	}
	pathWith(t)
	home := t.TempDir()
	ca := testCA(t)
	opts := TrustOptions{Home: home}
	ctx := context.Background()
	steps := ca.Trust(ctx, opts)
	chromium := filepath.Join(home, ".pki", "nssdb")
	want := certutilInstall + ", then run: mkdir -p " + chromium + " && certutil -N --empty-password -d sql:" + chromium +
		" && certutil -A -d sql:" + chromium + " -t C,, -n '" + ca.Nickname() + "' -i " + ca.CertPath
	s := steps[0]
	if s.Store != "Chromium NSS database" || s.OK || s.Err == nil || s.Err.Error() != "certutil not found" || s.Command != want {
		t.Fatalf("Trust without certutil: step 0 = %+v\nwant command %q", s, want)
	}
	if _, err := os.Stat(chromium); err == nil {
		t.Errorf("%s created without certutil, want nothing done", chromium)
	}
	if s := ca.Trusted(ctx, opts); s.OK || s.Err == nil || s.Command != certutilInstall+", then run devproxy trust" {
		t.Errorf("Trusted without certutil = %+v; want not OK, an error and the install hint", s)
	}

	// Run the printed command, certutil now installed.
	pathWith(t, certutil, mkdir)
	_, cmd, _ := strings.Cut(s.Command, ", then run: ")
	if out, err := exec.Command(shell, "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("sh -c %q: %v: %s", cmd, err, out)
	}
	if s := ca.Trusted(ctx, opts); !s.OK {
		t.Errorf("Trusted after running the printed command = %+v; want OK", s)
	}
}
