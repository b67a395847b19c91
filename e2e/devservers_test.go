package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// devServer is one frontend dev server that the suite puts behind devproxy,
// run the way its users run it, with the setting the README gives.
type devServer struct {
	name string   // the subtest's name, which the README's table cites
	dir  string   // the npm project, relative to this package
	deps []string // packages in dir/node_modules; the subtest skips without them
	// app, when set, is serve.mjs's mode and the app's folder under dir,
	// which is copied to a temporary folder and served from there.
	// Otherwise the project in dir is served in place with command.
	app string
	// label is the file, relative to the served folder, whose "version N"
	// the checks edit; the framework hot-swaps the module it is in.
	label string
	// command returns the dev server's environment and command line for
	// port, run in dir.
	command func(port int) (env []string, name string, args []string)
	// post, when set, is a same-origin POST that the framework answers
	// only when its Origin names the host it serves.
	post *devPost
	// script, when set, is the package.json script devproxy itself runs
	// (frontend: {command: npm run SCRIPT}) on a port it picks, in a copy
	// of the app; the suite starts no dev server of its own.
	script string
}

// devPost is a POST a page sends to its dev server: a form action, or a
// request of the framework's own dev client.
type devPost struct {
	what        string // what sends it, for messages
	path        string
	contentType string
	body        string
	status      int // the status the framework answers with when it accepts it
}

// devServers lists the dev servers of the README's table, in its order.
func devServers() []devServer {
	bin := func(name string) string { return filepath.Join("node_modules", ".bin", name) }
	return []devServer{
		{name: "vite", dir: appDir, app: "vite", label: "label.js", deps: []string{"vite"}},
		// The one-command workflow: devproxy starts npm run dev itself.
		{name: "vite-command", dir: appDir, app: "vite", label: "label.js", deps: []string{"vite"}, script: "vite"},
		{name: "webpack", dir: appDir, app: "webpack", label: "label.js", deps: []string{"webpack", "webpack-dev-server"}},
		{
			name: "next", dir: "testdata/next", label: "app/label.jsx", deps: []string{"next", "react", "react-dom"},
			command: func(port int) ([]string, string, []string) {
				return []string{"NEXT_TELEMETRY_DISABLED=1"}, bin("next"), []string{"dev", "--port", strconv.Itoa(port), "--hostname", "localhost"}
			},
			// The error overlay asks the dev server to map a client
			// error's stack; next dev refuses /__nextjs* and /_next/*
			// requests whose Origin is not localhost, *.localhost or
			// allowedDevOrigins (block-cross-site-dev.js).
			post: &devPost{
				what: "the error overlay's stack-frame request", path: "/__nextjs_original-stack-frames", contentType: "text/plain;charset=UTF-8",
				body: `{"frames":[],"isServer":false,"isEdgeServer":false,"isAppDirectory":true}`, status: 200,
			},
		},
		{
			name: "angular", dir: "testdata/angular", label: "src/app/label.html", deps: []string{"@angular/cli", "@angular/build", "@angular/core"},
			command: func(port int) ([]string, string, []string) {
				return []string{"NG_CLI_ANALYTICS=false"}, bin("ng"), []string{"serve", "--port", strconv.Itoa(port)}
			},
		},
		{
			// The README's settings are in the app's .env, where CRA
			// users put them. HOST keeps the dev server on loopback
			// (CRA listens on every interface by default).
			name: "cra", dir: "testdata/cra", label: "src/Label.js", deps: []string{"react-scripts", "react", "react-dom"},
			command: func(port int) ([]string, string, []string) {
				return []string{"PORT=" + strconv.Itoa(port), "HOST=localhost"}, bin("react-scripts"), []string{"start"}
			},
		},
		{
			name: "sveltekit", dir: "testdata/sveltekit", label: "src/lib/Label.svelte", deps: []string{"@sveltejs/kit", "svelte", "vite"},
			command: func(port int) ([]string, string, []string) {
				return nil, bin("vite"), []string{"dev", "--port", strconv.Itoa(port), "--strictPort"}
			},
		},
		{
			// Astro reloads the page for an edit of server-rendered
			// markup (its astro:hmr-reload plugin); a client script's
			// module is hot-swapped, so that is what the label is.
			name: "astro", dir: "testdata/astro", label: "src/scripts/label.js", deps: []string{"astro"},
			command: func(port int) ([]string, string, []string) {
				return []string{"ASTRO_TELEMETRY_DISABLED=1", "ASTRO_DISABLE_UPDATE_CHECK=true"}, bin("astro"), []string{"dev", "--port", strconv.Itoa(port)}
			},
		},
		{
			name: "nuxt", dir: "testdata/nuxt", label: "app/components/Label.vue", deps: []string{"nuxt", "vue"},
			command: func(port int) ([]string, string, []string) {
				return []string{"NUXT_TELEMETRY_DISABLED=1"}, bin("nuxt"), []string{"dev", "--port", strconv.Itoa(port)}
			},
		},
	}
}

// startDevServer serves the dev server's app on a free port and waits until
// it answers. It returns the served folder, the port and the process.
func startDevServer(t *testing.T, ds devServer) (root string, port int, p *nodeProcess) {
	t.Helper()
	if ds.script != "" {
		return commandApp(t, ds), 0, nil
	}
	port = freePort(t)
	if ds.app != "" {
		root = filepath.Join(t.TempDir(), ds.app)
		if err := os.CopyFS(root, os.DirFS(filepath.Join(ds.dir, ds.app))); err != nil {
			t.Fatal(err)
		}
		return root, port, startNode(t, ds.app, root, strconv.Itoa(port))
	}
	// The framework's CLI serves its own project folder, as a developer
	// runs it; the checks' edits are undone when the test ends.
	root = ds.dir
	label := filepath.Join(root, ds.label)
	committed, err := os.ReadFile(label)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(committed, []byte("version 1")) {
		t.Fatalf("%s does not say \"version 1\": an earlier run was stopped before it could undo its edit; run: git checkout e2e/%s", label, filepath.ToSlash(label))
	}
	t.Cleanup(func() {
		if err := os.WriteFile(label, committed, 0o644); err != nil {
			t.Errorf("undo the edit of %s: %v", label, err)
		}
	})
	env, name, args := ds.command(port)
	p, _ = startProcess(t, root, env, name, args...)
	waitHTTP(t, p, "http://localhost:"+strconv.Itoa(port)+"/")
	return root, port, p
}

// commandApp makes a copy of ds's app that devproxy runs with npm run dev:
// a package.json whose dev script is ds.script, and a node_modules of links
// to the shared packages (Vite writes into the project's own node_modules,
// never into the shared one).
func commandApp(t *testing.T, ds devServer) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), ds.app)
	if err := os.CopyFS(root, os.DirFS(filepath.Join(ds.dir, ds.app))); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"package.json":   `{"name": "app", "private": true, "type": "module", "scripts": {"dev": "` + ds.script + `"}}`,
		"vite.config.js": `export default { cacheDir: ".vite", clearScreen: false }`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	modules, err := filepath.Abs(filepath.Join(ds.dir, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(modules)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join(modules, e.Name()), filepath.Join(root, "node_modules", e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
