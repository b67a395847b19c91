package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/devproxy/importer"
	"github.com/devproxy/devproxy/internal/status"
)

// TestInitViteBehindDevproxy moves a Vite app with its own server.proxy for
// /api over to devproxy with devproxy init's importer, then serves the app
// with the config it wrote, in the project folder as init writes it:
// devproxy starts Vite itself (frontend.command), the page loads on
// devproxy's origin and its API call reaches the API through devproxy's
// route.
func TestInitViteBehindDevproxy(t *testing.T) {
	chromium := requireChromium(t)
	requireNode(t)
	requireModules(t, appDir, "vite")
	api := startBackend(t)
	root := filepath.Join(t.TempDir(), "vite")
	if err := os.CopyFS(root, os.DirFS(filepath.Join(appDir, "vite"))); err != nil {
		t.Fatal(err)
	}
	modules, err := filepath.Abs(filepath.Join(appDir, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(root, "node_modules")); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	files := map[string]string{
		"package.json": `{"private": true, "type": "module", "scripts": {"dev": "vite"}, "devDependencies": {"vite": "8.3.8"}}`,
		"vite.config.js": fmt.Sprintf(`export default {
  server: {
    port: %d,
    strictPort: true,
    proxy: { '/api': { target: %q, changeOrigin: true } },
  },
};
`, port, api.origin()),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	res, err := importer.Import(context.Background(), root, importer.Options{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	yaml := string(res.YAML(""))
	for _, want := range []string{
		fmt.Sprintf("frontend:\n  command: npm run dev\n  url: http://localhost:%d\n", port),
		"  # from vite.config.js server.proxy['/api']\n  /api: " + api.origin() + "\n",
	} {
		if !strings.Contains(yaml, want) {
			t.Fatalf("imported config lacks %q:\n%s\nnotes: %v", want, yaml, res.Notes)
		}
	}

	s := &scene{ds: devServer{name: "vite"}, root: root, devPort: port, api: api, version: 1}
	s.proxy = startDevproxy(t, root, yaml)
	s.origin = s.proxy.origin
	waitFrontendUp(t, s.proxy)
	s.page = startBrowser(t, chromium)
	s.page.navigate(t, s.proxy.origin+"/")
	t.Run("page loads without console errors", s.pageLoads)
	t.Run("fetch reaches the API with X-Forwarded headers", s.fetchAPI)
	// devproxy's own route answered, not Vite's proxy behind the frontend.
	want := regexp.MustCompile(`GET +/api/echo\?from=page +→ /api ` + regexp.QuoteMeta(strings.TrimPrefix(api.origin(), "http://")) + ` +200 `)
	if log := s.proxy.log.String(); !want.MatchString(log) {
		t.Errorf("devproxy log has no line matching %s:\n%s", want, log)
	}
	if t.Failed() {
		t.Logf("config:\n%s\ndevproxy log (with Vite's output):\n%s", yaml, s.proxy.log)
	}
}

// waitFrontendUp waits until the dev server devproxy started answers, as
// devproxy's waiting page asks.
func waitFrontendUp(t *testing.T, p *proxy) {
	t.Helper()
	deadline := time.Now().Add(devServerStartTimeout)
	for {
		var st status.Frontend
		res, err := http.Get(p.origin + status.FrontendPath)
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&st)
			res.Body.Close()
		}
		if err == nil && st.Up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dev server devproxy started did not answer within %s (%v, %+v); log:\n%s", devServerStartTimeout, err, st, p.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// devServerStartTimeout bounds how long a dev server devproxy starts may
// take to answer on a loaded machine.
const devServerStartTimeout = 60 * time.Second
