package e2e

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/devproxy/devproxy/devproxy"
)

// TestHTTPSInChromium is the scene of https: true. devproxy trust, run
// with HOME in a temporary folder, creates the NSS database there; a
// Chromium started with that HOME, and no flag that relaxes certificate
// checks, opens https://localhost:PORT through devproxy in front of the
// Vite dev server and the API. The page and its modules come over HTTP/2,
// WebSockets over HTTP/1.1 (devproxy keeps RFC 8441 off), and every check
// of the plain http scene passes, with a Secure cookie and a form upload
// besides.
func TestHTTPSInChromium(t *testing.T) {
	chromium := requireChromium(t)
	requireNode(t)
	ds := devServers()[0]
	if ds.name != "vite" {
		t.Fatalf("devServers()[0] is %s, want vite", ds.name)
	}
	requireModules(t, ds.dir, ds.deps...)
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Skip("certutil not found: install it (apt-get install -y libnss3-tools) to run the https browser test")
	}
	home := t.TempDir()
	runTrust(t, home, certutil)

	api := startBackend(t)
	root, port, dev := startDevServer(t, ds)
	s := &scene{ds: ds, root: root, devPort: port, api: api, version: 1}
	s.proxy = startDevproxyWith(t, t.TempDir(), "https: true\n"+s.config(""), func(o *devproxy.Options) {
		o.CADir, o.Home = filepath.Join(home, ".config", "devproxy"), home
	})
	if !strings.HasPrefix(s.proxy.origin, "https://localhost:") {
		t.Fatalf("devproxy with https: true serves %s, want https://localhost:PORT", s.proxy.origin)
	}
	// The banner checks the same NSS database the browser reads.
	if !s.proxy.waitLog(func(log string) bool { return strings.Contains(log, "open "+s.proxy.origin) }) {
		t.Fatalf("devproxy's banner never said open %s:\n%s", s.proxy.origin, s.proxy.log)
	}
	if strings.Contains(s.proxy.log.String(), "do not trust") {
		t.Errorf("devproxy's banner says the CA is not trusted after devproxy trust:\n%s", s.proxy.log)
	}

	c := startChromiumEnv(t, chromium, []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")})
	// navigate fails the test on a certificate error (net::ERR_CERT_…).
	s.open(t, c, s.proxy.origin)
	checks := []struct {
		name string
		run  func(*testing.T)
	}{
		{"page loads without console errors", s.pageLoads},
		{"page and modules over HTTP/2", s.overHTTP2},
		{"fetch reaches the API with X-Forwarded-Proto https", s.fetchAPI},
		{"hot module replacement over devproxy", s.hotUpdate},
		{"API WebSocket echoes both ways", s.apiWebSocket},
		{"WebSockets over HTTP/1.1", s.socketsOverHTTP1},
		{"server-sent events arrive one by one", s.serverSentEvents},
		{"Secure SameSite=None cookie is kept and sent back", s.secureCookie},
		{"cookie with the backend's Domain works on devproxy's origin", s.cookie},
		{"redirect to the backend stays on devproxy's https origin", s.redirect},
		{"multipart/form-data upload arrives intact", s.formUpload},
		{"5 MiB upload arrives intact", s.upload},
		{"no unexpected console errors", s.consoleClean},
	}
	for _, ck := range checks {
		t.Run(ck.name, ck.run)
	}
	s.page.screenshot(t, "vite-https")
	if t.Failed() {
		t.Logf("devproxy log:\n%s", s.proxy.log)
		t.Logf("vite output:\n%s", dev.out)
	}
}

// runTrust builds devproxy and runs devproxy trust with HOME set to home
// and only certutil on PATH: the NSS database is created under home, and
// the system store's step cannot run, so it prints its command instead of
// changing this machine.
func runTrust(t *testing.T, home, certutil string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "devproxy")
	build := exec.Command("go", "build", "-o", bin, "github.com/devproxy/devproxy")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "path")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(certutil, filepath.Join(path, "certutil")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "trust")
	cmd.Env = []string{"HOME=" + home, "PATH=" + path}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("devproxy trust: %v", err)
	}
	nssdb := filepath.Join(home, ".pki", "nssdb")
	if want := "ok    Chromium NSS database " + nssdb + ": created the database and added the CA\n"; !strings.Contains(string(out), want) {
		t.Fatalf("devproxy trust with HOME=%s:\n%s\nwant the line %q", home, out, want)
	}
	if _, err := os.Stat(filepath.Join(nssdb, "cert9.db")); err != nil {
		t.Fatalf("devproxy trust said it created the NSS database, but: %v", err)
	}
}

