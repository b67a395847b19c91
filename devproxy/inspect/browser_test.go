package inspect

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/devproxy/devproxy/internal/headless"
	"github.com/devproxy/devproxy/internal/wsframe"
)

var updatePNG = flag.Bool("update-png", false, "write the browser test's screenshot of the page to docs/inspector.png")

// startChromium starts a headless Chromium with a fresh profile, or skips
// the test when there is none; it is closed when the test ends.
func startChromium(t *testing.T) *headless.Tab {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := headless.Start(t, headless.Options{Width: 1440, Height: 900})
	tb := headless.Watch(t, ctx)
	tb.State = `(document.querySelector('#detail-title')?.textContent || 'no detail') + ' | ' + (document.querySelector('#toast')?.textContent || '')`
	return tb
}

// rowWith is a script that finds the list row whose text has s.
func rowWith(s string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#rows tr')].find(tr => tr.textContent.includes(%q))`, s)
}

// TestBrowser drives the page in Chromium: live list, details, replay,
// edit and replay, copy as curl, HAR export.
func TestBrowser(t *testing.T) {
	page := startChromium(t)
	c := startCore(t, coreOptions{})
	if err := chromedp.Do(page.Ctx, chromedp.Navigate(c.URL+DefaultPrefix+"/")); err != nil {
		t.Fatal(err)
	}
	page.WaitFor(t, "page load", `document.body.dataset.ready === "true"`)
	page.WaitFor(t, "the config line", `(document.querySelector('#config')?.textContent || '').includes('/mock → mock')`)
	if line := headless.Eval[string](t, page, `document.querySelector('#config').textContent`); strings.Contains(line, "[object") {
		t.Errorf("config line = %q", line)
	}

	// Another tab uses the app through the core.
	appCtx, closeApp := chromedp.NewContext(page.Ctx)
	defer closeApp()
	app := headless.Watch(t, appCtx)
	if err := chromedp.Do(app.Ctx, chromedp.Navigate(c.URL+"/page.html")); err != nil {
		t.Fatal(err)
	}
	status := headless.Eval[int](t, app, `fetch('/api/items?from=tab', {method: 'POST',
		headers: {'Content-Type': 'application/json', 'X-Test': 'from-tab'},
		body: JSON.stringify({name: 'tab', tags: ['a', 'b'], nested: {deep: true}})}).then(r => r.status)`)
	if status != 200 {
		t.Fatalf("fetch from the app tab: status %d", status)
	}
	first := <-c.backend.seen

	page.WaitFor(t, "the request appears live", rowWith("/api/items?from=tab")+` !== undefined`)
	if headless.Eval[bool](t, page, rowWith("/page.html")+` !== undefined`) {
		t.Error("the frontend asset /page.html is listed; assets are hidden by default")
	}

	headless.Eval[bool](t, page, rowWith("/api/items?from=tab")+`.click() || true`)
	page.WaitFor(t, "request headers", `(document.querySelector('#req-headers')?.textContent || '').includes('from-tab')`)
	page.WaitFor(t, "request JSON body", `(document.querySelector('#req-body .json')?.textContent || '').includes('"deep"')`)
	page.WaitFor(t, "response JSON body", `(document.querySelector('#resp-body .json')?.textContent || '').includes('"first"')`)

	headless.Eval[bool](t, page, `document.querySelector('#copy-curl').click() || true`)
	page.WaitFor(t, "copy as curl", `(document.querySelector('#copied')?.value || '').startsWith("curl -X POST '`+c.URL+`/api/items?from=tab'")`)
	curl := headless.Eval[string](t, page, `document.querySelector('#copied').value`)
	for _, want := range []string{"-H 'X-Test: from-tab'", `--data-raw '{"name":"tab"`} {
		if !strings.Contains(curl, want) {
			t.Errorf("curl = %s\nwant %s in it", curl, want)
		}
	}

	headless.Eval[bool](t, page, `document.querySelector('#replay').click() || true`)
	var second seenRequest
	select {
	case second = <-c.backend.seen:
	case <-time.After(waitTimeout):
		t.Fatal("replay from the page did not reach the backend")
	}
	if second.Method != "POST" || second.Body != first.Body || second.Header.Get("X-Test") != "from-tab" {
		t.Errorf("replayed request = %s %q X-Test %q, want POST %q from-tab", second.Method, second.Body, second.Header.Get("X-Test"), first.Body)
	}
	page.WaitFor(t, "the replay is listed", rowWith("replay of #")+` !== undefined`)
	if n := c.backend.hits.Load(); n != 2 {
		t.Errorf("backend hits = %d, want 2", n)
	}

	// Edit and replay: back on the first entry, change the body.
	firstID := headless.Eval[string](t, page, `(() => { const tr = [...document.querySelectorAll('#rows tr')].filter(tr => tr.textContent.includes('/api/items?from=tab')).pop();
		tr.click(); return tr.dataset.id })()`)
	page.WaitFor(t, "first entry again", `(document.querySelector('#detail-title')?.textContent || '').startsWith('#`+firstID+` ')`)
	headless.Eval[bool](t, page, `document.querySelector('#edit').click() || true`)
	page.WaitFor(t, "the edit form", `document.querySelector('#edit-body') !== null`)
	headless.Eval[bool](t, page, `(() => { document.querySelector('#edit-body').value = '{"name":"edited"}';
		document.querySelector('#edit-send').click(); return true })()`)
	select {
	case got := <-c.backend.seen:
		if got.Body != `{"name":"edited"}` || got.Header.Get("X-Test") != "from-tab" {
			t.Errorf("edited replay = %q X-Test %q", got.Body, got.Header.Get("X-Test"))
		}
	case <-time.After(waitTimeout):
		t.Fatal("edit and replay did not reach the backend")
	}

	// More kinds, for the list and the screenshot.
	c.do(t, "GET", "/api/items?page=2&sort=name", nil, "")
	<-c.backend.seen
	c.do(t, "GET", "/mock/user", nil, "")
	c.do(t, "GET", "/down/orders", nil, "")
	c.do(t, "GET", "/api/image", nil, "")
	c.do(t, "GET", "/api/sse", nil, "")
	ws := c.dialWS(t, "/ws")
	_ = ws.send(wsframe.OpText, []byte(`{"type":"subscribe","channel":"prices"}`))
	_, _ = ws.recv()
	page.WaitFor(t, "the failure is listed", rowWith("/down/orders")+`?.classList.contains('failed')`)
	page.WaitFor(t, "the open socket is listed", rowWith("ws open")+` !== undefined`)

	// A download is counted, not kept, and its details say so.
	c.do(t, "GET", "/api/big?n=5000", nil, "")
	page.WaitFor(t, "the download is listed", rowWith("/api/big?n=5000")+` !== undefined`)
	headless.Eval[bool](t, page, rowWith("/api/big?n=5000")+`.click() || true`)
	page.WaitFor(t, "the download's body said not kept", `(document.querySelector('#resp-body')?.textContent || '').includes('binary, 4.9 KiB, not kept: application/octet-stream')`)

	// The screenshot shows the first POST with its JSON body.
	headless.Eval[bool](t, page, `[...document.querySelectorAll('#rows tr')].filter(tr => tr.textContent.includes('/api/items?from=tab')).pop().click() || true`)
	page.WaitFor(t, "detail for the screenshot", `(document.querySelector('#detail-title')?.textContent || '').startsWith('#`+firstID+` ')`)
	headless.Eval[bool](t, page, `(document.querySelector('#toast').hidden = true)`)
	png := page.Screenshot(t)
	out := filepath.Join(t.TempDir(), "inspector.png")
	if *updatePNG {
		out = filepath.Join("..", "..", "docs", "inspector.png")
		_ = os.MkdirAll(filepath.Dir(out), 0o755)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	// Export HAR.
	dir := t.TempDir()
	progress := chromedp.Events(page.Ctx, browser.DownloadProgress)
	enable := true
	if err := chromedp.Do(page.Ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &enable,
		})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	headless.Eval[bool](t, page, `document.querySelector('#har-all').click() || true`)
	file := ""
	deadline := time.AfterFunc(waitTimeout, closeApp)
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	deadline.Stop()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("HAR download: %v", err)
	}
	var har map[string]any
	if err := json.Unmarshal(b, &har); err != nil {
		t.Fatalf("HAR download does not parse: %v", err)
	}
	for _, p := range checkHAR("", harSpec(), har) {
		t.Errorf("downloaded HAR: %s", p)
	}
	if n := len(har["log"].(map[string]any)["entries"].([]any)); n < 9 {
		t.Errorf("downloaded HAR: %d entries, want 9 or more", n)
	}

	// Clear, and import the file just exported.
	headless.Eval[bool](t, page, `document.querySelector('#clear').click() || true`)
	page.WaitFor(t, "clear", `document.querySelectorAll('#rows tr').length === 0`)
	if err := chromedp.Do(page.Ctx, chromedp.SetUploadFiles(chromedp.CSS("#har-import"), []string{file}, chromedp.NodeReady)); err != nil {
		t.Fatalf("import HAR: %v", err)
	}
	page.WaitFor(t, "HAR import", `document.querySelectorAll('#rows tr').length >= 8 && `+rowWith("imported")+` !== undefined`)
	page.WaitFor(t, "imported replay", rowWith("/api/items?from=tab")+` !== undefined`)

	ws.Close()

	for _, tb := range []*headless.Tab{page, app} {
		if errs := tb.ConsoleErrors(); len(errs) > 0 {
			t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
		}
	}
}
