package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
)

// initProject copies a fixture project of the importer to a new folder.
func initProject(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("devproxy", "importer", "testdata", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestInitWritesConfigAndSchema(t *testing.T) {
	dir := initProject(t, "cra_field")
	code, stdout, stderr := runCLI(t, "init", dir)
	if code != 0 {
		t.Fatalf("devproxy init: exit %d, stderr %q", code, stderr)
	}
	file := filepath.Join(dir, "devproxy.yaml")
	for _, want := range []string{"wrote " + file, "dev server: Create React App on port 3000", "imported 0 routes",
		`frontend.fallback_api -> http://localhost:5000   from package.json "proxy"`, `next: run devproxy; it starts the dev server (npm start)`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("devproxy init: stdout %q lacks %q", stdout, want)
		}
	}
	yaml, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(yaml), "  env:\n") || !strings.Contains(string(yaml), "    WDS_SOCKET_PORT: \"0\"\n") {
		t.Errorf("devproxy.yaml does not set WDS_SOCKET_PORT=0 for the dev server devproxy starts:\n%s", yaml)
	}
	if first, _, _ := strings.Cut(string(yaml), "\n"); first != "# yaml-language-server: $schema=./devproxy.schema.json" {
		t.Errorf("devproxy.yaml starts with %q, want the schema modeline", first)
	}
	schema, err := os.ReadFile(filepath.Join(dir, "devproxy.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(schema) != string(config.Schema()) {
		t.Error("devproxy.schema.json is not config.Schema()")
	}
	if code, stdout, stderr := runCLI(t, "check", "-config", file); code != 0 || !strings.Contains(stdout, "is valid") {
		t.Errorf("devproxy check on what init wrote: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// A second init keeps the file; -force replaces it.
	if err := os.WriteFile(file, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "init", dir)
	if code != 1 || !strings.Contains(stderr, "devproxy: error: "+file+" already exists\n") || !strings.Contains(stderr, "hint: run devproxy init -print") {
		t.Errorf("devproxy init over an existing config: exit %d, stderr %q; want 1 and an already-exists error", code, stderr)
	}
	if got, _ := os.ReadFile(file); string(got) != "# mine\n" {
		t.Errorf("devproxy init changed the existing config to %q", got)
	}
	if code, _, stderr := runCLI(t, "init", dir, "-force"); code != 0 {
		t.Fatalf("devproxy init -force: exit %d, stderr %q", code, stderr)
	}
	if got, _ := os.ReadFile(file); string(got) != string(yaml) {
		t.Errorf("devproxy init -force wrote %q, want %q", got, yaml)
	}
}

func TestInitPrint(t *testing.T) {
	dir := initProject(t, "angular")
	code, stdout, stderr := runCLI(t, "init", "-print", "-node", "devproxy-test-no-such-node", dir)
	if code != 0 {
		t.Fatalf("devproxy init -print: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "frontend:\n  command: npm start\n  url: http://localhost:4300\n") || !strings.Contains(stdout, "  # from src/proxy.conf.json['/api']\n  /api:\n") {
		t.Errorf("devproxy init -print: stdout %q lacks the frontend and the /api route", stdout)
	}
	if !strings.Contains(stderr, "read without Node") || !strings.Contains(stderr, "imported 2 routes") {
		t.Errorf("devproxy init -print: stderr %q lacks the summary and the no-Node note", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "devproxy.yaml")); err == nil {
		t.Error("devproxy init -print wrote devproxy.yaml")
	}
}

func TestInitErrors(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		args       []string
		wantCode   int
		wantStderr string
	}{
		{[]string{"init", empty}, 1, "devproxy: error: no package.json in " + empty},
		{[]string{"init", empty, "extra"}, 2, `devproxy: error: unexpected argument "extra"`},
		{[]string{"init", "-h"}, 0, "Examples:\n  devproxy init "},
		{[]string{"schema", "x"}, 2, `devproxy: error: unexpected argument "x"`},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, tt.args...)
		if code != tt.wantCode || !strings.Contains(stderr, tt.wantStderr) {
			t.Errorf("devproxy %s: exit %d, stderr %q; want exit %d, stderr with %q", strings.Join(tt.args, " "), code, stderr, tt.wantCode, tt.wantStderr)
		}
	}
}

// TestInitVite runs init on a project whose vite.config.ts the real Vite of
// the e2e app loads.
func TestInitVite(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	modules, err := filepath.Abs(filepath.Join("e2e", "app", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "vite")); err != nil {
		t.Skip("no Vite in e2e/app/node_modules: run npm ci in e2e/app")
	}
	dir := initProject(t, "vite")
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "init", dir)
	if code != 0 {
		t.Fatalf("devproxy init: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "dev server: Vite (Vue) on port 5174 (vite.config.ts server.port)") ||
		!strings.Contains(stdout, "/api -> http://localhost:5000   from vite.config.ts server.proxy['/api']") {
		t.Errorf("devproxy init: stdout %q", stdout)
	}
	code, stdout, stderr = runCLI(t, "check", "-config", filepath.Join(dir, "devproxy.yaml"))
	if code != 0 {
		t.Errorf("devproxy check on what init wrote: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestSchemaCommand(t *testing.T) {
	code, stdout, stderr := runCLI(t, "schema")
	if code != 0 {
		t.Fatalf("devproxy schema: exit %d, stderr %q", code, stderr)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("devproxy schema: not JSON: %v", err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("devproxy schema: $schema = %v, want draft 2020-12", s["$schema"])
	}
}
