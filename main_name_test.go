package main

import (
	"strings"
	"testing"
)

func TestNameFlag(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		wantCode   int
		wantStderr string
	}{
		{[]string{"-name", "shop_app", "--", "true"}, 2, "devproxy: error: -name \"shop_app\" is not a name: use letters, digits and - between dots\ndevproxy: hint: write \"shop-app\"\n"},
		{[]string{"-name", "http://shop.localhost:8080", "--", "true"}, 2, "devproxy: error: -name \"http://shop.localhost:8080\" is not a name"},
		{[]string{"-name", "localhost", "--", "true"}, 2, "devproxy: error: -name \"localhost\" is localhost itself"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.wantCode || !strings.Contains(stderr, tc.wantStderr) {
			t.Errorf("devproxy %s: exit %d, stderr %q; want exit %d, stderr with %q", strings.Join(tc.args, " "), code, stderr, tc.wantCode, tc.wantStderr)
		}
	}
}