// overHTTP2 checks the protocol of the page and of each module Vite served
// it, as the browser reports them, and devproxy's log line of the page.
func (s *scene) overHTTP2(t *testing.T) {
	type entry struct {
		Path  string `json:"path"`
		Proto string `json:"proto"`
	}
	got, err := eval[[]entry](s.page, `(() => {
		const e = (x) => ({path: new URL(x.name).pathname, proto: x.nextHopProtocol});
		return [e(performance.getEntriesByType("navigation")[0])].concat(
			performance.getEntriesByType("resource")
				.filter((x) => x.initiatorType === "script" || x.initiatorType === "other" || /\.(js|css)$/.test(new URL(x.name).pathname))
				.map(e));
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range got {
		paths = append(paths, e.Path)
		if e.Proto != "h2" {
			t.Errorf("%s came over %q, want h2", e.Path, e.Proto)
		}
	}
	for _, want := range []string{"/", "/@vite/client", "/main.js", "/label.js", "/style.css"} {
		if !slices.Contains(paths, want) {
			t.Errorf("the browser loaded %q, want %s among them", paths, want)
		}
	}
	// The log marks requests over HTTP/2.
	if !s.proxy.waitLog(func(log string) bool {
		for l := range strings.Lines(log) {
			if f := strings.Fields(l); len(f) > 3 && f[1] == "GET" && f[2] == "/" && f[len(f)-1] == "h2" {
				return true
			}
		}
		return false
	}) {
		t.Errorf("devproxy's log has no line for GET / marked h2:\n%s", s.proxy.log)
	}
}

// socketsOverHTTP1 checks how the page's WebSockets were opened: with
// RFC 8441 off, Chromium opens a connection of HTTP/1.1 for each and
// upgrades it (101), where extended CONNECT over HTTP/2 would answer 200.
func (s *scene) socketsOverHTTP1(t *testing.T) {
	ss := s.page.rec.socketsSnapshot()
	if len(ss) == 0 {
		t.Fatal("the page opened no WebSocket")
	}
	for _, ws := range ss {
		if ws.status != 101 {
			t.Errorf("WebSocket %s: handshake status %d, want 101 (an HTTP/1.1 upgrade)", ws.url, ws.status)
		}
	}
}

// secureCookie logs in with a cookie marked Secure and SameSite=None, which
// a browser keeps only from a secure origin, and checks that the next
// request carries it and that Chromium stored it with both attributes.
func (s *scene) secureCookie(t *testing.T) {
	got, err := eval[map[string]any](s.page, `(async () => {
		const login = await fetch("/api/login-secure", {method: "POST"});
		const who = await (await fetch("/api/whoami")).json();
		return {status: login.status, session: who.secure_session};
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if got["status"] != float64(200) || got["session"] != "t0ken" {
		t.Errorf("login-secure then whoami = %v, want status 200 and secure_session \"t0ken\"", got)
	}
	res, err := chromedp.Call(s.page.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.origin + "/api/whoami"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Cookies {
		names = append(names, c.Name)
		if c.Name != "secure_session" {
			continue
		}
		if !c.Secure || c.SameSite != network.CookieSameSiteNone {
			t.Errorf("cookie secure_session stored with Secure %t, SameSite %q, want Secure and None", c.Secure, c.SameSite)
		}
		if u, _ := url.Parse(s.origin); c.Domain != u.Hostname() {
			t.Errorf("cookie secure_session stored for %q, want devproxy's host %q", c.Domain, u.Hostname())
		}
		return
	}
	t.Errorf("Chromium's cookies for %s: %q, want secure_session among them", s.origin, names)
}

// formUpload posts a form with a text field and a 1 MiB file, as a file
// input sends it: the backend must get every part intact.
func (s *scene) formUpload(t *testing.T) {
	const size = 1 << 20
	const note = "naïve café ✓ & more"
	type part struct {
		Bytes    float64 `json:"bytes"`
		Value    string  `json:"value"`
		Filename string  `json:"filename"`
		Type     string  `json:"type"`
		SHA256   string  `json:"sha256"`
	}
	got, err := eval[struct {
		Status int             `json:"status"`
		Want   string          `json:"want"`
		Parts  map[string]part `json:"parts"`
	}](s.page, fmt.Sprintf(`(async () => {
		const data = new Uint8Array(%d);
		for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
		const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
		const want = Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("");
		const form = new FormData();
		form.append("note", %q);
		form.append("file", new Blob([data], {type: "application/octet-stream"}), "data.bin");
		const r = await fetch("/api/form", {method: "POST", body: form});
		return {status: r.status, want, parts: await r.json()};
	})()`, size, note))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != 200 {
		t.Fatalf("POST /api/form: status %d, want 200", got.Status)
	}
	if p := got.Parts["note"]; p.Value != note {
		t.Errorf("form field note reached the backend as %q, want %q", p.Value, note)
	}
	f := got.Parts["file"]
	if f.Filename != "data.bin" || f.Type != "application/octet-stream" || f.Bytes != size || f.SHA256 != got.Want {
		t.Errorf("form file reached the backend as %+v, want data.bin, application/octet-stream, %d bytes, sha256 %s", f, size, got.Want)
	}
}
