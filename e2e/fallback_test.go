package e2e

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
)

// TestFallbackAPIBehindDevproxy serves the Vite and webpack-dev-server
// apps with a frontend.fallback_api and no route: the page, its modules,
// public files and hot-reload socket stay with the real dev server, which
// hot-swaps an edit over devproxy, and the page's fetch of the API, which
// the dev server answers with its own page, goes on to the API.
func TestFallbackAPIBehindDevproxy(t *testing.T) {
	path := requireChromium(t)
	requireNode(t)
	c := startChromium(t, path)
	for _, ds := range devServers() {
		if ds.name != "vite" && ds.name != "webpack" {
			continue
		}
		t.Run(ds.name, func(t *testing.T) {
			requireModules(t, ds.dir, ds.deps...)
			api := startBackend(t)
			root, port, dev := startDevServer(t, ds)
			s := &scene{ds: ds, root: root, devPort: port, api: api, version: 1}
			s.proxy = startDevproxy(t, t.TempDir(), fmt.Sprintf("frontend:\n  url: http://localhost:%d\n  fallback_api: %s\nlog:\n  frontend: all\n", port, api.origin()))
			_, proxyPort, _ := net.SplitHostPort(strings.TrimPrefix(s.proxy.origin, "http://"))
			s.open(t, c, "http://localhost:"+proxyPort)
			t.Run("page loads without console errors", s.pageLoads)
			t.Run("fetch reaches the API with X-Forwarded-headers", s.fetchAPI)
			t.Run("hot module replacement over devproxy", s.hotUpdate)
			t.Run("no unexpected console errors", s.consoleClean)

			devHost := regexp.QuoteMeta(fmt.Sprintf("localhost:%d", port))
			apiHost := regexp.QuoteMeta(strings.TrimPrefix(api.origin(), "http://"))
			log := s.proxy.log.String()
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`GET +/ +→ frontend ` + devHost + ` +200 `),
				regexp.MustCompile(`GET +/main\.js\S* +→ frontend ` + devHost + ` +200 `),
				regexp.MustCompile(`WS +/\S* +→ frontend ` + devHost + ` +101 `),
				regexp.MustCompile(`GET +/api/echo\?from=page +→ fallback_api ` + apiHost + ` +200 `),
			} {
				if !want.MatchString(log) {
					t.Errorf("devproxy log has no line matching %s", want)
				}
			}
			if t.Failed() {
				t.Logf("devproxy log:\n%s", log)
				if dev != nil {
					t.Logf("%s output:\n%s", ds.name, dev.out)
				}
			}
		})
	}
}
