// Package headless starts the headless Chromium that devproxy's browser
// tests drive with chromedp: one place for where it is found, the flags a
// closed network needs, and a shutdown that frees the profile folder before
// the test's temporary folders are removed.
package headless

import (
	"context"
	"os/exec"
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
