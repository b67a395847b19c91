package devproxy

import (
	"fmt"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
)

// benchRouter is a router of 20 routes shaped like a real app's: a few
// short API prefixes, versioned and nested ones, and auth and asset paths.
func benchRouter() *router {
	paths := []string{
		"/api", "/api/v1", "/api/v2", "/api/v1/users", "/api/v1/orders",
		"/api/v2/users", "/api/v2/search", "/api/admin", "/api/health", "/graphql",
		"/auth", "/auth/oauth2", "/socket.io", "/ws", "/uploads",
		"/static/legacy", "/cdn", "/metrics", "/mock/users", "/mock/flags",
	}
	rt := &router{}
	for _, p := range paths {
		rt.routes = append(rt.routes, &compiledRoute{Route: &config.Route{Path: p}})
	}
	sortRoutes(rt.routes)
	return rt
}

func BenchmarkRouterMatch(b *testing.B) {
	rt := benchRouter()
	for _, c := range []struct{ name, path, want string }{
		{"deep", "/api/v2/users/42/avatar", "/api/v2/users"},
		{"short", "/api/products?page=2", "/api"},
		{"last", "/ws", "/ws"},
		{"frontend", "/src/components/App.tsx", ""},
	} {
		if got := matched(rt.match(c.path)); got != c.want {
			b.Fatalf("match(%q) = %q, want %q", c.path, got, c.want)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rt.match(c.path)
			}
		})
	}
}

func matched(r *compiledRoute) string {
	if r == nil {
		return ""
	}
	return r.Path
}

// BenchmarkRouterMatchSize shows how matching grows with the route count:
// a linear scan, longest prefix first.
func BenchmarkRouterMatchSize(b *testing.B) {
	for _, n := range []int{1, 20, 100} {
		rt := &router{}
		for i := range n {
			rt.routes = append(rt.routes, &compiledRoute{Route: &config.Route{Path: fmt.Sprintf("/r%03d", i)}})
		}
		sortRoutes(rt.routes)
		b.Run(fmt.Sprintf("routes=%d/miss", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rt.match("/src/main.ts")
			}
		})
	}
}
