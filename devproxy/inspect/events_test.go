package inspect

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
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
