package runner

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestInjectFlags(t *testing.T) {
	dir := t.TempDir()
	pkg := `{"scripts": {
		"dev": "vite",
		"kit": "vite dev --host",
		"ng": "ng serve",
		"astro": "astro dev",
		"wds": "webpack serve --mode development",
		"wds4": "webpack-dev-server",
		"env": "cross-env NODE_ENV=development vite",
		"next": "next dev",
		"both": "tsc -w & vite",
		"fixed": "vite --port 4000",
		"build": "vite build"
	}}`
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(pkg), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cmd    string
		want   string // "" means unchanged
		server string
	}{
		{"vite", "vite --port 4567 --strictPort", "vite"},
		{"vite dev", "vite dev --port 4567 --strictPort", "vite"},
		{"vite ./web", "vite ./web --port 4567 --strictPort", "vite"},
		{"vite build", "", ""},
		{"vite --port 3000", "", ""},
		{"vite --port=3000", "", ""},
		{"./node_modules/.bin/vite", "./node_modules/.bin/vite --port 4567 --strictPort", "vite"},
		{"npx vite", "npx vite --port 4567 --strictPort", "vite"},
		{"npx -y --package=vite vite", "npx -y --package=vite vite --port 4567 --strictPort", "vite"},
		{"pnpm exec vite", "pnpm exec vite --port 4567 --strictPort", "vite"},
		{"yarn dlx astro dev", "yarn dlx astro dev --port 4567", "astro"},
		{"ng serve", "ng serve --port 4567", "ng serve"},
		{"ng build", "", ""},
		{"npx ng s", "npx ng s --port 4567", "ng serve"},
		{"webpack serve", "webpack serve --port 4567", "webpack serve"},
		{"webpack", "", ""},
		{"webpack-dev-server --hot", "webpack-dev-server --hot --port 4567", "webpack-dev-server"},
		{"astro dev", "astro dev --port 4567", "astro"},
		{"npm run dev", "npm run dev -- --port 4567 --strictPort", "vite"},
		{"npm run --silent dev", "npm run --silent dev -- --port 4567 --strictPort", "vite"},
		{"npm run-script kit", "npm run-script kit -- --port 4567 --strictPort", "vite"},
		{"npm run ng", "npm run ng -- --port 4567", "ng serve"},
		{"npm run astro -- --verbose", "npm run astro -- --verbose --port 4567", "astro"},
		{"npm run wds", "npm run wds -- --port 4567", "webpack serve"},
		{"npm run wds4", "npm run wds4 -- --port 4567", "webpack-dev-server"},
		{"npm run env", "npm run env -- --port 4567 --strictPort", "vite"},
		{"pnpm dev", "pnpm dev --port 4567 --strictPort", "vite"},
		{"pnpm run dev", "pnpm run dev --port 4567 --strictPort", "vite"},
		{"yarn dev", "yarn dev --port 4567 --strictPort", "vite"},
		{"yarn vite", "yarn vite --port 4567 --strictPort", "vite"},
		{"npm run next", "", ""},
		{"npm run both", "", ""},
		{"npm run fixed", "", ""},
		{"npm run build", "", ""},
		{"npm run missing", "", ""},
		{"npm run dev -- --port 3000", "", ""},
		{"next dev", "", ""},
		{"go run ./cmd/api", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			argv := strings.Fields(tt.cmd)
			got, server := injectFlags(argv, dir, 4567)
			want := argv
			if tt.want != "" {
				want = strings.Fields(tt.want)
			}
			if !slices.Equal(got, want) || server != tt.server {
				t.Errorf("injectFlags(%q) = %q, %q; want %q, %q", tt.cmd, got, server, want, tt.server)
			}
		})
	}
}

