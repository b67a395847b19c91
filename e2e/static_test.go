package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStaticFolderSPA serves a built single-page app from a folder: a deep
// link gets index.html, whose hashed assets load, and a missing asset is a
// real 404.
func TestStaticFolderSPA(t *testing.T) {
	chromium := requireChromium(t)
	requireNode(t)
	requireModules(t, appDir, "vite")
	start := time.Now()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.CopyFS(src, os.DirFS(filepath.Join(appDir, "vite"))); err != nil {
		t.Fatal(err)
	}
	startNode(t, "vite-build", src, filepath.Join(dir, "dist"))
	dp := startDevproxy(t, dir, "frontend: ./dist\n")
	page := startBrowser(t, chromium)

	const deepLink = "/users/42/settings"
	page.navigate(t, dp.origin+deepLink+"?tab=profile")

	type loaded struct {
		Path       string   `json:"path"`
		Label      string   `json:"label"`
		Color      string   `json:"color"`
		Navigation int      `json:"navigation"`
		Assets     []string `json:"assets"`
		Missing    int      `json:"missing"`
	}
	got, err := eval[loaded](page, `(async () => {
		const nav = performance.getEntriesByType("navigation")[0];
		const assets = performance.getEntriesByType("resource")
			.filter((e) => new URL(e.name).pathname.startsWith("/assets/"))
			.map((e) => new URL(e.name).pathname + " " + e.responseStatus);
		const missing = await fetch("/assets/missing.js");
		return {
			path: document.getElementById("path").textContent,
			label: document.getElementById("label").textContent,
			color: getComputedStyle(document.getElementById("label")).color,
			navigation: nav.responseStatus,
			assets,
			missing: missing.status,
		};
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if got.Navigation != 200 || got.Path != deepLink || got.Label != "version 1" {
		t.Errorf("GET %s: status %d, app saw path %q and label %q, want 200, %q and %q", deepLink, got.Navigation, got.Path, got.Label, deepLink, "version 1")
	}
	// The script ran (it set the label); the stylesheet applied.
	if got.Color != "rgb(0, 128, 0)" {
		t.Errorf("h1 color = %q, want rgb(0, 128, 0) from the built stylesheet; assets: %q", got.Color, got.Assets)
	}
	var js, css bool
	for _, a := range got.Assets {
		js = js || strings.HasSuffix(a, ".js 200")
		css = css || strings.HasSuffix(a, ".css 200")
	}
	if !js || !css {
		t.Errorf("assets loaded = %q, want a .js and a .css with status 200", got.Assets)
	}
	if got.Missing != 404 {
		t.Errorf("GET /assets/missing.js: status %d, want 404", got.Missing)
	}
	missing := func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.HasSuffix(m.URL, "/assets/missing.js")
	}
	if errs := page.rec.errors(missing); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	page.screenshot(t, "static")
	if t.Failed() {
		t.Logf("devproxy log:\n%s", dp.log)
	}
	t.Logf("static suite took %s", time.Since(start).Round(time.Millisecond))
}
