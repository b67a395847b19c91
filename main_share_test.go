//go:build linux

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devproxy/devproxy/devproxy/localca"
	"github.com/devproxy/devproxy/internal/testnet"
)

// project is a folder with a devproxy.yaml named name whose frontend
// answers with name.
func project(t *testing.T, name string) string {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", name, r.URL.Path)
	}))
	t.Cleanup(app.Close)
	dir := filepath.Join(t.TempDir(), name)
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "devproxy.yaml"), []byte("name: "+name+"\nfrontend: "+app.URL+"\n"), 0o644))
	return dir
}

// TestBinaryProjectsShareAnAddress runs two devproxies for two projects
// on one address: the second registers its name with the first instead of
// failing, devproxy ls lists both, the second leaving takes only its
// name, and the first leaving while the second runs keeps the second's
// name served until it leaves too.
func TestBinaryProjectsShareAnAddress(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	bin := buildBinary(t)
	addr := "127.0.0.1:" + testnet.ClosedPort(t)
	shop, blog := project(t, "shop"), project(t, "blog")
	_, port, _ := net.SplitHostPort(addr)
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}}
	get := func(name string) (int, string) {
		t.Helper()
		res, err := client.Get("http://" + name + ".localhost:" + port + "/x")
		if err != nil {
			t.Fatalf("GET %s.localhost: %v", name, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	want := func(name string, status int, body string) {
		t.Helper()
		if got, b := get(name); got != status || body != "" && b != body {
			t.Errorf("GET %s.localhost/x: got %d %q, want %d %q", name, got, b, status, body)
		}
	}

	first := startWithCommand(t, bin, shop, "-listen", addr)
	first.waitFor(t, "➜ open http://shop.localhost:"+port, 30*time.Second)
	second := startWithCommand(t, bin, blog, "-listen", addr)
	second.waitFor(t, "➜ open http://blog.localhost:"+port, 30*time.Second)
	second.waitFor(t, "sharing "+addr+" with the devproxy already listening there", 5*time.Second)
	first.waitFor(t, "blog.localhost │ joined", 5*time.Second)
	want("shop", 200, "shop /x")
	want("blog", 200, "blog /x")

	// A guest's inspector answers on its name and lists what it served;
	// the host's on localhost lists the request it forwarded, not the
	// guest's own, and the host's on its name only its own site's.
	requests := func(host string) []struct{ URL, Kind, Route string } {
		t.Helper()
		u := "http://" + host + ":" + port + "/__devproxy/api/requests"
		deadline := time.Now().Add(10 * time.Second)
		for {
			res, err := client.Get(u)
			if err != nil {
				t.Fatalf("GET %s: %v", u, err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var list []struct{ URL, Kind, Route string }
			if res.StatusCode != 200 || json.Unmarshal(b, &list) != nil {
				t.Fatalf("GET %s: got %d %q, want 200 and a JSON list", u, res.StatusCode, b)
			}
			if len(list) > 0 || time.Now().After(deadline) {
				return list
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	blogX := "http://blog.localhost:" + port + "/x"
	if list := requests("blog.localhost"); len(list) != 1 || list[0].URL != blogX || list[0].Kind != "frontend" {
		t.Errorf("the guest's inspector lists %+v, want only %s by its frontend", list, blogX)
	}
	var forwarded []string
	for _, e := range requests("localhost") {
		if strings.HasPrefix(e.URL, "http://blog.localhost:") {
			forwarded = append(forwarded, e.URL+" "+e.Route)
		}
	}
	if len(forwarded) != 1 || forwarded[0] != blogX+" blog.localhost" {
		t.Errorf("the host's inspector on localhost lists %q on blog.localhost, want only %q", forwarded, blogX+" blog.localhost")
	}
	want("shop", 200, "shop /x")
	for _, e := range requests("shop.localhost") {
		if !strings.HasPrefix(e.URL, "http://shop.localhost:") {
			t.Errorf("the host's inspector on shop.localhost lists %s, another site's request", e.URL)
		}
	}

	// A name served already is refused, saying by whom.
	clash := startWithCommand(t, bin, shop, "-listen", addr)
	// The whole output is read before Wait closes the pipe.
	clash.waitFor(t, "refused this one's names: shop.localhost is served by this devproxy", 30*time.Second)
	if err := <-clash.done; err == nil {
		t.Errorf("a second devproxy for shop: exit 0, want it refused; log:\n%s", clash)
	}

	code, stdout, stderr := runCLI(t, "ls", "-listen", addr)
	for _, w := range []string{"shop.localhost  http://shop.localhost:" + port, "(listening)", filepath.Join(shop, "devproxy.yaml"),
		"blog.localhost  http://blog.localhost:" + port, filepath.Join(blog, "devproxy.yaml")} {
		if code != 0 || !strings.Contains(stdout, w) {
			t.Errorf("devproxy ls: exit %d, stdout:\n%s\nstderr %q; want %q", code, stdout, stderr, w)
		}
	}

	// The second leaving takes its name only.
	must(t, second.cmd.Process.Signal(syscall.SIGINT))
	if err := <-second.done; err != nil {
		t.Errorf("second devproxy after SIGINT: %v; log:\n%s", err, second)
	}
	first.waitFor(t, "blog.localhost │ left", 5*time.Second)
	want("blog", 404, "")
	want("shop", 200, "shop /x")

	// The first leaving while another runs keeps serving the other.
	again := startWithCommand(t, bin, blog, "-listen", addr)
	again.waitFor(t, "sharing "+addr+" with the devproxy already listening there", 30*time.Second)
	must(t, first.cmd.Process.Signal(syscall.SIGINT))
	first.waitFor(t, "still serving 1 other project on "+addr, 5*time.Second)
	want("blog", 200, "blog /x")
	want("shop", 404, "")
	select {
	case err := <-first.done:
		t.Fatalf("first devproxy exited with a project still registered: %v", err)
	default:
	}
	must(t, again.cmd.Process.Signal(syscall.SIGINT))
	if err := <-again.done; err != nil {
		t.Errorf("third devproxy after SIGINT: %v; log:\n%s", err, again)
	}
	select {
	case err := <-first.done:
		if err != nil {
			t.Errorf("first devproxy after the last project left: %v; log:\n%s", err, first)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("first devproxy still runs after the last project left; log:\n%s", first)
	}

	// Without a devproxy on it, a busy address is still an error.
	if code, _, stderr := runCLI(t, "ls", "-listen", addr); code != 1 || !strings.Contains(stderr, "no devproxy is listening on "+addr) {
		t.Errorf("devproxy ls after both left: exit %d, stderr %q", code, stderr)
	}
}

// TestBinaryGuestBehindHTTPS runs a guest behind a host that serves its
// address over https: the host tells the guest so over the registration,
// and the guest treats what the host forwards as https. Its cross-site
// checks accept a page of its own https origin (they refused it when it
// saw plain HTTP), its target gets X-Forwarded-Proto https, a redirect to
// the target comes back as https, and its inspector lists https URLs. A
// browser's X-Forwarded-Proto changes nothing.
func TestBinaryGuestBehindHTTPS(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	bin := buildBinary(t)
	addr := "127.0.0.1:" + testnet.ClosedPort(t)
	_, port, _ := net.SplitHostPort(addr)
	shop := project(t, "shop")
	var app *httptest.Server
	app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/go" {
			http.Redirect(w, r, app.URL+"/next", http.StatusFound)
			return
		}
		fmt.Fprintf(w, "blog %s %s proto=%s", r.Method, r.URL.Path, r.Header.Get("X-Forwarded-Proto"))
	}))
	t.Cleanup(app.Close)
	blog := filepath.Join(t.TempDir(), "blog")
	must(t, os.MkdirAll(blog, 0o755))
	must(t, os.WriteFile(filepath.Join(blog, "devproxy.yaml"), []byte("name: blog\nfrontend: "+app.URL+"\n"), 0o644))

	first := startWithCommand(t, bin, shop, "-listen", addr, "-https")
	first.waitFor(t, "➜ open https://shop.localhost:"+port, 60*time.Second)
	second := startWithCommand(t, bin, blog, "-listen", addr)
	second.waitFor(t, "➜ open https://blog.localhost:"+port, 30*time.Second)
	second.waitFor(t, "➜ inspect https://blog.localhost:"+port+"/__devproxy/", 5*time.Second)
	first.waitFor(t, "blog.localhost │ joined", 5*time.Second)
	t.Cleanup(func() {
		for _, p := range []*commandProcess{second, first} {
			_ = p.cmd.Process.Signal(syscall.SIGINT)
			<-p.done
		}
	})

	ca, err := localca.Load(localca.Options{Dir: filepath.Join(home, ".config", "devproxy")})
	must(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	var d net.Dialer
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	blogURL := "https://blog.localhost:" + port
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		status             int
		body, location     string
	}{
		{"POST from a page of the guest's https origin", "POST", "/form",
			http.Header{"Origin": {blogURL}, "Sec-Fetch-Site": {"same-origin"}}, 200, "blog POST /form proto=https", ""},
		{"POST from the guest's name over http", "POST", "/form",
			http.Header{"Origin": {"http://blog.localhost:" + port}, "Sec-Fetch-Site": {"same-site"}}, 403, "", ""},
		{"a browser's X-Forwarded-Proto is not believed", "GET", "/x",
			http.Header{"X-Forwarded-Proto": {"http"}}, 200, "blog GET /x proto=https", ""},
		{"redirect to the target", "GET", "/go", nil, 302, "", blogURL + "/next"},
	} {
		req, err := http.NewRequest(tc.method, blogURL+tc.path, nil)
		must(t, err)
		for k, v := range tc.header {
			req.Header[k] = v
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %s %s: %v", tc.name, tc.method, tc.path, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || tc.body != "" && string(b) != tc.body || res.Header.Get("Location") != tc.location {
			t.Errorf("%s: %s %s: got %d %q Location %q, want %d %q Location %q", tc.name, tc.method, tc.path,
				res.StatusCode, b, res.Header.Get("Location"), tc.status, tc.body, tc.location)
		}
	}

	res, err := client.Get(blogURL + "/__devproxy/api/requests")
	if err != nil {
		t.Fatalf("GET the guest's inspector: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"url":"`+blogURL+`/form"`) || strings.Contains(string(b), `"url":"http://`) {
		t.Errorf("the guest's inspector: got %d %.400s, want its requests as %s URLs", res.StatusCode, b, blogURL)
	}
}
