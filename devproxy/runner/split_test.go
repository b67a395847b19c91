package runner

import (
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		line      string
		argv, env []string
		needShell bool
		err       string
	}{
		{line: "npm run dev", argv: []string{"npm", "run", "dev"}},
		{line: "  npx   vite\t--host ", argv: []string{"npx", "vite", "--host"}},
		{line: `go run ./cmd/api -title 'my api' -x "a \"b\" \$c"`, argv: []string{"go", "run", "./cmd/api", "-title", "my api", "-x", `a "b" $c`}},
		{line: `node my\ server.js ''`, argv: []string{"node", "my server.js", ""}},
		{line: "NODE_ENV=development DEBUG= vite", argv: []string{"vite"}, env: []string{"NODE_ENV=development", "DEBUG="}},
		{line: "vite --define=A=1", argv: []string{"vite", "--define=A=1"}},
		{line: "npm run build && npm start", needShell: true},
		{line: "vite | tee log", needShell: true},
		{line: "node server.js > out.log", needShell: true},
		{line: "node $APP", needShell: true},
		{line: `node "$APP"`, needShell: true},
		{line: "node *.js", needShell: true},
		{line: "cd web; vite", needShell: true},
		{line: "vite 'unterminated", err: `split command "vite 'unterminated": unterminated ' quote`},
		{line: `vite \`, err: `split command "vite \\": ends with a backslash`},
		{line: "PORT=3000", err: `split command "PORT=3000": no program to run`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			argv, env, needShell, err := Split(tt.line)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Split(%q): error = %v, want %q", tt.line, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Split(%q): %v", tt.line, err)
			}
			if needShell != tt.needShell || !slices.Equal(argv, tt.argv) || !slices.Equal(env, tt.env) {
				t.Errorf("Split(%q) = %q, %q, %v; want %q, %q, %v", tt.line, argv, env, needShell, tt.argv, tt.env, tt.needShell)
			}
		})
	}
}
