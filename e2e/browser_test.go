package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/devproxy/devproxy/internal/headless"
)

// evalTimeout bounds one script run in the page. Like every deadline of
// the suite it only guards against a hang: it is sized for go test -race
// on a 2-core machine shared with other suites, where Chromium, the dev
// server and the test each get a small share of a core.
const evalTimeout = 60 * time.Second

// loadTimeout bounds a page load, until the app has run.
const loadTimeout = 60 * time.Second

// browser is one tab of a headless Chromium, and what the tab has
// reported: console messages and WebSockets.
type browser struct {
	ctx context.Context // the tab's chromedp context
	rec *recorder
}

// chromium is one headless Chromium, shared by the tabs of a test and its
// subtests.
type chromium struct {
	ctx context.Context // the browser's first tab, which stays blank
}

// startChromium starts Chromium with a fresh profile; it is closed when the
// test ends. Names under testHostName resolve to 127.0.0.1, as a
// developer's /etc/hosts line would make them.
func startChromium(t *testing.T, path string) *chromium {
	t.Helper()
	return startChromiumEnv(t, path, nil)
}

// startChromiumEnv is startChromium with env, when not nil, as the
// browser's whole environment: HOME decides which NSS database of
// certificate authorities it trusts.
func startChromiumEnv(t *testing.T, path string, env []string) *chromium {
	t.Helper()
	ctx := headless.Start(t, headless.Options{Path: path, Env: env, HostRules: "MAP " + testHostName + " 127.0.0.1", Width: 1024, Height: 768})
	return &chromium{ctx: ctx}
}

// startBrowser starts Chromium and opens one tab in it.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	return startChromium(t, path).newTab(t)
}

// newTab opens a tab that records its console and WebSockets; it is closed
// when the test ends.
func (c *chromium) newTab(t *testing.T) *browser {
	t.Helper()
	ctx := headless.NewTab(t, c.ctx)
	b := &browser{ctx: ctx, rec: &recorder{sockets: map[network.RequestID]*socket{}}}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.rec.console(m)
		}
	}()
	if err := chromedp.Listen(ctx, b.rec.event); err != nil {
		t.Fatal(err)
	}
	return b
}

// navigate opens url in the tab and waits until the app has run
// (body[data-ready]).
func (b *browser) navigate(t *testing.T, url string) {
	t.Helper()
	ctx := withTimeout(t, b.ctx, loadTimeout)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	if err := b.waitFor(`document.body && document.body.dataset.ready === "true"`, loadTimeout); err != nil {
		t.Fatalf("open %s: the app did not start: %v", url, err)
	}
}

// waitFor polls the JavaScript condition until it is true or d has passed.
func (b *browser) waitFor(cond string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(b.ctx, d+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(d)))
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", cond, err)
	}
	return nil
}

// eval runs the script in the page, awaits its promise, and decodes the
// result into T.
func eval[T any](b *browser, script string) (T, error) {
	return evalWithin[T](b, evalTimeout, script)
}

// evalWithin is eval with a deadline of d.
func evalWithin[T any](b *browser, d time.Duration, script string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, d+5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
}

// screenshot saves the page as name.png in the test's temp dir. When the
// test has failed, the picture is also copied to a folder that outlives the
// test, and the failure message names it.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, evalTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	path := filepath.Join(t.TempDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	if !t.Failed() {
		t.Logf("screenshot: %s (removed with the test's temp dir)", path)
		return
	}
	dir, err := os.MkdirTemp("", "devproxy-e2e-")
	if err == nil {
		kept := filepath.Join(dir, name+".png")
		if err = os.WriteFile(kept, png, 0o644); err == nil {
			t.Errorf("screenshot of the failing page: %s", kept)
			return
		}
	}
	t.Errorf("screenshot of the failing page could not be kept: %v", err)
}

// recorder keeps what the tab reports. Events arrive on chromedp's
// goroutines while the test reads.
type recorder struct {
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	order    []network.RequestID
	sockets  map[network.RequestID]*socket
}

// socket is one WebSocket the page opened.
type socket struct {
	url string
	// status is the handshake's answer: 101 for an HTTP/1.1 upgrade, 200
	// for RFC 8441's extended CONNECT over HTTP/2; 0 before it came.
	status   int64
	closed   bool
	received []string // text frames from the server, in order
}

func (r *recorder) console(m chromedp.ConsoleMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, m)
}

// event is called on chromedp's reading goroutine: it only records.
func (r *recorder) event(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventWebSocketCreated:
		r.order = append(r.order, ev.RequestID)
		r.sockets[ev.RequestID] = &socket{url: ev.URL}
	case *network.EventWebSocketHandshakeResponseReceived:
		if s := r.sockets[ev.RequestID]; s != nil && ev.Response != nil {
			s.status = ev.Response.Status
		}
	case *network.EventWebSocketClosed:
		if s := r.sockets[ev.RequestID]; s != nil {
			s.closed = true
		}
	case *network.EventWebSocketFrameReceived:
		if s := r.sockets[ev.RequestID]; s != nil && ev.Response != nil && ev.Response.Opcode == 1 {
			s.received = append(s.received, string(ev.Response.PayloadData))
		}
	}
}

// errors returns the console errors and uncaught exceptions so far, as
// text, leaving out those for which expected returns true.
func (r *recorder) errors(expected func(chromedp.ConsoleMessage) bool) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.messages {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		if expected != nil && expected(m) {
			continue
		}
		s := m.String()
		if m.URL != "" {
			s += " (" + m.URL + ")"
		}
		out = append(out, s)
	}
	return out
}

// socketsSnapshot returns a copy of the page's WebSockets in the order they
// were opened.
func (r *recorder) socketsSnapshot() []socket {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]socket, 0, len(r.order))
	for _, id := range r.order {
		s := *r.sockets[id]
		s.received = append([]string(nil), s.received...)
		out = append(out, s)
	}
	return out
}

// describeSockets lists the sockets for a failure message.
func describeSockets(ss []socket) string {
	if len(ss) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "\n  %s closed=%t frames=%d", s.url, s.closed, len(s.received))
		// The last frames say whether the dev server sent an update at
		// all: a missed save and a lost update look alike otherwise.
		for _, f := range s.received[max(0, len(s.received)-3):] {
			if len(f) > 160 {
				f = f[:160] + "…"
			}
			fmt.Fprintf(&b, "\n    %q", f)
		}
	}
	return b.String()
}
