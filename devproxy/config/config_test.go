package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected output of the golden config cases in testdata/config")

// goldenSep separates the input of a golden case from its expected output.
const goldenSep = "----------\n"

// testEnv is the environment every golden case sees.
func testEnv(name string) (string, bool) {
	env := map[string]string{
		"API_HOST": "localhost",
		"API_PORT": "5000",
		"EMPTY":    "",
		"TOKEN":    "secret",
		"INSECURE": "true",
		"STATUS":   "201",
	}
	v, ok := env[name]
	return v, ok
}

// configFixture makes a folder with the files the golden cases refer to,
// next to which their devproxy.yaml is taken to live.
func configFixture(t testing.TB) string {
	dir := t.TempDir()
	files := map[string]string{
		"dist/index.html":         "<!doctype html>",
		"mocks/hello.json":        `{"message":"hello"}`,
		"mocks/blob.nosuchext":    "blob",
		"notes.txt":               "not a folder",
		"recorded/api/GET.http":   "GET /api\n\nHTTP/1.1 200 OK\n\n",
		"certs/localhost.pem":     "-----BEGIN CERTIFICATE-----",
		"certs/localhost-key.pem": "-----BEGIN PRIVATE KEY-----",
	}
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// splitGolden splits a golden file into its YAML input and expected output.
func splitGolden(raw string) (input, want string) {
	if rest, ok := strings.CutPrefix(raw, goldenSep); ok {
		return "", rest
	}
	input, want, ok := strings.Cut(raw, "\n"+goldenSep)
	if !ok {
		return raw, ""
	}
	return input + "\n", want
}

func goldenFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/config/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden cases in testdata/config")
	}
	return files
}

// TestParseConfigGolden parses each testdata/config/NAME.txt and compares the
// error text, or a dump of the Config, with the part after the separator.
// Run with -update to rewrite that part. The cases run in a fixture folder so
// that errors name "devproxy.yaml" as a user would see it.
func TestParseConfigGolden(t *testing.T) {
	var files []string
	for _, path := range goldenFiles(t) {
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, abs)
	}
	dir := configFixture(t)
	t.Chdir(dir)
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			input, want := splitGolden(string(raw))
			got := runConfigCase(t, dir, input)
			if *update {
				if err := os.WriteFile(path, []byte(input+goldenSep+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("Parse(%s):\ngot:\n%s\nwant:\n%s", name, got, want)
			}
		})
	}
}

// runConfigCase parses input as dir/devproxy.yaml and returns the error text
// or a dump of the Config, with dir written as $DIR.
func runConfigCase(t *testing.T, dir, input string) string {
	t.Helper()
	cfg, err := Parse("devproxy.yaml", []byte(input), testEnv)
	var out string
	if err != nil {
		if _, ok := err.(Errors); !ok {
			t.Errorf("Parse: got error of type %T, want Errors", err)
		}
		out = err.Error() + "\n"
	} else {
		if cfg.Dir != dir {
			t.Errorf("Parse: got Dir %q, want %q", cfg.Dir, dir)
		}
		out = dumpConfig(cfg)
	}
	return strings.ReplaceAll(out, dir, "$DIR")
}

