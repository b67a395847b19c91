package gitname

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// run runs git in dir, failing the test when it fails.
func run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=dev", "-c", "user.email=dev@example.invalid"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestNameFromRealCheckouts(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	// The user's git config must not change the names.
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	root := t.TempDir()
	repo := filepath.Join(root, "My_Shop")
	if err := os.MkdirAll(filepath.Join(repo, "web", "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, repo, "init", "-q", "-b", "main")
	run(t, repo, "commit", "-q", "--allow-empty", "-m", "start")
	run(t, repo, "worktree", "add", "-q", "-b", "fix/Login_Form", filepath.Join(root, "shop-fix"))
	run(t, repo, "worktree", "add", "-q", "--detach", filepath.Join(root, "Spike"))
	other := filepath.Join(root, "other")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, other, "init", "-q", "-b", "main")
	run(t, other, "commit", "-q", "--allow-empty", "-m", "start")
	run(t, other, "checkout", "-q", "-b", "feature")
	plain := filepath.Join(root, "plain")
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, dir, want string
	}{
		{"main checkout on the default branch", repo, "my-shop"},
		{"a folder below the top", filepath.Join(repo, "web", "src"), "my-shop"},
		{"linked worktree: branch, then the repository's folder", filepath.Join(root, "shop-fix"), "fix-login-form.my-shop"},
		{"linked worktree with a detached HEAD", filepath.Join(root, "Spike"), "spike.my-shop"},
		{"main checkout on another branch", other, "feature.other"},
		{"no git checkout", plain, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Name(context.Background(), tc.dir)
			if err != nil || got != tc.want {
				t.Errorf("Name(%s) = %q, %v, want %q", tc.dir, got, err, tc.want)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"shop", "shop"},
		{"feature/Login_Form", "feature-login-form"},
		{"--x--y--", "x-y"},
		{"ünïcode", "n-code"},
		{"___", ""},
		{"a-" + strings.Repeat("b", 70), "a-" + strings.Repeat("b", 61)},
	} {
		if got := Label(tc.in); got != tc.want {
			t.Errorf("Label(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