func TestInjectFlagsNoPackageJSON(t *testing.T) {
	argv := []string{"npm", "run", "dev"}
	if got, server := injectFlags(argv, t.TempDir(), 4567); !slices.Equal(got, argv) || server != "" {
		t.Errorf("injectFlags without package.json = %q, %q; want argv unchanged", got, server)
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		source     URLSource
		url        string // "" means http://localhost:<picked port>
		argvSuffix string
		env        []string // pairs that must be in Plan.Env; PORT=* means a picked port
		shell      bool
		cmdName    string // "" means not checked
		err        string
	}{
		{name: "given url", opts: Options{Command: "vite", URL: "http://localhost:5173"}, source: URLGiven, url: "http://localhost:5173", env: []string{"BROWSER=none", "PORT=5173"}},
		{name: "picked port as PORT", opts: Options{Command: "next dev"}, source: URLPortEnv, env: []string{"BROWSER=none", "PORT=*"}},
		{name: "picked port as flag", opts: Options{Command: "npx vite"}, source: URLPortFlag, argvSuffix: "--strictPort", env: []string{"PORT=*"}, cmdName: "npx"},
		{name: "port from env", opts: Options{Command: "node server.js", Env: []string{"PORT=4100"}}, source: URLPortEnv, url: "http://localhost:4100", env: []string{"PORT=4100"}},
		{name: "port from command line", opts: Options{Command: "PORT=4200 node server.js"}, source: URLPortEnv, url: "http://localhost:4200", env: []string{"PORT=4200"}, cmdName: "node"},
		{name: "user env wins", opts: Options{Command: "node s.js", Env: []string{"BROWSER=firefox"}}, source: URLPortEnv, env: []string{"BROWSER=firefox"}},
		{name: "shell", opts: Options{Command: "npm run build && vite"}, source: URLPortEnv, shell: true, cmdName: "npm"},
		{name: "argv", opts: Options{Args: []string{"vite", "a b"}}, source: URLPortFlag, argvSuffix: "--strictPort", cmdName: "vite"},
		{name: "named", opts: Options{Name: "/api", Command: "go run ./cmd/api"}, source: URLPortEnv, cmdName: "/api"},
		{name: "no command", opts: Options{}, err: "run command: no command given"},
		{name: "bad url", opts: Options{Command: "vite", URL: "localhost:5173"}, err: `run "vite": url "localhost:5173" is not an http:// or https:// URL`},
		{name: "bad env port", opts: Options{Command: "vite", Env: []string{"PORT=http"}}, err: `run command: env PORT="http" is not a port number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("New: error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			p := c.Plan()
			if p.Source != tt.source {
				t.Errorf("Source = %v, want %v", p.Source, tt.source)
			}
			wantURL := tt.url
			if wantURL == "" {
				if p.Port == 0 {
					t.Fatalf("Port = 0, want a picked port")
				}
				wantURL = "http://localhost:" + itoa(p.Port)
			}
			if p.URL != wantURL {
				t.Errorf("URL = %q, want %q", p.URL, wantURL)
			}
			if st := c.Status(); st.URL != p.URL || st.State != Idle {
				t.Errorf("Status = %+v, want idle at %q", st, p.URL)
			}
			if tt.cmdName != "" && c.Name() != tt.cmdName {
				t.Errorf("Name() = %q, want %q", c.Name(), tt.cmdName)
			}
			if p.Shell != tt.shell {
				t.Errorf("Shell = %v, want %v (argv %q)", p.Shell, tt.shell, p.Argv)
			}
			if tt.argvSuffix != "" && p.Argv[len(p.Argv)-1] != tt.argvSuffix {
				t.Errorf("Argv = %q, want it to end with %q", p.Argv, tt.argvSuffix)
			}
			for _, kv := range tt.env {
				if kv == "PORT=*" {
					kv = "PORT=" + itoa(p.Port)
				}
				if !lastWins(p.Env, kv) {
					t.Errorf("Env = %q, want %q to win", p.Env, kv)
				}
			}
		})
	}
}

// lastWins reports whether kv is the last pair for its name in env, as
// exec.Cmd applies it.
func lastWins(env []string, kv string) bool {
	name, _, _ := strings.Cut(kv, "=")
	last := ""
	for _, e := range env {
		if strings.HasPrefix(e, name+"=") {
			last = e
		}
	}
	return last == kv
}
