package devproxy

import (
	"path/filepath"
	"testing"
)

// TestCompileRecordsItsPools checks that the router knows the pools its
// handlers use as compile builds them: one per target and setting, none
// for mocks and folders, which is what a reload keeps.
func TestCompileRecordsItsPools(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, config string
		pools        int
	}{
		{"mocks and a folder", "frontend: ./dist\nroutes:\n  /m:\n    respond: {body: hi}\n", 0},
		{"one target twice", "routes:\n  /a: http://127.0.0.1:5000\n  /b: http://127.0.0.1:5000/base\n", 1},
		{"another setting", "routes:\n  /a: http://127.0.0.1:5000\n  /b:\n    target: http://127.0.0.1:5000\n    timeout: 3s\n", 2},
		{"routes and a dev server", "frontend: http://localhost:5173\nroutes:\n  /a: http://127.0.0.1:5000\n  /c:\n    target: http://127.0.0.1:5001\n    cors: {origins: [\"http://localhost:3000\"]}\n", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			writeFiles(t, dir, map[string]string{"dist/index.html": "spa", "devproxy.yaml": tt.config})
			srv, err := New(Options{ConfigFile: filepath.Join(dir, "devproxy.yaml")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.transports.retireAll)
			rt := srv.router.Load()
			if len(rt.pools) != tt.pools {
				t.Errorf("compile: router has %d pools, want %d", len(rt.pools), tt.pools)
			}
			srv.transports.mu.Lock()
			all := len(srv.transports.m)
			srv.transports.mu.Unlock()
			if all != tt.pools {
				t.Errorf("compile: the server holds %d pools, want the router's %d", all, tt.pools)
			}
		})
	}
}
