package config

import (
	"errors"
	"testing"
)

func TestConfigErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{
			name: "full",
			err: Error{File: "devproxy.yaml", Line: 7, Col: 5, Field: "routes./api.target",
				Msg: `"localhost:5000" has no scheme`, Hint: `write "http://localhost:5000"`},
			want: "devproxy.yaml:7:5: routes./api.target: \"localhost:5000\" has no scheme\n  hint: write \"http://localhost:5000\"",
		},
		{
			name: "no column",
			err:  Error{File: "devproxy.yaml", Line: 3, Msg: "invalid YAML: did not find expected key"},
			want: "devproxy.yaml:3: invalid YAML: did not find expected key",
		},
		{
			name: "no hint",
			err:  Error{File: "a/devproxy.yaml", Line: 1, Col: 9, Field: "listen", Msg: "is empty"},
			want: "a/devproxy.yaml:1:9: listen: is empty",
		},
		{
			name: "no position",
			err:  Error{File: "devproxy.yaml", Msg: "the file is empty"},
			want: "devproxy.yaml: the file is empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error(): got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigErrorsError(t *testing.T) {
	first := &Error{File: "devproxy.yaml", Line: 1, Col: 1, Field: "lisen", Msg: "unknown field", Hint: `did you mean "listen"?`}
	second := &Error{File: "devproxy.yaml", Line: 4, Col: 9, Field: "routes./api", Msg: "route has no target"}
	var err error = Errors{first, second}
	want := "devproxy.yaml:1:1: lisen: unknown field\n  hint: did you mean \"listen\"?\n" +
		"devproxy.yaml:4:9: routes./api: route has no target"
	if got := err.Error(); got != want {
		t.Errorf("Error(): got %q, want %q", got, want)
	}
	var one *Error
	if !errors.As(err, &one) || one != first {
		t.Errorf("errors.As(Errors, *Error): got %v, want the first error %v", one, first)
	}
}