// dumpConfig writes cfg one field a line, paths relative to cfg.Dir.
func dumpConfig(cfg *Config) string {
	var b strings.Builder
	rel := func(path string) string {
		r, err := filepath.Rel(cfg.Dir, path)
		if err != nil {
			return path
		}
		return filepath.ToSlash(r)
	}
	headers := func(indent string, hs []Header) {
		for _, h := range hs {
			fmt.Fprintf(&b, "%sheader %s %q\n", indent, h.Name, h.Value)
		}
	}
	command := func(indent string, c *Command) {
		fmt.Fprintf(&b, "%scommand %q dir %s (line %d)\n", indent, c.Text, rel(c.Dir), c.Line)
		for _, e := range c.Env {
			fmt.Fprintf(&b, "%s  env %q\n", indent, e)
		}
	}
	fmt.Fprintf(&b, "listen %s\n", cfg.Listen)
	if cfg.HTTPS {
		fmt.Fprintf(&b, "https\n")
	}
	if cfg.Name != "" {
		fmt.Fprintf(&b, "name %s (line %d)\n", cfg.Name, cfg.NameLine)
	}
	if t := cfg.TLS; t != nil {
		fmt.Fprintf(&b, "tls cert %s key %s (line %d)\n", rel(t.Cert), rel(t.Key), t.Line)
	}
	if fe := cfg.Frontend; fe != nil {
		switch {
		case fe.Command != nil:
			fmt.Fprintf(&b, "frontend command (line %d)\n", fe.Line)
			if fe.URL != nil {
				fmt.Fprintf(&b, "  url %s\n", fe.URL)
			}
			command("  ", fe.Command)
		case fe.URL != nil:
			fmt.Fprintf(&b, "frontend url %s (line %d)\n", fe.URL, fe.Line)
		default:
			fmt.Fprintf(&b, "frontend dir %s spa %t (line %d)\n", rel(fe.Dir), fe.SPA, fe.Line)
		}
		if fe.FallbackAPI != nil {
			fmt.Fprintf(&b, "  fallback_api %s (line %d)\n", fe.FallbackAPI, fe.FallbackLine)
		}
	}
	for _, h := range cfg.AllowedHosts {
		fmt.Fprintf(&b, "allowed_host %s\n", h)
	}
	for _, o := range cfg.AllowedOrigins {
		fmt.Fprintf(&b, "allowed_origin %s\n", o)
	}
	if cfg.Log.FrontendAll {
		fmt.Fprintf(&b, "log frontend all\n")
	}
	if cfg.Inspect != (InspectSettings{}) {
		fmt.Fprintf(&b, "inspect off %t requests %d\n", cfg.Inspect.Off, cfg.Inspect.Requests)
	}
	for _, r := range cfg.Routes {
		fmt.Fprintf(&b, "route %s (line %d)\n", r.Path, r.Line)
		if r.Command != nil {
			command("  ", r.Command)
		}
		if r.Target != nil {
			fmt.Fprintf(&b, "  target %s\n", r.Target)
			fmt.Fprintf(&b, "  strip_prefix %t preserve_host %t insecure %t timeout %s\n",
				r.StripPrefix, r.PreserveHost, r.Insecure, r.Timeout)
			headers("  ", r.Headers)
		}
		if m := r.Respond; m != nil {
			fmt.Fprintf(&b, "  respond status %d delay %s content_type %q\n", m.Status, m.Delay, m.ContentType)
			if m.Body != nil {
				fmt.Fprintf(&b, "    body %q\n", m.Body)
			}
			if m.File != "" {
				fmt.Fprintf(&b, "    file %s\n", rel(m.File))
			}
			headers("    ", m.Headers)
		}
		if rec := r.Record; rec != nil {
			fmt.Fprintf(&b, "  record %s secrets %t (line %d)\n", rel(rec.Dir), rec.Secrets, rec.Line)
		}
		if rep := r.Replay; rep != nil {
			fmt.Fprintf(&b, "  replay %s auto %t (line %d)\n", rel(rep.Dir), rep.Auto, rep.Line)
		}
		if r.Fallback != nil {
			fmt.Fprintf(&b, "  fallback %s\n", r.Fallback)
		}
		if in := r.Inject; in.Active() {
			fmt.Fprintf(&b, "  inject latency %s..%s fail %g status %d throttle %dB/s rate_limit %d per %s\n",
				in.LatencyMin, in.LatencyMax, in.FailRate, in.FailStatus, in.Throttle, in.RateRequests, in.RatePer)
		}
		if c := r.CORS; c != nil {
			fmt.Fprintf(&b, "  cors origins %q credentials %t max_age %s (line %d)\n", c.Origins, c.Credentials, c.MaxAge, c.Line)
			if c.Headers != nil {
				fmt.Fprintf(&b, "    headers %q\n", c.Headers)
			}
			if c.Methods != nil {
				fmt.Fprintf(&b, "    methods %q\n", c.Methods)
			}
			if c.Expose != nil {
				fmt.Fprintf(&b, "    expose %q\n", c.Expose)
			}
		}
	}
	for _, s := range cfg.Sites {
		fmt.Fprintf(&b, "site %s (line %d)\n", s.Name, s.Line)
		// The site's frontend and routes as the top-level ones are
		// written, less the listen line, indented.
		_, inner, _ := strings.Cut(dumpConfig(&Config{Dir: cfg.Dir, Frontend: s.Frontend, Routes: s.Routes}), "\n")
		for line := range strings.Lines(inner) {
			b.WriteString("  " + line)
		}
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(&b, "warning %s\n", w)
	}
	return b.String()
}

