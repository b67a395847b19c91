package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHostsAddsAndRemovesTheSiteNames(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "devproxy.yaml")
	must(t, os.WriteFile(cfg, []byte("name: shop\nfrontend: http://localhost:5173\nallowed_hosts: [shop.test]\nsites:\n  admin.localhost: {frontend: http://localhost:5174}\n  shop.test: {frontend: http://localhost:5175}\n  \"*.tenants.localhost\": {frontend: http://localhost:5176}\n"), 0o644))
	hosts := filepath.Join(dir, "hosts")
	const user = "127.0.0.1 localhost\n::1 localhost\n"
	must(t, os.WriteFile(hosts, []byte(user), 0o600))
	block := "# devproxy begin " + cfg + "\n127.0.0.1 shop.localhost admin.localhost shop.test\n::1 shop.localhost admin.localhost shop.test\n# devproxy end " + cfg + "\n"

	for _, tc := range []struct {
		name       string
		args       []string
		wantStdout string
		wantStderr string
		wantFile   string
	}{
		{"add", []string{"hosts", "-config", cfg, "-file", hosts}, hosts + ": shop.localhost admin.localhost shop.test now resolve to 127.0.0.1 and ::1\n",
			"devproxy: warning: *.tenants.localhost cannot go in a hosts file", user + block},
		{"add again", []string{"hosts", "-config", cfg, "-file", hosts}, hosts + " already lists shop.localhost admin.localhost shop.test\n", "", user + block},
		{"-name wins", []string{"hosts", "-config", cfg, "-file", hosts, "-name", "fix.shop"}, "fix.shop.localhost admin.localhost", "",
			user + strings.ReplaceAll(block, " shop.localhost", " fix.shop.localhost")},
		{"remove", []string{"hosts", "-config", cfg, "-file", hosts, "-remove"}, "removed the lines of " + cfg + " from " + hosts + "\n", "", user},
		{"remove again", []string{"hosts", "-config", cfg, "-file", hosts, "-remove"}, "nothing to remove", "", user},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			got, err := os.ReadFile(hosts)
			must(t, err)
			if code != 0 || !strings.Contains(stdout, tc.wantStdout) || !strings.Contains(stderr, tc.wantStderr) || string(got) != tc.wantFile {
				t.Errorf("devproxy %s: exit %d, stdout %q, stderr %q, file:\n%s\nwant exit 0, stdout with %q, stderr with %q, file:\n%s",
					strings.Join(tc.args, " "), code, stdout, stderr, got, tc.wantStdout, tc.wantStderr, tc.wantFile)
			}
			if st, _ := os.Stat(hosts); st.Mode().Perm() != 0o600 {
				t.Errorf("hosts file mode = %v, want 0600 kept", st.Mode().Perm())
			}
		})
	}
}

func TestHostsWithoutPermissionPrintsTheLines(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write a read-only file")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "devproxy.yaml")
	must(t, os.WriteFile(cfg, []byte("sites:\n  admin.localhost: {frontend: http://localhost:5174}\n"), 0o644))
	hosts := filepath.Join(dir, "hosts")
	must(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o444))
	code, _, stderr := runCLI(t, "hosts", "-config", cfg, "-file", hosts)
	want := "devproxy: error: cannot write " + hosts + ": permission denied\ndevproxy: hint: run it as root (sudo devproxy hosts), or add these lines to " + hosts + " yourself:\n127.0.0.1 admin.localhost\n::1 admin.localhost\n"
	if code != 1 || stderr != want {
		t.Errorf("devproxy hosts on a read-only file: exit %d, stderr %q, want 1, %q", code, stderr, want)
	}
}

func TestHostsWithNoNames(t *testing.T) {
	cfg := writeConfig(t, "frontend: http://localhost:5173\n")
	code, _, stderr := runCLI(t, "hosts", "-config", cfg, "-file", filepath.Join(t.TempDir(), "hosts"))
	if code != 1 || !strings.Contains(stderr, "devproxy: error: no names to add") {
		t.Errorf("devproxy hosts with no names: exit %d, stderr %q, want 1 and no names to add", code, stderr)
	}
}

// must fails the test at once when a setup step failed.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
