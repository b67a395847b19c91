//go:build unix

package devproxy

import (
	"fmt"
	"testing"
)

func TestSitesCommands(t *testing.T) {
	bin := buildCmdServer(t)
	dir := t.TempDir()
	config := fmt.Sprintf("sites:\n  shop.localhost:\n    frontend: {command: %s, env: {NAME: shop}}\n  admin.localhost:\n    frontend: {command: %s, env: {NAME: admin}}\n    routes:\n      /api: {command: %s, env: {NAME: admin-api}}\n", bin, bin, bin)
	p := startProxyIn(t, dir, config, nil)
	p.log.waitFor(t, "shop.localhost cmdserver │ ready at", "admin.localhost cmdserver │ ready at", "admin.localhost/api │ ready at")
	c := namedClient(p, nil)
	for _, tc := range []struct{ host, path, want string }{
		{"shop.localhost", "/", "cmdserver NAME=shop path=/\n"},
		{"admin.localhost", "/", "cmdserver NAME=admin path=/\n"},
		{"admin.localhost", "/api/x", "cmdserver NAME=admin-api path=/api/x\n"},
	} {
		if res, body := fetch(t, c, "GET", p.siteURL(tc.host, tc.path), nil, nil); res.StatusCode != 200 || body != tc.want {
			t.Errorf("GET %s on %s: got %d %q, want 200 %q", tc.path, tc.host, res.StatusCode, body, tc.want)
		}
	}
	pids := pidsIn(p.log.String())
	p.stop()
	waitGone(t, pids)
}
