package devproxy

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/devproxy/devproxy/internal/headless"
)

var updatePNG = flag.Bool("update-png", false, "write the inspector browser test's screenshot to docs/inspector.png")

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
	page := headless.Watch(t, ctx)
	if err := chromedp.Do(page.Ctx, chromedp.Navigate(p.url+"/__devproxy/")); err != nil {
		t.Fatal(err)
	}
	page.WaitFor(t, "page load", `document.body.dataset.ready === "true"`)
	page.WaitFor(t, "the config line", `(document.querySelector('#config')?.textContent || '').includes('/api → `+api.URL+`')`)
	if headless.Eval[bool](t, page, `!document.querySelector('#capture-off').hidden`) {
		t.Error("the page says capture is off")
	}

	appCtx, closeApp := chromedp.NewContext(ctx)
	defer closeApp()
	app := headless.Watch(t, appCtx)
	if err := chromedp.Do(app.Ctx, chromedp.Navigate(p.url+"/page.html")); err != nil {
		t.Fatal(err)
	}
	status := headless.Eval[int](t, app, `fetch('/api/items?from=tab', {method: 'POST',
		headers: {'Content-Type': 'application/json', 'X-Test': 'from-tab'},
		body: JSON.stringify({name: 'tab', nested: {deep: true}})}).then(r => r.status)`)
	if status != 200 {
		t.Fatalf("fetch from the app tab: status %d", status)
	}
	first := <-seen
	if first != `POST /api/items?from=tab from-tab {"name":"tab","nested":{"deep":true}}` {
		t.Fatalf("the target got %q", first)
	}
	page.WaitFor(t, "the request appears live", listRow("/api/items?from=tab")+` !== undefined`)

	headless.Eval[bool](t, page, listRow("/api/items?from=tab")+`.click() || true`)
	page.WaitFor(t, "request headers", `(document.querySelector('#req-headers')?.textContent || '').includes('from-tab')`)
	page.WaitFor(t, "request JSON body", `(document.querySelector('#req-body .json')?.textContent || '').includes('"deep"')`)
	page.WaitFor(t, "response JSON body", `(document.querySelector('#resp-body .json')?.textContent || '').includes('"second"')`)

	headless.Eval[bool](t, page, `document.querySelector('#replay').click() || true`)
	select {
	case again := <-seen:
		if again != first {
			t.Errorf("replay reached the target as %q, want %q", again, first)
		}
	case <-time.After(waitTimeout):
		t.Fatal("replay from the page did not reach the target")
	}
	page.WaitFor(t, "the replay is listed", listRow("replay of #")+` !== undefined`)

	// More kinds for the screenshot: a mock, a failure.
	for _, path := range []string{"/api/user", "/orders/7", "/api/items?page=2"} {
		headless.Eval[int](t, app, `fetch('`+path+`').then(r => r.status)`)
	}
	<-seen
	page.WaitFor(t, "the failure is listed", listRow("/orders/7")+`?.classList.contains('failed')`)
	firstID := headless.Eval[string](t, page, `(() => { const tr = [...document.querySelectorAll('#rows tr')].filter(tr => tr.textContent.includes('/api/items?from=tab')).pop();
		tr.click(); return tr.dataset.id })()`)
	page.WaitFor(t, "detail for the screenshot", `(document.querySelector('#detail-title')?.textContent || '').startsWith('#`+firstID+` ')`)
	headless.Eval[bool](t, page, `(document.querySelector('#toast').hidden = true)`)
	png := page.Screenshot(t)
	out := filepath.Join(t.TempDir(), "inspector.png")
	if *updatePNG {
		out = filepath.Join("..", "docs", "inspector.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tb := range []*headless.Tab{page, app} {
		if errs := tb.ConsoleErrors(); len(errs) > 0 {
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
