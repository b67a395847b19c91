package devproxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/devproxy/devproxy/internal/headless"
	"github.com/devproxy/devproxy/internal/status"
)

// TestWaitingPagePollsWithoutErrors opens the waiting page in headless
// Chromium while the dev server is down: it used to poll the page itself,
// and each 502 put "Failed to load resource" in the console every 500 ms.
// It now polls devproxy's frontend endpoint, which answers 200, and
// reloads once the dev server answers.
func TestWaitingPagePollsWithoutErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium; skipped with -short")
	}
	port := closedPort(t)
	p := startProxy(t, "frontend: http://127.0.0.1:"+port+"\n", nil)

	ctx := headless.Start(t, headless.Options{})
	var mu sync.Mutex
	var errs []string
	polls := make(chan struct{}, 100)
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				mu.Lock()
				errs = append(errs, e.Entry.Text)
				mu.Unlock()
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				mu.Lock()
				errs = append(errs, "console.error")
				mu.Unlock()
			}
		case *runtime.EventExceptionThrown:
			mu.Lock()
			errs = append(errs, e.ExceptionDetails.Text)
			mu.Unlock()
		case *network.EventResponseReceived:
			if strings.HasSuffix(e.Response.URL, status.FrontendPath) {
				if e.Response.Status != http.StatusOK {
					mu.Lock()
					errs = append(errs, "poll answered "+e.Response.StatusText)
					mu.Unlock()
				}
				polls <- struct{}{}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	// shows waits until the page shows text, across the page's reload.
	shows := func(ctx context.Context, text string) error {
		js := `!!document.body && document.body.innerText.includes(` + strconv.Quote(text) + `)`
		if err := headless.Until(ctx, js); err != nil {
			return fmt.Errorf("the page never showed %q: %v", text, err)
		}
		return nil
	}
	rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
	defer rcancel()
	if err := chromedp.Do(rctx, chromedp.Navigate(p.url+"/")); err != nil {
		t.Fatalf("open the waiting page: %v", err)
	}
	if err := shows(rctx, "Waiting for the frontend dev server"); err != nil {
		t.Fatalf("open the waiting page: %v", err)
	}
	// The page itself came with its 502; what is pinned is the polling
	// after it.
	mu.Lock()
	loadErrs := errs
	errs = nil
	mu.Unlock()
	if len(loadErrs) > 1 {
		t.Errorf("loading the waiting page logged %q, want only its own 502 (no favicon request)", loadErrs)
	}
	// Three polls while the dev server is down.
	for range 3 {
		select {
		case <-polls:
		case <-rctx.Done():
			t.Fatal("the waiting page did not poll devproxy's frontend endpoint")
		}
	}
	mu.Lock()
	if len(errs) > 0 {
		t.Errorf("the console of the waiting page shows errors while the dev server is down: %q", errs)
	}
	mu.Unlock()

	// The dev server comes up: the page reloads into it.
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	fe := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!doctype html><title>app</title><h1>the dev server's page</h1>"))
	})}
	go func() { _ = fe.Serve(ln) }()
	defer fe.Close()
	if err := shows(rctx, "the dev server's page"); err != nil {
		t.Fatalf("the waiting page did not reload into the dev server: %v", err)
	}
}
