package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compileSchema compiles Schema with a real JSON Schema validator, which
// also checks it against the draft 2020-12 meta-schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("Schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("compile Schema: %v", err)
	}
	return sch
}

// yamlToJSON decodes a YAML document the way an editor's YAML support
// does before it applies a JSON Schema.
func yamlToJSON(t *testing.T, input string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(input), &v); err != nil {
		t.Fatalf("decode YAML: %v", err)
	}
	b, err := json.Marshal(jsonValue(v))
	if err != nil {
		t.Fatalf("encode JSON: %v", err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonValue turns the map[any]any of YAML keys that are not strings into
// maps of strings, as JSON has them.
func jsonValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = jsonValue(e)
		}
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			b, _ := json.Marshal(k)
			m[strings.Trim(string(b), `"`)] = jsonValue(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = jsonValue(e)
		}
	}
	return v
}

// schemaRejects reports whether the parser's errors for a golden case
// include one that the schema can see without the environment: an unknown
// key, or a value of the wrong type (a mapping, a list, nothing, a boolean
// or a number where the key wants something else).
func schemaRejects(errs string) bool {
	typeErr := regexp.MustCompile(`: (unknown field|want .*, got (a mapping|a list|nothing|true|false|the number .*))$`)
	for line := range strings.SplitSeq(errs, "\n") {
		if typeErr.MatchString(line) {
			return true
		}
	}
	return false
}

func TestSchemaGoldenConfigs(t *testing.T) {
	sch := compileSchema(t)
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
	rejected := 0
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			input, _ := splitGolden(string(raw))
			var probe any
			if err := yaml.Unmarshal([]byte(input), &probe); err != nil {
				t.Skipf("an editor cannot apply a schema to it: %v", err)
			}
			_, perr := Parse("devproxy.yaml", []byte(input), testEnv)
			verr := sch.Validate(yamlToJSON(t, input))
			switch {
			case perr == nil && verr != nil:
				t.Errorf("the parser accepts %s, the schema does not:\n%v", name, verr)
			case perr != nil && schemaRejects(perr.Error()):
				rejected++
				if verr == nil {
					t.Errorf("the parser rejects %s for a key or type error, the schema accepts it:\n%v", name, perr)
				}
			}
		})
	}
	if rejected == 0 {
		t.Error("no golden case has a key or type error")
	}
}

func TestSchemaReadmeExamples(t *testing.T) {
	sch := compileSchema(t)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no yaml examples")
	}
	for i, b := range blocks {
		if err := sch.Validate(yamlToJSON(t, string(b[1]))); err != nil {
			t.Errorf("README yaml example %d does not pass the schema:\n%s\n%v", i+1, b[1], err)
		}
	}
	if err := sch.Validate(yamlToJSON(t, Example)); err != nil {
		t.Errorf("Example does not pass the schema: %v", err)
	}
}

// TestSchemaKeys walks the schema and checks that every key each mapping
// of the parser knows has a property with a description, and no more.
func TestSchemaKeys(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	get := func(m map[string]any, path ...string) map[string]any {
		for _, p := range path {
			next, ok := m[p].(map[string]any)
			if !ok {
				t.Fatalf("schema has no %s", strings.Join(path, "."))
			}
			m = next
		}
		return m
	}
	anyOf := func(m map[string]any, i int) map[string]any {
		return m["anyOf"].([]any)[i].(map[string]any)
	}
	top := get(s, "properties")
	route := anyOf(get(top, "routes", "additionalProperties"), 1)
	cases := []struct {
		name  string
		props map[string]any
		want  []string
	}{
		{"top", top, topFields()},
		{"log", get(top, "log", "properties"), logFields()},
		{"inspect", get(anyOf(get(top, "inspect"), 2), "properties"), inspectFields()},
		{"tls", get(top, "tls", "properties"), tlsFields()},
		{"frontend", get(anyOf(get(top, "frontend"), 1), "properties"), frontendFields()},
		{"route", get(route, "properties"), routeFields()},
		{"cors", get(route, "properties", "cors", "properties"), corsFields()},
		{"respond", get(route, "properties", "respond", "properties"), respondFields()},
		{"fail", get(route, "properties", "fail", "properties"), failFields()},
		{"rate_limit", get(route, "properties", "rate_limit", "properties"), rateLimitFields()},
	}
	for _, c := range cases {
		var got []string
		for k, v := range c.props {
			got = append(got, k)
			if d, _ := v.(map[string]any)["description"].(string); d == "" {
				t.Errorf("%s.%s has no description", c.name, k)
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema keys %q, parser keys %q", c.name, got, want)
		}
	}
}

func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	tests := []struct {
		name, yaml string
	}{
		{"unknown top key", "lisen: 127.0.0.1:8080\n"},
		{"route without slash", "routes: {api: http://localhost:5000}\n"},
		{"host value", "routes: {/a: {target: http://localhost:5000, host: keep}}\n"},
		{"target and respond", "routes: {/a: {target: http://localhost:5000, respond: {status: 200}}}\n"},
		{"json and body", "routes: {/a: {respond: {json: {}, body: x}}}\n"},
		{"cors without origins", "routes: {/a: {target: http://localhost:5000, cors: {credentials: true}}}\n"},
		{"duration without unit", "routes: {/a: {target: http://localhost:5000, timeout: 30}}\n"},
		{"boolean header value", "routes: {/a: {target: http://localhost:5000, headers: {X-A: true}}}\n"},
		{"quoted boolean", "routes: {/a: {target: http://localhost:5000, insecure: \"true\"}}\n"},
		{"fail rate above 1", "routes: {/a: {target: http://localhost:5000, fail: {rate: 1.5}}}\n"},
		{"throttle without unit", "routes: {/a: {target: http://localhost:5000, throttle: 256}}\n"},
		{"fail without rate", "routes: {/a: {target: http://localhost:5000, fail: {status: 503}}}\n"},
		{"record on a mock", "routes: {/a: {respond: {status: 200}, record: ./mocks}}\n"},
		{"inspect string", "inspect: off\n"},
		{"inspect unknown key", "inspect: {keep: 10}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sch.Validate(yamlToJSON(t, tt.yaml))
			var verr *jsonschema.ValidationError
			if !errors.As(err, &verr) {
				t.Errorf("Validate(%q) = %v, want a validation error", tt.yaml, err)
			}
		})
	}
}
