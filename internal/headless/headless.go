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
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}
