package devproxy

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/devproxy/devproxy/devproxy/config"
)

func benchUpstream(b *testing.B, r *config.Route) *upstream {
	b.Helper()
	return newUpstream(upstreamOptions{name: r.Path, route: r, target: r.Target, transport: http.DefaultTransport, buffers: newBufferPool()})
}

func mustURL(b *testing.B, s string) *url.URL {
	b.Helper()
	u, err := url.Parse(s)
	if err != nil {
		b.Fatal(err)
	}
	return u
}

// BenchmarkRewrite measures the Rewrite hook on the outbound request that
// ReverseProxy hands it. "clone" is ReverseProxy's own copy of the request
// before Rewrite, done in every iteration: subtract it to get the hook's
// cost.
func BenchmarkRewrite(b *testing.B) {
	in := browserRequest("/api/v1/users/42?fields=name%2Cemail&page=2")
	ctx := context.Background()
	b.Run("clone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in.Clone(ctx)
		}
	})
	for _, c := range []struct {
		name string
		r    *config.Route
		want string
	}{
		{"plain", &config.Route{Path: "/api", Target: mustURL(b, "http://localhost:5000")},
			"http://localhost:5000/api/v1/users/42?fields=name%2Cemail&page=2"},
		{"strip+base+headers", &config.Route{Path: "/api", Target: mustURL(b, "https://localhost:7001/base"), StripPrefix: true,
			Headers: []config.Header{{Name: "X-Dev-User", Value: "alice"}, {Name: "Cookie", Value: ""}}},
			"https://localhost:7001/base/v1/users/42?fields=name%2Cemail&page=2"},
	} {
		u := benchUpstream(b, c.r)
		pr := &httputil.ProxyRequest{In: in, Out: in.Clone(ctx)}
		u.rewrite(pr)
		if got := pr.Out.URL.Scheme + "://" + pr.Out.URL.Host + pr.Out.URL.RequestURI(); got != c.want {
			b.Fatalf("%s: rewritten URL = %q, want %q", c.name, got, c.want)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				u.rewrite(&httputil.ProxyRequest{In: in, Out: in.Clone(ctx)})
			}
		})
	}
}

// BenchmarkModifyResponse measures the ModifyResponse hook. Each iteration
// starts from a fresh copy of the headers, as the hook rewrites them in
// place; "clone" is that copy alone.
func BenchmarkModifyResponse(b *testing.B) {
	u := benchUpstream(b, &config.Route{Path: "/auth", Target: mustURL(b, "http://localhost:5000/base"), StripPrefix: true})
	out := browserRequest("/base/login")
	out.Header.Set("X-Forwarded-Host", "localhost:8080")
	out.Header.Set("X-Forwarded-Proto", "http")
	api := http.Header{
		"Content-Type":   {"application/json; charset=utf-8"},
		"Content-Length": {"1024"},
		"Date":           {"Sat, 28 Nov 2026 13:00:00 GMT"},
		"Etag":           {`W/"400-abc"`},
		"Vary":           {"Accept-Encoding"},
	}
	redirect := http.Header{
		"Location":     {"http://localhost:5000/base/account?tab=profile"},
		"Content-Type": {"text/html; charset=utf-8"},
		"Date":         {"Sat, 28 Nov 2026 13:00:00 GMT"},
		"Set-Cookie": {
			"session=4f2a9c; Domain=localhost; Path=/base; HttpOnly; SameSite=Lax",
			"csrf=77e1; Domain=.localhost; Path=/base/account; Secure",
		},
	}
	res := &http.Response{StatusCode: http.StatusFound, Header: redirect.Clone(), Request: out}
	if err := u.modifyResponse(res); err != nil {
		b.Fatal(err)
	}
	if got, want := res.Header.Get("Location"), "http://localhost:8080/auth/account?tab=profile"; got != want {
		b.Fatalf("Location = %q, want %q", got, want)
	}
	if got, want := res.Header["Set-Cookie"][0], "session=4f2a9c; Path=/auth; HttpOnly; SameSite=Lax"; got != want {
		b.Fatalf("Set-Cookie = %q, want %q", got, want)
	}
	b.Run("clone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			redirect.Clone()
		}
	})
	for _, c := range []struct {
		name string
		h    http.Header
	}{
		{"api-json", api},
		{"redirect+cookies", redirect},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = u.modifyResponse(&http.Response{StatusCode: http.StatusOK, Header: c.h.Clone(), Request: out})
			}
		})
	}
}
