package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrustCommand runs devproxy trust and trust -uninstall with HOME in a
// temp dir. Only certutil is on PATH, so the system store step cannot run
// and must print its command: the test never changes this machine's store.
func TestTrustCommand(t *testing.T) {
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Skip("needs certutil: install it (apt-get install libnss3-tools) to run the trust command test")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	bin := t.TempDir()
	if err := os.Symlink(certutil, filepath.Join(bin, "certutil")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	caFile := filepath.Join(home, ".config", "devproxy", "ca.pem")
	nssdb := filepath.Join(home, ".pki", "nssdb")

	tests := []struct {
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{[]string{"trust", "-uninstall"}, 0, []string{"no local CA at " + caFile + ": nothing to remove\n"}, ""},
		{[]string{"trust"}, 1, []string{
			"created the local CA " + caFile + "\n",
			"ok    Chromium NSS database " + nssdb + ": created the database and added the CA\n",
			"FAIL  system store (update-ca-certificates) /usr/local/share/ca-certificates/devproxy-",
			": update-ca-certificates not found\n      error: neither update-ca-certificates nor trust (p11-kit) found\n      run: install ca-certificates, then run: ",
			"ok    Node.js " + caFile + ": Node does not read these stores: set this variable for Node processes (SSR, tests) that call devproxy\n" +
				"      NODE_EXTRA_CA_CERTS=" + caFile + "\n",
		}, "devproxy: error: 1 of 3 steps could not be done\ndevproxy: hint: run the commands above, then devproxy trust again to check\n"},
		{[]string{"trust"}, 1, []string{"local CA " + caFile + "\n", "ok    Chromium NSS database " + nssdb + ": already trusts the CA\n"}, ""},
		{[]string{"trust", "-uninstall"}, 0, []string{
			"ok    Chromium NSS database " + nssdb + ": removed the CA\n",
			"did not have the CA\n",
			"remove NODE_EXTRA_CA_CERTS where you set it\n",
		}, ""},
		{[]string{"trust", "now"}, 2, nil, `devproxy: error: unexpected argument "now"`},
		{[]string{"trust", "-h"}, 0, nil, "Examples:\n  devproxy trust "},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, tt.args...)
		ok := code == tt.wantCode && strings.Contains(stderr, tt.wantStderr)
		for _, w := range tt.wantStdout {
			ok = ok && strings.Contains(stdout, w)
		}
		if !ok {
			t.Errorf("devproxy %s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q",
				strings.Join(tt.args, " "), code, stdout, stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
		}
	}

	// A CA key others can read is refused, with what to do.
	if err := os.Chmod(filepath.Join(home, ".config", "devproxy", "ca-key.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "trust")
	key := filepath.Join(home, ".config", "devproxy", "ca-key.pem")
	want := "devproxy: error: " + key + ": the CA key is readable by others (mode 0644)\ndevproxy: hint: run chmod 600 " + key
	if code != 1 || !strings.HasPrefix(stderr, want) {
		t.Errorf("devproxy trust with an open key: exit %d, stderr %q; want exit 1, stderr starting %q", code, stderr, want)
	}
}
