package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the expected output of the fixture projects in testdata")

// goldenSep separates the expected devproxy.yaml from the expected notes.
const goldenSep = "----------\n"

// e2eModules is the node_modules of the e2e project app (a folder of
// e2e/): the e2e app's has the real Vite, webpack-dev-server and
// http-proxy-middleware the fixtures load, testdata/next's the real Next.js
// and TypeScript. The test is skipped when pkg is not installed there.
func e2eModules(t *testing.T, app, pkg string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("../../e2e", app, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, pkg, "package.json")); err != nil {
		t.Skipf("no %s in %s: run npm ci in e2e/%s", pkg, dir, app)
	}
	return dir
}

func needNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the JavaScript configs cannot be loaded")
	}
}

// copyProject copies testdata/name to a new folder, so that the tools'
// temporary files stay out of testdata, and links the node_modules of the
// e2e project app into it unless app is "".
func copyProject(t *testing.T, name, app string) string {
	t.Helper()
	src := filepath.Join("testdata", name)
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
	if app != "" {
		pkg := "vite"
		if app != "app" {
			pkg = "next"
		}
		if err := os.Symlink(e2eModules(t, app, pkg), filepath.Join(dst, "node_modules")); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestImportGolden imports each fixture project and compares the
// devproxy.yaml and the notes with testdata/NAME.golden; -update rewrites
// them. Every written config must pass devproxy's own parser.
func TestImportGolden(t *testing.T) {
	schema := compileSchema(t)
	tests := []struct {
		name    string
		project string
		modules bool   // link the e2e app's node_modules
		next    bool   // link e2e/testdata/next's node_modules (Next.js, TypeScript) instead
		node    string // Options.Node; "" runs the node in PATH
		timeout time.Duration
	}{
		{name: "vite", project: "vite", modules: true},
		{name: "vite_no_modules", project: "vite"},
		{name: "vite_no_node", project: "vite", modules: true, node: "devproxy-test-no-such-node"},
		{name: "vite_throws", project: "vite_throws", modules: true},
		{name: "vite_hangs", project: "vite_hangs", modules: true, timeout: 3 * time.Second},
		{name: "cra_field", project: "cra_field"},
		{name: "cra_setupproxy", project: "cra_setupproxy", modules: true},
		{name: "cra_setupproxy_stand_in", project: "cra_setupproxy"},
		{name: "cra_setupproxy_v3", project: "cra_setupproxy_v3"},
		{name: "angular", project: "angular"},
		{name: "angular_no_node", project: "angular", node: "devproxy-test-no-such-node"},
		{name: "angular_js", project: "angular_js"},
		{name: "webpack", project: "webpack", modules: true},
		{name: "webpack_object", project: "webpack_object"},
		{name: "next", project: "next"},
		{name: "next_ts", project: "next_ts", next: true},
		{name: "next_ts_no_modules", project: "next_ts"},
		{name: "astro", project: "astro", modules: true},
		{name: "nuxt", project: "nuxt"},
		{name: "none", project: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.node == "" {
				needNode(t)
			}
			app := ""
			switch {
			case tt.next:
				app = "testdata/next"
			case tt.modules:
				app = "app"
			}
			dir := copyProject(t, tt.project, app)
			res, err := Import(context.Background(), dir, Options{Node: tt.node, Timeout: tt.timeout})
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			yaml := res.YAML("devproxy.schema.json")
			var notes strings.Builder
			for _, n := range res.Notes {
				notes.WriteString(n.String() + "\n")
			}
			got := strings.ReplaceAll(string(yaml)+goldenSep+notes.String(), dir, "$DIR")
			if _, err := config.Parse(filepath.Join(dir, "devproxy.yaml"), yaml, func(string) (string, bool) { return "", false }); err != nil {
				t.Errorf("the written config does not pass devproxy check:\n%v\n%s", err, yaml)
			}
			if err := schema.Validate(yamlValue(t, yaml)); err != nil {
				t.Errorf("the written config does not pass the JSON Schema: %v", err)
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("Import(%s):\ngot:\n%s\nwant:\n%s", tt.name, got, want)
			}
		})
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(config.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(config.SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(config.SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// yamlValue decodes a written config as an editor does before applying the
// schema.
func yamlValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("written config is not YAML: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPrefixOf(t *testing.T) {
	tests := []struct {
		context string
		regex   bool
		want    string // "" for not a prefix
	}{
		{"/api", false, "/api"},
		{"/api/", false, "/api"},
		{"/api/**", false, "/api"},
		{"/api/*", false, "/api"},
		{"**", false, ""},
		{"/", false, ""},
		{"api", false, ""},
		{"/a/**/b", false, "/a"},
		{"^/api", false, "/api"},
		{"^/api/.*", false, "/api"},
		{"^/api(/.*)?", false, "/api"},
		{`^\/api\/v1`, false, "/api/v1"},
		{"^/v[0-9]+/", false, ""},
		{"/api/.*", true, ""},
		{`/^\/api/`, true, "/api"},
		{"^/$", false, ""},
	}
	for _, tt := range tests {
		got, _, ok := prefixOf(tt.context, tt.regex)
		if !ok {
			got = ""
		}
		if got != tt.want {
			t.Errorf("prefixOf(%q, %t) = %q, want %q", tt.context, tt.regex, got, tt.want)
		}
	}
}

func TestScriptPort(t *testing.T) {
	tests := []struct {
		script string
		want   int
	}{
		{"vite", 0},
		{"vite --port 5180", 5180},
		{"vite --port=5181 --host", 5181},
		{"next dev -p 3100", 3100},
		{"PORT=3005 react-scripts start", 3005},
		{"ng serve --port 99999", 0},
		{"vite --portal 1", 0},
	}
	for _, tt := range tests {
		if got, _ := scriptPort(tt.script); got != tt.want {
			t.Errorf("scriptPort(%q) = %d, want %d", tt.script, got, tt.want)
		}
	}
}

func TestScalar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/api", "/api"},
		{"http://localhost:5000/base", "http://localhost:5000/base"},
		{"true", `"true"`},
		{"", `""`},
		{"8080", `"8080"`},
		{"/a b", "/a b"},
		{"npm run dev -- --host 127.0.0.1", "npm run dev -- --host 127.0.0.1"},
		{"npm run dev #x", `"npm run dev #x"`},
		{"npm start ", `"npm start "`},
		{"/a#b", `"/a#b"`},
		{"x: y", `"x: y"`},
		{"*alias", `"*alias"`},
	}
	for _, tt := range tests {
		got := scalar(tt.in)
		if got != tt.want {
			t.Errorf("scalar(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := yaml.Unmarshal([]byte("v: "+got), &struct{ V *string }{&back}); err != nil || back != tt.in {
			t.Errorf("scalar(%q) = %s reads back as %q (%v)", tt.in, got, back, err)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		deps      []string
		scripts   map[string]string
		tool      Tool
		framework string
		port      int
		command   string
	}{
		{[]string{"vite", "vue"}, map[string]string{"dev": "vite"}, Vite, "Vue", 5173, "npm run dev"},
		{[]string{"vite", "@sveltejs/kit", "svelte"}, map[string]string{"dev": "vite dev --port 5190"}, Vite, "SvelteKit", 5190, "npm run dev"},
		{[]string{"@react-router/dev", "react", "vite"}, nil, Vite, "React Router", 5173, ""},
		{[]string{"@remix-run/dev", "vite"}, nil, Vite, "Remix", 5173, ""},
		{[]string{"vite", "solid-js"}, nil, Vite, "Solid", 5173, ""},
		{[]string{"astro"}, map[string]string{"start": "astro dev"}, Vite, "Astro", 4321, "npm start"},
		{[]string{"react-scripts", "react"}, map[string]string{"start": "react-scripts start"}, CRA, "", 3000, "npm start"},
		{[]string{"@angular/cli", "@angular/core"}, map[string]string{"start": "ng serve"}, Angular, "", 4200, "npm start"},
		{[]string{"next", "react"}, map[string]string{"dev": "next dev"}, Next, "", 3000, "npm run dev"},
		{[]string{"nuxt"}, map[string]string{"dev": "nuxt dev"}, Nuxt, "", 3000, "npm run dev"},
		{[]string{"webpack", "webpack-dev-server"}, map[string]string{"serve": "webpack serve"}, Webpack, "", 8080, "npm run serve"},
		{[]string{"lodash"}, nil, "", "", 0, ""},
	}
	for _, tt := range tests {
		pkg := &packageJSON{Scripts: tt.scripts, DevDependencies: map[string]string{}}
		for _, d := range tt.deps {
			pkg.DevDependencies[d] = "*"
		}
		p := detect(t.TempDir(), pkg)
		if p.Tool != tt.tool || p.Framework != tt.framework || p.Port != tt.port || p.Command != tt.command {
			t.Errorf("detect(%v, %v) = %q %q port %d %q, want %q %q port %d %q",
				tt.deps, tt.scripts, p.Tool, p.Framework, p.Port, p.Command, tt.tool, tt.framework, tt.port, tt.command)
		}
	}
}

func TestRunScriptPackageManager(t *testing.T) {
	for lock, want := range map[string]string{"": "npm run dev", "pnpm-lock.yaml": "pnpm run dev", "yarn.lock": "yarn run dev", "bun.lock": "bun run dev"} {
		dir := t.TempDir()
		if lock != "" {
			if err := os.WriteFile(filepath.Join(dir, lock), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := runScript(dir, "dev"); got != want {
			t.Errorf("runScript with %q = %q, want %q", lock, got, want)
		}
	}
}
