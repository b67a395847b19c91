package inspect

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// sseReader reads server-sent events off a response.
type sseReader struct{ br *bufio.Reader }

// next returns the next event's name and data.
func (r *sseReader) next() (string, string, error) {
	var name, data string
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && (name != "" || data != ""):
			return name, data, nil
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

func TestEvents(t *testing.T) {
	c := startCore(t, coreOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.URL+DefaultPrefix+"/api/events?kind=route", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET api/events: %d %q", res.StatusCode, ct)
	}
	ev := &sseReader{bufio.NewReader(res.Body)}
	// Subscribed once the first bytes arrived; now make requests. The
	// client may have its response before the exchange is finished, so
	// the next request waits for "done".
	var got []string
	read := func(n int) {
		for range n {
			name, data, err := ev.next()
			if err != nil {
				t.Fatalf("events so far %v: %v", got, err)
			}
			var e eventJSON
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatalf("event %s %q: %v", name, data, err)
			}
			got = append(got, name+" "+e.Path+" "+map[bool]string{true: "match", false: "no-match"}[e.Match])
		}
	}
	c.do(t, "GET", "/api/items?e=1", nil, "")
	read(3)
	c.do(t, "GET", "/mock/x", nil, "")
	read(3)
	want := "[new /api/items?e=1 match update /api/items?e=1 match done /api/items?e=1 match new /mock/x no-match update /mock/x no-match done /mock/x no-match]"
	if s := "[" + strings.Join(got, " ") + "]"; s != want {
		t.Errorf("events = %s\nwant %s", s, want)
	}
	res2, _ := c.do(t, "DELETE", DefaultPrefix+"/api/requests", nil, "")
	if res2.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", res2.StatusCode)
	}
	for {
		name, _, err := ev.next()
		if err != nil {
			t.Fatalf("waiting for clear: %v", err)
		}
		if name == "clear" {
			break
		}
	}
	// Shutdown ends the stream.
	c.cancel()
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ev.next(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("the event stream did not end on shutdown")
	}
}

// TestSiteScopedEvents: a site's event stream gets its own site's events
// only; a clear of one site clears that site's list, resets the
// top-level one's and tells the other sites nothing.
func TestSiteScopedEvents(t *testing.T) {
	store := New(Options{})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	h := NewHandler(ctx, store, HandlerOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if site, ok := strings.CutPrefix(r.Host, "site-"); ok {
			r = ForSite(r, strings.Split(site, ":")[0])
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close) // after the streams' bodies are closed
	open := func(host string) *sseReader {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+DefaultPrefix+"/api/events?kind=route", nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		r := &sseReader{br: bufio.NewReader(res.Body)}
		if line, err := r.br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
			t.Fatalf("events on %s: first line %q, %v", host, line, err)
		}
		return r
	}
	top, a, b := open("localhost"), open("site-a"), open("site-b")
	begin := func(site, path string) {
		r, _ := http.NewRequest("GET", "http://x"+path, nil)
		store.Begin(r, Where{Kind: KindRoute, Site: site}).Finish(0, nil)
	}
	// expect reads the events each stream should have got by now.
	expect := func(when string, want map[*sseReader]string) {
		t.Helper()
		for _, r := range []*sseReader{top, a, b} {
			name := map[*sseReader]string{top: "top-level", a: "site a", b: "site b"}[r]
			var got []string
			for w := want[r]; len(got) < strings.Count(w, ",")+1; {
				ev, data, err := r.next()
				if err != nil {
					t.Fatalf("%s, %s: events %v: %v", when, name, got, err)
				}
				var s summary
				_ = json.Unmarshal([]byte(data), &s)
				got = append(got, strings.TrimSpace(ev+" "+s.Path))
			}
			if s := strings.Join(got, ", "); s != want[r] {
				t.Errorf("%s, %s: events = %s\nwant %s", when, name, s, want[r])
			}
		}
	}
	begin("a", "/of-a")
	begin("b", "/of-b")
	expect("two requests", map[*sseReader]string{
		top: "new /of-a, done /of-a, new /of-b, done /of-b",
		a:   "new /of-a, done /of-a",
		b:   "new /of-b, done /of-b",
	})
	clearA, _ := http.NewRequest("DELETE", srv.URL+DefaultPrefix+"/api/requests", nil)
	clearA.Host = "site-a"
	res, err := http.DefaultClient.Do(clearA)
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE api/requests on site a: %v %v", res, err)
	}
	res.Body.Close()
	begin("b", "/end")
	begin("a", "/end")
	expect("site a's clear", map[*sseReader]string{
		top: "reset",
		a:   "clear, new /end, done /end",
		b:   "new /end, done /end",
	})
	if n := len(store.Snapshot()); n != 3 {
		t.Errorf("after site a's clear: %d exchanges kept, want 3 (b's two, a's new one)", n)
	}
}