// FuzzParseConfig checks that no input makes Parse panic, and that
// every problem it reports is placed on a line and worded for people.
func FuzzParseConfig(f *testing.F) {
	for _, path := range goldenFiles(f) {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		input, _ := splitGolden(string(raw))
		f.Add([]byte(input))
	}
	file := filepath.Join(configFixture(f), "devproxy.yaml")
	jargon := []string{"!!", "map[", "[]interface", "string into", "yaml: ", "reflect", "*url.URL", "%!", "<nil>"}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(file, data, testEnv)
		if err == nil {
			checkConfig(t, cfg)
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("Parse(%q): got error %v of type %T, want non-empty Errors", data, err, err)
		}
		lines := countLines(data)
		for i, e := range errs {
			if e.Line < 1 || e.Line > lines {
				t.Errorf("Parse(%q): got line %d in %q, want 1 to %d", data, e.Line, e, lines)
			}
			if i > 0 && (errs[i-1].Line > e.Line || errs[i-1].Line == e.Line && errs[i-1].Col > e.Col) {
				t.Errorf("Parse(%q): got %q after %q, want sorted by line and column", data, e, errs[i-1])
			}
			for _, j := range jargon {
				if text := e.Msg + e.Hint; strings.Contains(text, j) && !strings.Contains(string(data), j) {
					t.Errorf("Parse(%q): got %q, want no %q", data, e, j)
				}
			}
		}
	})
}

