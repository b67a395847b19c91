package config

import "testing"

// TestShadowWarnings pins the load-time warning of a route over a dev
// server's own paths: file:line and field, a warning and not an error,
// and none for a folder frontend or a prefix that only looks alike.
func TestShadowWarnings(t *testing.T) {
	env := func(string) (string, bool) { return "", false }
	tests := []struct {
		yaml string
		want []string // Error() of each warning
	}{
		{"frontend: http://localhost:5173\nroutes:\n  /api: http://localhost:5000\n  /ws: http://localhost:5000\n", []string{
			`devproxy.yaml:4: routes./ws: "/ws" shadows /ws, the webpack-dev-server hot-reload socket: those requests go to the route, not to the dev server` +
				"\n  hint: move the route under a prefix of its own, such as /api/ws, or remove it",
		}},
		{"frontend: http://localhost:3000\nroutes:\n  /_next/data: http://localhost:5000\n  /@vite: {respond: {body: x}}\n", []string{
			`devproxy.yaml:3: routes./_next/data: "/_next/data" shadows /_next, Next.js's build output and hot reload: those requests go to the route, not to the dev server` +
				"\n  hint: move the route under a prefix of its own, such as /api/_next/data, or remove it",
			`devproxy.yaml:4: routes./@vite: "/@vite" shadows /@vite, Vite's client and hot reload: those requests go to the route, not to the dev server` +
				"\n  hint: move the route under a prefix of its own, such as /api/@vite, or remove it",
		}},
		{"frontend: http://localhost:5173\nroutes:\n  /api/ws: http://localhost:5000\n  /wsx: http://localhost:5000\n", nil},
		{"frontend: " + t.TempDir() + "\nroutes:\n  /ws: http://localhost:5000\n", nil},
	}
	for _, tt := range tests {
		cfg, err := ParseFor("devproxy.yaml", []byte(tt.yaml), env, nil)
		if err != nil {
			t.Fatalf("ParseFor(%q): %v", tt.yaml, err)
		}
		var got []string
		for _, w := range cfg.Warnings {
			got = append(got, w.Error())
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseFor(%q): warnings %q, want %q", tt.yaml, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseFor(%q): warning %d\n%s\nwant\n%s", tt.yaml, i, got[i], tt.want[i])
			}
		}
	}
}
