package printable

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET /api/users", "GET /api/users"},
		{"café ✓", "café ✓"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"line\nforged 200", `line\nforged 200`},
		{"bad \xff byte", `bad \xff byte`},
		{"rtl\u202eoverride", `rtl\u202eoverride`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
