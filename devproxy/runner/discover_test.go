package runner

import (
	"strconv"
	"testing"
)

func itoa(n int) string { return strconv.Itoa(n) }

// The lines are what each tool prints, colours included where it uses
// them, as their sources write them.
func TestDiscoverURL(t *testing.T) {
	tests := []struct {
		tool, line, want string
	}{
		{"vite", "  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:\x1b[1m5173\x1b[22m/\x1b[39m", "http://localhost:5173/"},
		{"vite plain", "  ➜  Local:   http://127.0.0.1:5173/app/", "http://127.0.0.1:5173/app/"},
		{"vite network", "  ➜  Network: http://192.168.1.20:5173/", ""},
		{"vite network hint", "  ➜  Network: use --host to expose", ""},
		{"vite proxy error", "[vite] http proxy error: /api/users\nError: connect ECONNREFUSED http://localhost:5000", ""},
		{"next 13+", "   - Local:        http://localhost:3000", "http://localhost:3000"},
		{"next 13+ network", "   - Network:      http://192.168.1.20:3000", ""},
		{"next 12", "ready - started server on 0.0.0.0:3000, url: http://localhost:3000", "http://localhost:3000"},
		{"angular 17+", "  ➜  Local:   http://localhost:4200/", "http://localhost:4200/"},
		{"angular 16", "** Angular Live Development Server is listening on localhost:4200, open your browser on http://localhost:4200/ **", "http://localhost:4200/"},
		{"cra", "  Local:            http://localhost:3000", "http://localhost:3000"},
		{"cra network", "  On Your Network:  http://10.0.0.188:3000", ""},
		{"webpack-dev-server", "<i> [webpack-dev-server] Loopback: http://localhost:8080/, http://[::1]:8080/", "http://localhost:8080/"},
		{"webpack-dev-server ipv4", "<i> [webpack-dev-server] On Your Network (IPv4): http://192.168.1.20:8080/", ""},
		{"astro", " \x1b[2m┃\x1b[22m Local    \x1b[1m\x1b[36mhttp://localhost:4321/\x1b[39m\x1b[22m", "http://localhost:4321/"},
		{"nuxt", "  ➜ Local:    http://localhost:3000/", "http://localhost:3000/"},
		{"express", "Server listening on http://localhost:5000", "http://localhost:5000"},
		{"wildcard", "listening on http://0.0.0.0:8000", "http://localhost:8000"},
		{"ipv6 wildcard", "Listening on http://[::]:8000/", "http://localhost:8000/"},
		{"ipv6 loopback", "running at http://[::1]:8000", "http://[::1]:8000"},
		{"https", "  ➜  Local:   https://localhost:5173/", "https://localhost:5173/"},
		{"sentence end", "Server running at http://127.0.0.1:3000.", "http://127.0.0.1:3000"},
		{"no keyword", "GET http://localhost:5000/users 200", ""},
		{"remote", "listening on http://example.com:80", ""},
		{"no url", "webpack compiled successfully", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			got, ok := DiscoverURL(tt.line)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("DiscoverURL(%q) = %q, %v; want %q", tt.line, got, ok, tt.want)
			}
		})
	}
}

func TestStripANSI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m", "➜  Local"},
		{"\x1b[2K\x1b[1Gprogress", "progress"},
		{"\x1b]8;;http://x\x07link\x1b]8;;\x07", "link"},
		{"\x1b]0;title\x1b\\after", "after"},
		{"\x1b[?25l hidden cursor", " hidden cursor"},
	}
	for _, tt := range tests {
		if got := StripANSI(tt.in); got != tt.want {
			t.Errorf("StripANSI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSameServer(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"http://localhost:5173", "http://localhost:5173/", true},
		{"http://localhost:5173", "http://127.0.0.1:5173/", true},
		{"http://localhost:5173", "http://localhost:5174/", false},
		{"http://localhost:5173", "https://localhost:5173/", false},
		{"http://localhost", "http://127.0.0.1:80", true},
	}
	for _, tt := range tests {
		if got := sameServer(tt.a, tt.b); got != tt.want {
			t.Errorf("sameServer(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