// checkConfig checks what the rest of devproxy relies on in a parsed Config.
func checkConfig(t *testing.T, cfg *Config) {
	t.Helper()
	if cfg == nil {
		t.Fatal("Parse: got nil Config and nil error")
	}
	if cfg.Listen == "" {
		t.Errorf("Parse: got empty Listen, want %q or the file's", DefaultListen)
	}
	if fe := cfg.Frontend; fe != nil && fe.Command == nil && (fe.URL == nil) == (fe.Dir == "") {
		t.Errorf("Parse: got frontend URL %v and Dir %q, want exactly one", fe.URL, fe.Dir)
	}
	for _, r := range cfg.Routes {
		if !strings.HasPrefix(r.Path, "/") || strings.HasSuffix(r.Path, "/") || r.Path == ReservedPrefix {
			t.Errorf("Parse: got route path %q, want a leading slash and no trailing one", r.Path)
		}
		if r.Replay != nil && (r.Replay.Dir == "" || r.Respond != nil || r.Replay.Auto && r.Target == nil && r.Command == nil) {
			t.Errorf("Parse: route %q: got replay %+v with target %v and respond %v", r.Path, r.Replay, r.Target, r.Respond)
		}
		if r.Fallback != nil && r.Target == nil && r.Command == nil {
			t.Errorf("Parse: route %q: got fallback %v without a target", r.Path, r.Fallback)
		}
		if (r.Target == nil) == (r.Respond == nil) && !(r.Command != nil && r.Respond == nil) && !(r.Replay != nil && r.Respond == nil) {
			t.Errorf("Parse: route %q: got target %v and respond %v, want exactly one", r.Path, r.Target, r.Respond)
		}
		if r.Target != nil && r.Timeout <= 0 {
			t.Errorf("Parse: route %q: got timeout %v, want more than 0", r.Path, r.Timeout)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	dir := configFixture(t)
	file := filepath.Join(dir, "devproxy.yaml")
	if err := os.WriteFile(file, []byte("frontend: ./dist\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, testEnv)
	if err != nil {
		t.Fatalf("Load(%q): got error %v, want nil", file, err)
	}
	if cfg.File != file || cfg.Dir != dir {
		t.Errorf("Load(%q): got File %q Dir %q, want %q and %q", file, cfg.File, cfg.Dir, file, dir)
	}
	if want := filepath.Join(dir, "dist"); cfg.Frontend == nil || cfg.Frontend.Dir != want || !cfg.Frontend.SPA {
		t.Errorf("Load(%q): got frontend %+v, want Dir %q with SPA", file, cfg.Frontend, want)
	}

	missing := filepath.Join(dir, "nope.yaml")
	if _, err := Load(missing, testEnv); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(%q): got error %v, want one that is fs.ErrNotExist", missing, err)
	}
}

// TestParseConfigRelativeFile checks that paths in a file named relative to
// the working directory resolve against the file's folder, not the working
// directory.
func TestParseConfigRelativeFile(t *testing.T) {
	dir := configFixture(t)
	t.Chdir(filepath.Dir(dir))
	file := filepath.Join(filepath.Base(dir), "devproxy.yaml")
	cfg, err := Parse(file, []byte("routes: {/m: {respond: {file: mocks/hello.json}}}\n"), testEnv)
	if err != nil {
		t.Fatalf("Parse(%q): got error %v, want nil", file, err)
	}
	if want := filepath.Join(dir, "mocks", "hello.json"); cfg.Routes[0].Respond.File != want {
		t.Errorf("Parse(%q): got mock file %q, want %q", file, cfg.Routes[0].Respond.File, want)
	}
	if cfg.File != file {
		t.Errorf("Parse(%q): got File %q, want it as given", file, cfg.File)
	}
}

func TestParseConfigListen(t *testing.T) {
	tests := []struct {
		in       string
		want     string // the Listen value, or "" for an error
		wantHint string
	}{
		{in: "127.0.0.1:8080", want: "127.0.0.1:8080"},
		{in: "localhost:0", want: "localhost:0"},
		{in: `":8080"`, want: ":8080"},
		{in: `"[::1]:8080"`, want: "[::1]:8080"},
		{in: "8080", wantHint: `write "127.0.0.1:8080"`},
		{in: "localhost:abc", wantHint: `write "localhost:8080"`},
		{in: "localhost:65536", wantHint: `write "localhost:8080"`},
		{in: "localhost", wantHint: `write "localhost:8080"`},
		{in: "http://localhost:8080", wantHint: `write "localhost:8080"`},
		{in: `""`, wantHint: `write "127.0.0.1:8080"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			cfg, err := Parse("devproxy.yaml", []byte("listen: "+tt.in+"\n"), testEnv)
			if tt.want != "" {
				if err != nil || cfg.Listen != tt.want {
					t.Errorf("Parse(listen: %s): got %v, %v, want %q", tt.in, cfg, err, tt.want)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Hint != tt.wantHint {
				t.Errorf("Parse(listen: %s): got %v, want one error with hint %q", tt.in, err, tt.wantHint)
			}
		})
	}
}

func TestParseConfigDefaults(t *testing.T) {
	for _, in := range []string{"", "\n", "# nothing\n", "~\n", "---\n", "null\n"} {
		t.Run(fmt.Sprintf("%q", in), func(t *testing.T) {
			cfg, err := Parse("devproxy.yaml", []byte(in), testEnv)
			if err != nil {
				t.Fatalf("Parse(%q): got error %v, want nil", in, err)
			}
			if cfg.Listen != DefaultListen || cfg.Frontend != nil || len(cfg.Routes) != 0 {
				t.Errorf("Parse(%q): got %+v, want defaults only", in, cfg)
			}
		})
	}
}

// TestParseConfigOSEnv checks that a nil lookupEnv reads the process
// environment.
func TestParseConfigOSEnv(t *testing.T) {
	t.Setenv("DEVPROXY_TEST_PORT", "5999")
	cfg, err := Parse("devproxy.yaml", []byte("routes: {/api: \"http://localhost:${DEVPROXY_TEST_PORT}\"}\n"), nil)
	if err != nil {
		t.Fatalf("Parse: got error %v, want nil", err)
	}
	if got, want := cfg.Routes[0].Target.String(), "http://localhost:5999"; got != want {
		t.Errorf("Parse: got target %q, want %q", got, want)
	}
}

func TestParseConfigEnvExpansion(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{in: "plain", want: "plain"},
		{in: "${TOKEN}", want: "secret"},
		{in: "a${TOKEN}b${TOKEN}c", want: "asecretbsecretc"},
		{in: "${UNSET:-fallback}", want: "fallback"},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${EMPTY}", want: ""},
		{in: "${TOKEN:-fallback}", want: "secret"},
		{in: "${UNSET:-}", want: ""},
		{in: "$TOKEN and $$ and $ {TOKEN}", want: "$TOKEN and $$ and $ {TOKEN}"},
		{in: "${UNSET:-a:-b}", want: "a:-b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			in := fmt.Sprintf("routes: {/m: {respond: {body: %q}}}\n", tt.in)
			cfg, err := Parse("devproxy.yaml", []byte(in), testEnv)
			if err != nil {
				t.Fatalf("Parse(%q): got error %v, want nil", in, err)
			}
			if got := string(cfg.Routes[0].Respond.Body); got != tt.want {
				t.Errorf("Parse(%q): got body %q, want %q", in, got, tt.want)
			}
		})
	}
}

// TestParseConfigAliasBomb pins that a json value built from nested aliases
// (a "billion laughs" file) fails fast instead of growing without bound.
func TestParseConfigAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i,
			i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	in := "routes:\n  /bomb:\n    respond:\n      json:\n" + indent(b.String(), "        ")
	_, err := Parse("devproxy.yaml", []byte(in), testEnv)
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Errorf("Parse(alias bomb): got %v, want an error saying it expands to more than 16 MiB", err)
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

func TestParseConfigNotUTF8(t *testing.T) {
	in := "listen: 127.0.0.1:8080\nroutes:\n  /caf\xe9: http://localhost:5000\n"
	_, err := Parse("devproxy.yaml", []byte(in), testEnv)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line != 3 || !strings.Contains(errs[0].Msg, "UTF-8") {
		t.Errorf("Parse(%q): got %v, want one UTF-8 error on line 3", in, err)
	}
}

func TestSuggest(t *testing.T) {
	known := routeFields()
	tests := []struct{ name, want string }{
		{"tagret", `did you mean "target"?`},
		{"timout", `did you mean "timeout"?`},
		{"strip-prefix", `did you mean "strip_prefix"?`},
		{"STRIP_PREFIX", `did you mean "strip_prefix"?`},
		{"insecur", `did you mean "insecure"?`},
		{"x", "known fields: target, strip_prefix, host, insecure, headers, timeout, respond, cors, command, dir, env, record, record_secrets, replay, fallback, latency, fail, throttle, rate_limit"},
		{"upstream", "known fields: target, strip_prefix, host, insecure, headers, timeout, respond, cors, command, dir, env, record, record_secrets, replay, fallback, latency, fail, throttle, rate_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := suggest(tt.name, known); got != tt.want {
				t.Errorf("suggest(%q): got %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

// bombConfigs are configs whose aliases or ${VAR}s expand a large value
// many times over: each would build hundreds of megabytes if expansion were
// bounded by nodes rather than bytes. bigEnv resolves ${BIG} to 64 KiB.
func bombConfigs() []struct{ name, config, field string } {
	big := strings.Repeat("A", 1<<20)
	refs := func(ref string, n int) string { return strings.TrimSuffix(strings.Repeat(ref+", ", n), ", ") }
	return []struct{ name, config, field string }{
		{"json aliases of a large string", "routes:\n  /a:\n    respond:\n      json: &s \"" + big + "\"\n  /b:\n    respond:\n      json: [" + refs("*s", 300) + "]\n", "routes./b.respond.json"},
		{"json ${VAR}s", "routes:\n  /b:\n    respond:\n      json: [" + refs(`"${BIG}${BIG}${BIG}${BIG}"`, 1000) + "]\n", "routes./b.respond.json"},
		{"body ${VAR}s", "routes:\n  /b:\n    respond:\n      body: \"" + strings.Repeat("${BIG}", 4000) + "\"\n", "routes./b.respond.body"},
		{"a mock aliased by many routes", "routes:\n  /a:\n    respond: &m {body: \"" + big + "\"}\n" + func() string {
			var b strings.Builder
			for i := range 300 {
				fmt.Fprintf(&b, "  /r%d:\n    respond: *m\n", i)
			}
			return b.String()
		}(), "routes./r"},
		{"header ${VAR}s", "routes:\n  /b:\n    target: http://localhost:5000\n    headers: {X-Big: \"" + strings.Repeat("${BIG}", 4000) + "\"}\n", "routes./b.headers.X-Big"},
	}
}

func bigEnv(name string) (string, bool) {
	if name == "BIG" {
		return strings.Repeat("B", 64<<10), true
	}
	return testEnv(name)
}

// TestParseConfigExpansionBoundedBySize pins that aliases and ${VAR}s are
// bounded by the bytes they produce: a file of a megabyte that would expand
// to hundreds is refused with a config error, without the memory.
func TestParseConfigExpansionBoundedBySize(t *testing.T) {
	for _, tt := range bombConfigs() {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Parse("devproxy.yaml", []byte(tt.config), bigEnv)
			runtime.ReadMemStats(&after)
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse: got %v, want a config error", err)
			}
			found := false
			for _, e := range errs {
				if strings.HasPrefix(e.Field, tt.field) && strings.Contains(e.Msg, "expands to more than 16 MiB") &&
					strings.Contains(e.Hint, "file:") && e.Line > 0 {
					found = true
				}
			}
			if !found {
				t.Errorf("Parse: got %v, want an error on %s saying it expands to more than 16 MiB", shortErr(err), tt.field)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 160<<20 {
				t.Errorf("Parse allocated %d MiB, want at most 160", grown>>20)
			}
		})
	}
}

// shortErr keeps a failure message readable when the error quotes a huge
// value.
func shortErr(err error) string {
	s := fmt.Sprint(err)
	if len(s) > 2000 {
		s = s[:2000] + "[…]"
	}
	return s
}

// TestJSONStringMatchesEncodingJSON pins that a mock's json: strings are
// escaped as encoding/json escapes them (without HTML escaping).
func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	var all strings.Builder
	for c := range 0x80 {
		all.WriteByte(byte(c))
	}
	tests := []string{"", "plain", all.String(), "<a href=\"x\">&amp;</a>", "é ü 日本 🎉", "bad \xff\xfe utf-8 \xe2\x28", "\u2028 \u2029 \u00ad \ufeff", `\ "quoted" \\`}
	for _, s := range tests {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		e := &jsonEncoder{}
		e.string(s)
		if got, want := e.buf.String(), strings.TrimSuffix(want.String(), "\n"); got != want {
			t.Errorf("string(%q): got %s, want %s", s, got, want)
		}
	}
}

// TestConfigErrorsPrintValuesWhole pins that a path, value or name in a
// config error is printed whole, escaped: cutting it hid the very part that
// was wrong.
func TestConfigErrorsPrintValuesWhole(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a-rather-long-project-folder-name", "with", "several", "levels")
	long := "http://" + strings.Repeat("very-long-host-name.", 5) + "example"
	tests := []struct{ name, config, want string }{
		{"missing frontend folder", "frontend: ./dist/of/the/build/output\n", strconv.Quote(filepath.Join(dir, "dist/of/the/build/output"))},
		{"missing frontend dir", "frontend: {dir: ./dist/of/the/build/output}\n", strconv.Quote(filepath.Join(dir, "dist/of/the/build/output"))},
		{"missing mock file", "routes:\n  /m:\n    respond: {file: mocks/deeply/nested/fixture-name.json}\n", strconv.Quote(filepath.Join(dir, "mocks/deeply/nested/fixture-name.json"))},
		{"long target", "routes:\n  /a: " + long + ":99999\n", strconv.Quote(long + ":99999")},
		{"long value with control characters", "routes:\n  /a: \"" + strings.Repeat("x", 70) + "\\tend\"\n", strconv.Quote(strings.Repeat("x", 70) + "\tend")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(filepath.Join(dir, "devproxy.yaml"), []byte(tt.config), testEnv)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "…") {
				t.Errorf("Parse(%q): got %v, want an error naming %s whole", tt.config, err, tt.want)
			}
		})
	}
}

// TestLoadFor checks that LoadFor returns the bytes it parsed, which a
// watching server compares later saves with, and refuses a target on an
// address the server listens on.
func TestLoadFor(t *testing.T) {
	dir := configFixture(t)
	file := filepath.Join(dir, "devproxy.yaml")
	data := "routes:\n  /api: http://127.0.0.1:7000\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, got, err := LoadFor(file, testEnv, []string{"127.0.0.1:9000"})
	if err != nil {
		t.Fatalf("LoadFor(%q): got error %v, want nil", file, err)
	}
	if string(got) != data || len(cfg.Routes) != 1 {
		t.Errorf("LoadFor(%q): got bytes %q and %d routes, want %q and 1", file, got, len(cfg.Routes), data)
	}
	cfg, got, err = LoadFor(file, testEnv, []string{"127.0.0.1:7000"})
	if err == nil || !strings.Contains(err.Error(), "is devproxy itself") || cfg != nil || got != nil {
		t.Errorf("LoadFor(%q) listening on the target: got %v, %q, %v; want no config, no bytes and an error naming devproxy itself", file, cfg, got, err)
	}
}
