package devproxy

import (
	"bytes"
	"os"
	"testing"
)

func TestColorChoice(t *testing.T) {
	var buf bytes.Buffer
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	tests := []struct {
		name string
		mode ColorMode
		env  map[string]string
		want bool
	}{
		{"pipe", ColorAuto, nil, false},
		{"NO_COLOR", ColorAuto, map[string]string{"NO_COLOR": "1"}, false},
		{"NO_COLOR wins over FORCE_COLOR", ColorAuto, map[string]string{"NO_COLOR": "1", "FORCE_COLOR": "1"}, false},
		{"CLICOLOR_FORCE", ColorAuto, map[string]string{"CLICOLOR_FORCE": "1"}, true},
		{"FORCE_COLOR", ColorAuto, map[string]string{"FORCE_COLOR": "1"}, true},
		{"FORCE_COLOR=0", ColorAuto, map[string]string{"FORCE_COLOR": "0"}, false},
		{"always", ColorAlways, map[string]string{"NO_COLOR": "1"}, true},
		{"never", ColorNever, map[string]string{"FORCE_COLOR": "1"}, false},
	}
	for _, tt := range tests {
		env := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
		for _, w := range []any{&buf, devnull} {
			got, width := terminal(w.(interface{ Write([]byte) (int, error) }), tt.mode, env)
			if got != tt.want || width != 0 {
				t.Errorf("%s to %T: color %t width %d, want %t 0", tt.name, w, got, width, tt.want)
			}
		}
	}
}
