// Package headless starts the headless Chromium that devproxy's browser
// tests drive with chromedp: one place for where it is found, the flags a
// closed network needs, and a shutdown that frees the profile folder before
// the test's temporary folders are removed.
package headless

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// InstallHint says how to get Chromium where it is missing.
const InstallHint = "install Chromium (apt-get install -y chromium) to run the browser tests"

// Path returns the Chromium program to run, or "" when there is none.
func Path() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Options adjust the browser Start launches. The zero value is a headless
// Chromium with a fresh profile and the default window.
type Options struct {
	// Path is the program; "" means Path().
	Path string
	// Env, when not nil, is the browser's whole environment (HOME decides
	// which NSS database it trusts).
	Env []string
	// HostRules maps names to addresses, as an /etc/hosts line would
	// ("MAP app.test 127.0.0.1"); "" maps none.
	HostRules string
	// Width and Height size the window; 0 keeps chromedp's default.
	Width, Height int
}

// Start launches Chromium, or skips t when it is not installed, and returns
// the context of its first tab. The browser is closed when t ends.
func Start(t testing.TB, o Options) context.Context {
	t.Helper()
	path := o.Path
	if path == "" {
		path = Path()
	}
	if path == "" {
		t.Skip("chromium not found: " + InstallHint)
	}
	// Flags for a machine without a network: Chromium's own background
	// connections (updates, sync, QUIC probes) would only fail and slow it.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	if o.Env != nil {
		opts = append(opts, chromedp.Env(o.Env...))
	}
	if o.HostRules != "" {
		opts = append(opts, chromedp.Flag("host-resolver-rules", o.HostRules))
	}
	if o.Width > 0 && o.Height > 0 {
		opts = append(opts, chromedp.WindowSize(o.Width, o.Height))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		// Close the browser gracefully, so its profile folder is free
		// before t.TempDir removes it.
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		_ = chromedp.Cancel(cctx)
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser, which lives as long as the
	// context of that action: ctx itself, not one with a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), leanRequests()); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// NewTab opens a tab in the browser of parent, a context that Start
// returned or one derived from it; the tab is closed when t ends.
func NewTab(t testing.TB, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, leanRequests()); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// maxPostData is the most of a request's body that a tab's
// Network.requestWillBeSent event carries. Chromium puts the whole body in
// the event unless told otherwise, and chromedp decodes a tab's messages
// one at a time: a page's 5 MiB upload became an event of 7 MiB of base64
// that held up every reply behind it, so that the script which sent the
// upload, answered by the backend in 94 ms, returned after 17 s under
// -race on a loaded machine (0.2 s with the limit). No test reads a body
// from the events.
const maxPostData = 1 << 10

// leanRequests enables the network events of the tab with bodies left out
// of them (maxPostData).
func leanRequests() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		_, err := cdp.Call(ctx, tab, network.Enable, network.EnableParams{MaxPostDataSize: new(int64(maxPostData))})
		return err
	})
}

// Wait is how long Eval, WaitFor and Screenshot wait on a tab before they
// fail the test: generous, for a loaded machine under -race.
const Wait = 60 * time.Second

// Tab is a browser tab and the errors its console has reported.
type Tab struct {
	// Ctx is the tab's context, for chromedp actions.
	Ctx context.Context
	// State, when not "", is a script whose value a failed WaitFor
	// reports, to tell what the page showed; "" reports nothing more.
	State string

	mu   sync.Mutex
	errs []string
}

// Watch opens the tab of ctx, if it is not open yet, and keeps the errors
// and exceptions its console reports from then on.
func Watch(t testing.TB, ctx context.Context) *Tab {
	t.Helper()
	tb := &Tab{Ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				tb.mu.Lock()
				tb.errs = append(tb.errs, m.String()+" "+m.URL)
				tb.mu.Unlock()
			}
		}
	}()
	return tb
}

// ConsoleErrors returns the console errors reported so far, each with the
// address of its source.
func (tb *Tab) ConsoleErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.errs...)
}

// Eval runs script in tb, awaiting its value if it is a promise, and
// returns that value decoded as a T.
func Eval[T any](t testing.TB, tb *Tab, script string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.Ctx, Wait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("eval %s: %v", script, err)
	}
	return v
}

// WaitFor polls the JavaScript condition cond in tb until it is true; what
// names the wait in the failure.
func (tb *Tab) WaitFor(t testing.TB, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.Ctx, Wait+5*time.Second)
	defer cancel()
	var err error
	for {
		_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(Wait)))
		// A poll begun while the page was still replacing about:blank
		// loses its execution context; poll again in the new one.
		if err == nil || !strings.Contains(err.Error(), "Cannot find context with specified id") || ctx.Err() != nil {
			break
		}
	}
	if err == nil {
		return
	}
	if tb.State == "" {
		t.Fatalf("%s: waiting for %s: %v", what, cond, err)
	}
	state, _ := chromedp.Run(tb.Ctx, chromedp.Evaluate[string](tb.State))
	t.Fatalf("%s: waiting for %s: %v\npage: %s", what, cond, err, state)
}

// Screenshot returns a PNG of what tb shows.
func (tb *Tab) Screenshot(t testing.TB) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.Ctx, Wait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return png
}

// Until evaluates the JavaScript condition cond in the tab of ctx every
// 50 ms until it is true, or returns an error once ctx is done. Each try
// evaluates afresh, so it carries on across a reload of the page; unlike
// WaitFor it leaves failing the test to the caller.
func Until(ctx context.Context, cond string) error {
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
