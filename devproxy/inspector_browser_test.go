package devproxy

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/devproxy/devproxy/internal/headless"
)

var updatePNG = flag.Bool("update-png", false, "write the inspector browser test's screenshot to docs/inspector.png")

// browserTab is a Chromium tab and the console errors it reported.
type browserTab struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func watchTab(t *testing.T, ctx context.Context) *browserTab {
	t.Helper()
	tb := &browserTab{ctx: ctx}
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

// eval runs script in the tab, awaiting a promise, and returns its value.
func tabEval[T any](t *testing.T, tb *browserTab, script string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("eval %s: %v", script, err)
	}
	return v
}

// waitFor polls the JavaScript condition until it holds.
func (tb *browserTab) waitFor(t *testing.T, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout+5*time.Second)
	defer cancel()
	var err error
	for {
		_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
		// A poll begun while the page replaced about:blank loses its
		// execution context; poll again in the new one.
		if err == nil || !strings.Contains(err.Error(), "Cannot find context with specified id") || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("%s: waiting for %s: %v", what, cond, err)
	}
}

func listRow(s string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#rows tr')].find(tr => tr.textContent.includes(%q))`, s)
}

// TestInspectorBrowser drives the inspector of a real Server in Chromium:
// a request made by the app's page in another tab appears live, its
// details open, and replay sends it to the target again, through the
// proxy, as a new entry.
func TestInspectorBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium; skipped with -short")
	}
	seen := make(chan string, 10)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- r.Method + " " + r.URL.RequestURI() + " " + r.Header.Get("X-Test") + " " + string(b)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":42,"received":%s,"items":[{"name":"first"},{"name":"second"}]}`, b)
	}))
	defer api.Close()
	folder := t.TempDir()
	writeFiles(t, folder, map[string]string{"page.html": `<!doctype html><title>app</title><link rel="icon" href="data:,"><h1>app</h1>`})
	p := startProxy(t, "frontend: "+folder+"\nroutes:\n  /api: "+api.URL+"\n  /api/user:\n    respond: {json: {name: Ada}}\n  /orders: http://127.0.0.1:"+closedPort(t)+"\n", nil)

	ctx := headless.Start(t, headless.Options{Width: 1440, Height: 900})
	page := watchTab(t, ctx)
	if err := chromedp.Do(page.ctx, chromedp.Navigate(p.url+"/__devproxy/")); err != nil {
		t.Fatal(err)
	}
	page.waitFor(t, "page load", `document.body.dataset.ready === "true"`)
	page.waitFor(t, "the config line", `(document.querySelector('#config')?.textContent || '').includes('/api → `+api.URL+`')`)
	if tabEval[bool](t, page, `!document.querySelector('#capture-off').hidden`) {
		t.Error("the page says capture is off")
	}

	appCtx, closeApp := chromedp.NewContext(ctx)
	defer closeApp()
	app := watchTab(t, appCtx)
	if err := chromedp.Do(app.ctx, chromedp.Navigate(p.url+"/page.html")); err != nil {
		t.Fatal(err)
	}
	status := tabEval[int](t, app, `fetch('/api/items?from=tab', {method: 'POST',
		headers: {'Content-Type': 'application/json', 'X-Test': 'from-tab'},
		body: JSON.stringify({name: 'tab', nested: {deep: true}})}).then(r => r.status)`)
	if status != 200 {
		t.Fatalf("fetch from the app tab: status %d", status)
	}
	first := <-seen
	if first != `POST /api/items?from=tab from-tab {"name":"tab","nested":{"deep":true}}` {
		t.Fatalf("the target got %q", first)
	}
	page.waitFor(t, "the request appears live", listRow("/api/items?from=tab")+` !== undefined`)

	tabEval[bool](t, page, listRow("/api/items?from=tab")+`.click() || true`)
	page.waitFor(t, "request headers", `(document.querySelector('#req-headers')?.textContent || '').includes('from-tab')`)
	page.waitFor(t, "request JSON body", `(document.querySelector('#req-body .json')?.textContent || '').includes('"deep"')`)
	page.waitFor(t, "response JSON body", `(document.querySelector('#resp-body .json')?.textContent || '').includes('"second"')`)

	tabEval[bool](t, page, `document.querySelector('#replay').click() || true`)
	select {
	case again := <-seen:
		if again != first {
			t.Errorf("replay reached the target as %q, want %q", again, first)
		}
	case <-time.After(waitTimeout):
		t.Fatal("replay from the page did not reach the target")
	}
	page.waitFor(t, "the replay is listed", listRow("replay of #")+` !== undefined`)

	// More kinds for the screenshot: a mock, a failure.
	for _, path := range []string{"/api/user", "/orders/7", "/api/items?page=2"} {
		tabEval[int](t, app, `fetch('`+path+`').then(r => r.status)`)
	}
	<-seen
	page.waitFor(t, "the failure is listed", listRow("/orders/7")+`?.classList.contains('failed')`)
	firstID := tabEval[string](t, page, `(() => { const tr = [...document.querySelectorAll('#rows tr')].filter(tr => tr.textContent.includes('/api/items?from=tab')).pop();
		tr.click(); return tr.dataset.id })()`)
	page.waitFor(t, "detail for the screenshot", `(document.querySelector('#detail-title')?.textContent || '').startsWith('#`+firstID+` ')`)
	tabEval[bool](t, page, `(document.querySelector('#toast').hidden = true)`)
	sctx, cancel := context.WithTimeout(page.ctx, waitTimeout)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "inspector.png")
	if *updatePNG {
		out = filepath.Join("..", "docs", "inspector.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tb := range []*browserTab{page, app} {
		if errs := tb.consoleErrors(); len(errs) > 0 {
			// The failed fetch of /orders/7 is the app's own, and the
			// browser reports its 502.
			var other []string
			for _, e := range errs {
				if !strings.Contains(e, "/orders/7") && !strings.Contains(e, "502") {
					other = append(other, e)
				}
			}
			if len(other) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(other, "\n"))
			}
		}
	}
}

func (tb *browserTab) consoleErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.errs...)
}
