package localca

import (
	"context"
	"crypto/tls"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devproxy/devproxy/internal/headless"
	"github.com/devproxy/devproxy/internal/syncbuf"
)

// The browser is the ground truth for trust: these tests install the CA
// with Trust in the NSS database of a temporary HOME and load a page from
// a Go TLS server in headless Chromium started with that HOME, with no
// flag that relaxes certificate checks.

// browserTimeout bounds a page load and its script: a guard against a
// hang, sized for go test -race on a loaded 2-core machine.
const browserTimeout = 60 * time.Second

// chromiumWithHome starts headless Chromium with HOME set to home (so it
// reads home/.pki/nssdb) and a fresh profile; it is closed when the test
// ends.
func chromiumWithHome(t *testing.T, chromium, home, path string) context.Context {
	t.Helper()
	return headless.Start(t, headless.Options{Path: chromium, Env: []string{"HOME=" + home, "PATH=" + path}})
}

// open navigates to url and returns the page's text and the protocol
// its document came over.
func open(ctx context.Context, url string) (text, proto string, err error) {
	ctx, cancel := context.WithTimeout(ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return "", "", err
	}
	if text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`)); err != nil {
		return "", "", err
	}
	proto, err = chromedp.Run(ctx, chromedp.Evaluate[string](`performance.getEntries()[0].nextHopProtocol`))
	return text, proto, err
}

func TestChromiumTrustsTheCA(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium twice; skipped with -short")
	}
	certutil := needCertutil(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("needs Chromium: install it (apt-get install chromium) to run the browser test")
	}
	path := os.Getenv("PATH")

	ca := testCA(t)
	iss := NewIssuer(ca, IssuerOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var errLog syncbuf.Buffer
	var mu sync.Mutex
	var seen []string // protocol and SNI of each page request
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			mu.Lock()
			seen = append(seen, r.Proto+" "+r.TLS.ServerName)
			mu.Unlock()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<!doctype html><title>devproxy</title><p>served over TLS"))
		}),
		TLSConfig: &tls.Config{GetCertificate: iss.GetCertificate}, // ServeTLS adds h2 to ALPN
		ErrorLog:  log.New(&errLog, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeTLS(ln, "", "")
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	// Without Trust, Chromium refuses the certificate: the check below
	// would see an untrusted CA.
	untrusted := chromiumWithHome(t, chromium, t.TempDir(), path)
	if _, _, err := open(untrusted, "https://localhost:"+port+"/"); err == nil || !strings.Contains(err.Error(), "ERR_CERT_AUTHORITY_INVALID") {
		t.Fatalf("Chromium without the CA trusted: err = %v, want ERR_CERT_AUTHORITY_INVALID", err)
	}
	want := "remote error: tls: unknown certificate"
	if err := waitFor(func() bool { return strings.Contains(errLog.String(), want) }); err != nil {
		t.Errorf("server log = %q, want the browser's %q", errLog.String(), want)
	}

	home := t.TempDir()
	pathWith(t, certutil) // Trust must not reach this machine's system store
	steps := ca.Trust(context.Background(), TrustOptions{Home: home})
	if s := steps[0]; !s.OK || s.Did != "created the database and added the CA" {
		t.Fatalf("Trust: %+v, want the NSS database created with the CA", s)
	}

	trusted := chromiumWithHome(t, chromium, home, path)
	for _, host := range []string{"localhost", "app.localhost"} {
		url := "https://" + host + ":" + port + "/"
		text, proto, err := open(trusted, url)
		if err != nil {
			t.Errorf("Chromium with the CA trusted: open %s: %v", url, err)
			continue
		}
		if text != "served over TLS" || proto != "h2" {
			t.Errorf("open %s: text %q over %q, want %q over h2", url, text, proto, "served over TLS")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(seen, ", "); got != "HTTP/2.0 localhost, HTTP/2.0 app.localhost" {
		t.Errorf("server saw page requests %q, want HTTP/2.0 for localhost then app.localhost", got)
	}
}
