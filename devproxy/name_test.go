package devproxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devproxy/devproxy/internal/status"
)

func TestNameServesTheTopLevelByName(t *testing.T) {
	top, admin := namedBackend(t, "top").URL, namedBackend(t, "admin").URL
	config := fmt.Sprintf("name: shop\nfrontend: %s\nsites:\n  admin.localhost: {frontend: %s}\n", top, admin)
	for _, tc := range []struct {
		name, flag, host string
	}{
		{"name key", "", "shop.localhost"},
		{"-name wins over the key", "Fix-Login.shop", "fix-login.shop.localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "devproxy.yaml")
			must(t, os.WriteFile(file, []byte(config), 0o644))
			p := startProxyOpts(t, file, func(o *Options) { o.Name = tc.flag })
			c := namedClient(p, nil)
			for host, want := range map[string]string{tc.host: "top", "localhost": "top", "127.0.0.1": "top", "admin.localhost": "admin"} {
				if res, body := fetch(t, c, "GET", p.siteURL(host, "/"), nil, nil); res.StatusCode != 200 || body != want {
					t.Errorf("GET / on %s: got %d %q, want 200 %q", host, res.StatusCode, body, want)
				}
			}
			other := map[string]string{"name key": "fix-login.shop.localhost", "-name wins over the key": "shop.localhost"}[tc.name]
			if res, _ := fetch(t, c, "GET", p.siteURL(other, "/"), nil, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET / on %s: status = %d, want 404 with the sites", other, res.StatusCode)
			}
			open := strings.TrimSuffix(p.siteURL(tc.host, "/"), "/")
			p.log.waitFor(t, "➜ open "+open+"  (also http://localhost:")
			if got := p.srv.OpenURL(); got != open {
				t.Errorf("OpenURL() = %q, want %q", got, open)
			}
			_, body := fetch(t, c, "GET", p.siteURL("localhost", status.Path), nil, nil)
			var st status.Status
			if err := json.Unmarshal([]byte(body), &st); err != nil || st.Name != tc.host {
				t.Errorf("status: %s, want name %q", body, tc.host)
			}
		})
	}
}

func TestNameFlagThatIsASite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "devproxy.yaml")
	must(t, os.WriteFile(file, []byte("frontend: ./\nsites:\n  admin.localhost: {frontend: ./}\n"), 0o644))
	_, err := New(Options{ConfigFile: file, Name: "admin"})
	if err == nil || err.Error() != "-name admin: admin.localhost is also a site in "+file+", on line 3; choose another name" {
		t.Errorf("New with -name of a site: %v, want the clash named", err)
	}
}

// git runs git in dir with a config of its own, failing the test when it
// fails.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=dev", "-c", "user.email=dev@example.invalid"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// TestNameFromGitWorktrees: with no name, the main checkout is served as
// REPO.localhost and a linked worktree as BRANCH.REPO.localhost, from a
// real git init and git worktree add.
func TestNameFromGitWorktrees(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	root := t.TempDir()
	repo := filepath.Join(root, "shop")
	must(t, os.MkdirAll(repo, 0o755))
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "commit", "-q", "--allow-empty", "-m", "start")
	worktree := filepath.Join(root, "shop-login")
	git(t, repo, "worktree", "add", "-q", "-b", "feature/login", worktree)

	for _, tc := range []struct {
		dir, host string
	}{
		{repo, "shop.localhost"},
		{worktree, "feature-login.shop.localhost"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			app := namedBackend(t, filepath.Base(tc.dir)).URL
			p := startProxyIn(t, tc.dir, "frontend: "+app+"\nsites:\n  admin.localhost: {routes: {/x: {respond: {body: admin}}}}\n", nil)
			c := namedClient(p, nil)
			if res, body := fetch(t, c, "GET", p.siteURL(tc.host, "/"), nil, nil); res.StatusCode != 200 || body != filepath.Base(tc.dir) {
				t.Errorf("GET / on %s: got %d %q, want 200 %q", tc.host, res.StatusCode, body, filepath.Base(tc.dir))
			}
			p.log.waitFor(t, "➜ open "+strings.TrimSuffix(p.siteURL(tc.host, "/"), "/"))
		})
	}
}
