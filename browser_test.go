package main

import (
	"slices"
	"testing"
)

func TestBrowserCommand(t *testing.T) {
	const u = "http://localhost:8080"
	for _, tt := range []struct {
		goos string
		want []string
	}{
		{"linux", []string{"xdg-open", u}},
		{"freebsd", []string{"xdg-open", u}},
		{"darwin", []string{"open", u}},
		{"windows", []string{"cmd", "/c", "start", "", u}},
	} {
		if got := browserCommand(tt.goos, u); !slices.Equal(got, tt.want) {
			t.Errorf("browserCommand(%q) = %q, want %q", tt.goos, got, tt.want)
		}
	}
}
