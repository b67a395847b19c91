package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
	"github.com/devproxy/devproxy/internal/headless"
)

// The browser is the ground truth for CORS. These tests run every CORS case
// in headless Chromium (a page on one origin calling fetch on another) and
// require doctor's verdict to match the browser's, and doctor's reason to be
// the browser's own console message. Then they check that cors mode makes
// Chromium allow what it should and refuse what it should.

// browser is one headless Chromium shared by the cases of a test, with the
// console messages of its tab.
type browser struct {
	ctx     context.Context
	console *consoleLog
	page    string // the origin the tab is on
}

// startBrowser starts headless Chromium with a fresh profile, or skips the
// test when it is not installed.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	ctx := headless.Start(t, headless.Options{})
	b := &browser{ctx: ctx, console: newConsoleLog("Chromium's console")}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*log.EventEntryAdded); ok && e.Entry != nil {
			b.console.add(e.Entry.Text)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// open puts the tab on a page of origin, unless it is there already.
func (b *browser) open(t *testing.T, origin string) {
	t.Helper()
	if b.page == origin {
		return
	}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(origin+"/")); err != nil {
		t.Fatalf("opening %s in Chromium: %v", origin, err)
	}
	b.page = origin
}

// fetch makes the case's call with fetch from the page and reports whether
// the page could read the response, and what fetch said.
func (b *browser) fetch(t *testing.T, url string, c corsCase) (allowed bool, result string) {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	headers := map[string]string{}
	for _, h := range c.reqHeaders {
		headers[h] = "devproxy-doctor"
		if strings.EqualFold(h, "Authorization") {
			headers[h] = "Bearer devproxy-doctor"
		}
	}
	init := map[string]any{"method": method, "headers": headers, "cache": "no-store", "credentials": "same-origin"}
	if c.credentials {
		init["credentials"] = "include"
	}
	if c.contentType != "" {
		headers["Content-Type"] = c.contentType
		init["body"] = "{}"
	}
	u, _ := json.Marshal(url)
	i, _ := json.Marshal(init)
	js := fmt.Sprintf(`fetch(%s, %s).then(r => r.text().then(() => "allowed " + r.status), e => "blocked " + e)`, u, i)
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch in Chromium: %v", err)
	}
	return strings.HasPrefix(res, "allowed"), res
}

// consoleLog collects the console messages of the tab, or devproxy's log
// lines, named by name in a failure.
type consoleLog struct {
	name    string
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func newConsoleLog(name string) *consoleLog {
	return &consoleLog{name: name, changed: make(chan struct{})}
}

// Write adds the lines of p, as devproxy's log writes them.
func (c *consoleLog) Write(p []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimSuffix(string(p), "\n"), "\n") {
		c.add(line)
	}
	return len(p), nil
}

func (c *consoleLog) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

func (c *consoleLog) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, s)
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitFor waits for a message that contains sub and returns it.
func (c *consoleLog) waitFor(t *testing.T, sub string) string {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		c.mu.Lock()
		lines, ch := c.lines, c.changed
		c.mu.Unlock()
		for _, l := range lines {
			if strings.Contains(l, sub) {
				return l
			}
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%s never showed %q; it showed:\n%s", c.name, sub, strings.Join(lines, "\n"))
		}
	}
}

// pageServer serves an empty page for the browser to call from.
func pageServer(t *testing.T) (port string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>page</title>")
	}))
	t.Cleanup(srv.Close)
	_, port, _ = strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	return port
}

// TestDoctorMatchesChromium runs every CORS case in Chromium and in doctor.
func TestDoctorMatchesChromium(t *testing.T) {
	b := startBrowser(t)
	port := pageServer(t)
	for _, c := range corsCases() {
		t.Run(c.name, func(t *testing.T) {
			origin := c.pageOrigin(port)
			url := c.start(t, origin) + "/api/users"
			b.open(t, origin)
			allowed, result := b.fetch(t, url, c)
			v, err := Diagnose(context.Background(), c.check(url, origin))
			if err != nil {
				t.Fatalf("Diagnose: %v", err)
			}
			t.Logf("chromium: %s; doctor: %s", result, v.Verdict)
			if allowed != c.allowed {
				t.Errorf("Chromium: %s, want allowed = %t", result, c.allowed)
			}
			if v.Allowed() != allowed {
				t.Errorf("doctor: %s (%s), Chromium: %s", v.Verdict, v.Reason, result)
			}
			if allowed || c.down {
				return
			}
			msg := b.console.waitFor(t, "Access to fetch at '"+url+"'")
			if !strings.HasPrefix(msg, v.Reason) {
				t.Errorf("doctor's reason is not the browser's message:\ndoctor:   %s\nChromium: %s", v.Reason, msg)
			}
		})
	}
}

