package devproxy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/devproxy/devproxy/internal/headless"
)

// viteApp copies the e2e Vite app into dir with its label set to label,
// its packages linked from e2e/app/node_modules; it skips t when they are
// not installed.
func viteApp(t *testing.T, dir, label string) {
	t.Helper()
	modules, err := filepath.Abs(filepath.Join("..", "e2e", "app", "node_modules"))
	must(t, err)
	if _, err := os.Stat(filepath.Join(modules, "vite", "package.json")); err != nil {
		t.Skip("e2e/app/node_modules/vite missing: run (cd e2e/app && npm ci)")
	}
	if _, err := exec.LookPath("npx"); err != nil {
		t.Skip("npx not installed")
	}
	must(t, os.MkdirAll(filepath.Join(dir, "node_modules"), 0o755))
	src := filepath.Join("..", "e2e", "app", "vite")
	entries, err := os.ReadDir(src)
	must(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	must(t, os.WriteFile(filepath.Join(dir, "label.js"), []byte("export const label = "+strconv.Quote(label)+";\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "vite.config.js"), []byte(`export default { cacheDir: ".vite", clearScreen: false }`), 0o644))
	pkgs, err := os.ReadDir(modules)
	must(t, err)
	for _, e := range pkgs {
		must(t, os.Symlink(filepath.Join(modules, e.Name()), filepath.Join(dir, "node_modules", e.Name())))
	}
}

// TestSitesInChromiumWithHMR serves two sites, each its own Vite dev
// server started by devproxy, and loads both by name in Chromium (which
// resolves *.localhost itself): each shows its own app, and an edit of
// one app's module is hot-replaced in that site's page only.
func TestSitesInChromiumWithHMR(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium and two Vite servers; skipped with -short")
	}
	dir := t.TempDir()
	for _, name := range []string{"shop", "admin"} {
		viteApp(t, filepath.Join(dir, name), name+" version 1")
	}
	config := "sites:\n" +
		"  shop.localhost: {frontend: {command: npx vite, dir: ./shop}}\n" +
		"  admin.localhost: {frontend: {command: npx vite, dir: ./admin}}\n"
	p := startProxyIn(t, dir, config, nil)
	// Two Vite servers starting at once on a loaded machine take longer
	// than one test request may.
	p.log.waitWithin(t, 90*time.Second, "shop.localhost vite │ ready at", "admin.localhost vite │ ready at")

	shop := headless.Start(t, headless.Options{})
	admin, cancel := chromedp.NewContext(shop)
	defer cancel()
	label := func(ctx context.Context, want string) error {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		js := `document.body.dataset.ready === 'true' && document.getElementById('label').textContent === ` + strconv.Quote(want)
		if err := headless.Until(ctx, js); err != nil {
			return fmt.Errorf("the page never showed %q: %v", want, err)
		}
		return nil
	}
	for _, tc := range []struct {
		ctx  context.Context
		name string
	}{{shop, "shop"}, {admin, "admin"}} {
		if err := chromedp.Do(tc.ctx, chromedp.Navigate(p.siteURL(tc.name+".localhost", "/"))); err != nil {
			t.Fatalf("open %s.localhost: %v", tc.name, err)
		}
		if err := label(tc.ctx, tc.name+" version 1"); err != nil {
			t.Fatalf("%s.localhost: %v; log:\n%s", tc.name, err, p.log)
		}
		// A marker a full reload would lose: HMR keeps it.
		if _, err := chromedp.Run(tc.ctx, chromedp.Evaluate[bool](`window.kept = true`)); err != nil {
			t.Fatal(err)
		}
	}

	for _, edit := range []string{"shop", "admin"} {
		must(t, os.WriteFile(filepath.Join(dir, edit, "label.js"), []byte("export const label = "+strconv.Quote(edit+" version 2")+";\n"), 0o644))
		ctx := map[string]context.Context{"shop": shop, "admin": admin}[edit]
		if err := label(ctx, edit+" version 2"); err != nil {
			t.Fatalf("after editing %s's label.js: %v; log:\n%s", edit, err, p.log)
		}
		if kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.kept === true`)); err != nil || !kept {
			t.Errorf("%s.localhost reloaded the page (kept %t, %v), want the module hot-replaced", edit, kept, err)
		}
	}
	// The edit of one site's app never reached the other's page.
	if err := label(admin, "admin version 2"); err != nil {
		t.Error(err)
	}
	if err := label(shop, "shop version 2"); err != nil {
		t.Error(err)
	}
}
