// Package gitname names a site after the git checkout it is served from:
// the repository's folder name, with the branch in front of it in a linked
// worktree or on a branch other than the default, so that two worktrees
// of one app get two names and run side by side.
package gitname

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
)

// Name returns the name of the site served from dir, without .localhost:
// "shop" in the main checkout of a repository in a folder named shop on
// its default branch, "fix-login.shop" in a linked worktree or on branch
// fix-login. It returns "" and no error when dir is in no git checkout or
// git is not installed; an error only when git fails otherwise.
func Name(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-dir", "--git-common-dir")
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || notRepo(err) {
			return "", nil
		}
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		// A bare repository has no top level: nothing is served from it.
		return "", nil
	}
	top, gitDir, common := lines[0], lines[1], lines[2]
	repo := filepath.Base(top)
	if filepath.Base(common) == ".git" {
		// The main checkout's folder, also from a linked worktree.
		repo = filepath.Base(filepath.Dir(common))
	}
	repo = Label(repo)
	if repo == "" {
		return "", nil
	}
	linked := filepath.Clean(gitDir) != filepath.Clean(common)
	branch, _ := git(ctx, dir, "symbolic-ref", "--quiet", "--short", "HEAD")
	branch = strings.TrimSpace(branch)
	if !linked && (branch == "" || branch == defaultBranch(ctx, dir, branch)) {
		return repo, nil
	}
	prefix := branch
	if prefix == "" {
		// A linked worktree with a detached HEAD: its folder tells it apart.
		prefix = filepath.Base(top)
	}
	if p := Label(prefix); p != "" && p != repo {
		return p + "." + repo, nil
	}
	return repo, nil
}

// defaultBranch is the repository's default branch: the remote's HEAD,
// else init.defaultBranch, else current when it is main or master.
func defaultBranch(ctx context.Context, dir, current string) string {
	if out, err := git(ctx, dir, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"); err == nil {
		if _, b, ok := strings.Cut(strings.TrimSpace(out), "/"); ok {
			return b
		}
	}
	if out, err := git(ctx, dir, "config", "--get", "init.defaultBranch"); err == nil && strings.TrimSpace(out) != "" {
		return strings.TrimSpace(out)
	}
	if current == "main" || current == "master" {
		return current
	}
	return "main"
}

// Label makes s a DNS label: lower case, each run of characters other
// than letters and digits one "-", no "-" at either end, at most 63
// bytes. "feature/Login_Form" is "feature-login-form"; "" when s has no
// letter or digit.
func Label(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	return out
}

// git runs git in dir and returns its output.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			return "", &gitError{args: args, code: ee.ExitCode(), stderr: strings.TrimSpace(stderr.String())}
		}
		return "", err
	}
	return string(out), nil
}

// gitError is a git command that ran and failed.
type gitError struct {
	args   []string
	code   int
	stderr string
}

func (e *gitError) Error() string {
	return "git " + strings.Join(e.args, " ") + ": " + e.stderr
}

// notRepo reports whether err is git saying dir is in no repository.
func notRepo(err error) bool {
	ge, ok := errors.AsType[*gitError](err)
	return ok && strings.Contains(ge.stderr, "not a git repository")
}