// TestCORSModeInChromium calls devproxy in cors mode from a page on another
// origin, in front of backends that get CORS wrong or leave it out.
func TestCORSModeInChromium(t *testing.T) {
	b := startBrowser(t)
	port := pageServer(t)
	origin := "http://127.0.0.1:" + port
	const exact = "Access-Control-Allow-Origin: {origin}"
	cases := []struct {
		corsCase
		cors string // the route's cors block, with {origin} for the page's
		log  string // a line the log must show
	}{
		{corsCase: corsCase{name: "backend without CORS", allowed: true}, cors: "{origins: [{origin}]}"},
		{corsCase: corsCase{name: "backend fails the preflight", method: "PUT", credentials: true, reqHeaders: []string{"Authorization"},
			contentType: "application/json", optionsStatus: 405, headers: []string{"Access-Control-Allow-Origin: *"}, allowed: true},
			cors: "{origins: [{origin}], credentials: true, max_age: 10m}"},
		{corsCase: corsCase{name: "backend doubles Allow-Origin", credentials: true, headers: []string{exact, exact, "Access-Control-Allow-Origin: *"}, allowed: true},
			cors: "{origins: [{origin}], credentials: true}"},
		{corsCase: corsCase{name: "origins from a comma-separated variable", allowed: true}, cors: `{origins: ["${ORIGINS}"]}`},
		{corsCase: corsCase{name: "mock route", allowed: true}, cors: "{origins: [{origin}]}"},
		{corsCase: corsCase{name: "origin not listed"}, cors: "{origins: [http://localhost:3000]}",
			log: "refused the cross-origin call from " + origin},
		{corsCase: corsCase{name: "header not listed", reqHeaders: []string{"X-Trace"}}, cors: "{origins: [{origin}], headers: [Content-Type]}",
			log: "header x-trace is not in routes./c6.cors.headers"},
		{corsCase: corsCase{name: "method not listed", method: "DELETE"}, cors: "{origins: [{origin}], methods: [PUT]}",
			log: "DELETE is not in routes./c7.cors.methods"},
		{corsCase: corsCase{name: "credentials not enabled", credentials: true}, cors: "{origins: [{origin}]}"},
	}
	var config strings.Builder
	config.WriteString("routes:\n")
	for i, c := range cases {
		fmt.Fprintf(&config, "  /c%d:\n", i)
		if c.name == "mock route" {
			config.WriteString("    respond: {json: {ok: true}}\n")
		} else {
			fmt.Fprintf(&config, "    target: %s\n", c.start(t, origin))
		}
		fmt.Fprintf(&config, "    cors: %s\n", strings.ReplaceAll(c.cors, "{origin}", origin))
	}
	p := startDevproxy(t, config.String(), map[string]string{"ORIGINS": "http://localhost:3000, " + origin})
	b.open(t, origin)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := fmt.Sprintf("%s/c%d/users", p.url, i)
			allowed, result := b.fetch(t, url, c.corsCase)
			v, err := Diagnose(context.Background(), c.check(url, origin))
			if err != nil {
				t.Fatalf("Diagnose: %v", err)
			}
			t.Logf("chromium: %s; doctor: %s", result, v.Verdict)
			if allowed != c.allowed {
				t.Errorf("Chromium: %s, want allowed = %t; log:\n%s", result, c.allowed, p.log)
			}
			if v.Allowed() != allowed {
				t.Errorf("doctor: %s (%s), Chromium: %s", v.Verdict, v.Reason, result)
			}
			if c.log != "" {
				p.log.waitFor(t, c.log)
			}
		})
	}
}
