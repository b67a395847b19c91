package devproxy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestHeaderGetKeysAreCanonical reads this package's source: every name
// passed to headerGet must be in canonical form, or the lookup would miss
// what http.Header.Get finds.
func TestHeaderGetKeysAreCanonical(t *testing.T) {
	if hopHeader != http.CanonicalHeaderKey(hopHeader) {
		t.Errorf("hopHeader %q is not canonical", hopHeader)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "headerGet" {
				return true
			}
			calls++
			switch key := call.Args[1].(type) {
			case *ast.BasicLit:
				s, err := strconv.Unquote(key.Value)
				if err != nil || s != http.CanonicalHeaderKey(s) {
					t.Errorf("%s: headerGet of %s, not a canonical name (%q)", fset.Position(key.Pos()), key.Value, http.CanonicalHeaderKey(s))
				}
			case *ast.Ident:
				// hopHeader, checked above; key ranges over "Location"
				// and "Content-Location" in modifyResponse.
				if key.Name != "hopHeader" && key.Name != "key" {
					t.Errorf("%s: headerGet of %s, which this test cannot check; pass a literal name", fset.Position(key.Pos()), key.Name)
				}
			default:
				t.Errorf("%s: headerGet of an expression this test cannot check; pass a literal name", fset.Position(key.Pos()))
			}
			return true
		})
	}
	if calls < 20 {
		t.Errorf("found %d calls of headerGet, want the twenty-odd there are", calls)
	}
}

func TestHeaderGetAsGet(t *testing.T) {
	h := http.Header{"Origin": {"http://a"}, "Accept": {"x", "y"}, "Empty": {}, "lower": {"v"}}
	for _, k := range []string{"Origin", "Accept", "Empty", "Missing", "Lower"} {
		if got, want := headerGet(h, k), h.Get(k); got != want {
			t.Errorf("headerGet(%q) = %q, Get says %q", k, got, want)
		}
	}
}
