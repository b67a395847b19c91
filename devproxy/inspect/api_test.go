package inspect

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/wsframe"
)

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func findHeader(pairs [][2]string, name string) string {
	for _, kv := range pairs {
		if strings.EqualFold(kv[0], name) {
			return kv[1]
		}
	}
	return ""
}

// TestCaptureKinds sends one request of each kind through the test core
// and reads it back through the API.
func TestCaptureKinds(t *testing.T) {
	c := startCore(t, coreOptions{})
	tests := []struct {
		name, method, path string
		header             http.Header
		body               string
		kind               Kind
		status             int
		stream             bool
		reqBody, respBody  string // substrings
		respType           string
		failure            string
	}{
		{name: "proxied GET", method: "GET", path: "/api/items?page=2&q=a%20b", kind: KindRoute, status: 200, respBody: `"name":"first"`, respType: "application/json"},
		{name: "proxied POST", method: "POST", path: "/api/items", header: header("Content-Type", "application/json", "X-Test", "yes"),
			body: `{"name":"new"}`, kind: KindRoute, status: 200, reqBody: `{"name":"new"}`, respBody: `"got":"{\"name\":\"new\"}"`},
		{name: "mock", method: "GET", path: "/mock/user", kind: KindMock, status: 418, respBody: `{"mock":true}`},
		{name: "static", method: "GET", path: "/page.html", kind: KindStatic, status: 200, respBody: "<h1>app</h1>", respType: "text/html"},
		{name: "failure", method: "GET", path: "/down/x", kind: KindRoute, status: 502, failure: "did not answer"},
		{name: "sse", method: "GET", path: "/api/sse", kind: KindRoute, status: 200, stream: true, respBody: "data: tick 3"},
		{name: "image", method: "GET", path: "/api/image", kind: KindRoute, status: 200, respType: "image/png"},
		{name: "gzip shown decoded", method: "GET", path: "/api/gz", kind: KindRoute, status: 200, respBody: `{"compressed":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := c.do(t, tt.method, tt.path, tt.header, tt.body)
			if res.StatusCode != tt.status {
				t.Fatalf("%s %s: status = %d, want %d", tt.method, tt.path, res.StatusCode, tt.status)
			}
			d := c.waitDone(t, tt.path)
			if d.Method != tt.method || d.Kind != tt.kind || d.Status != tt.status || d.Stream != tt.stream {
				t.Errorf("entry = %s %s kind %s status %d stream %t, want %s %s kind %s status %d stream %t",
					d.Method, d.Path, d.Kind, d.Status, d.Stream, tt.method, tt.path, tt.kind, tt.status, tt.stream)
			}
			if d.Kind == KindRoute && d.Target == "" {
				t.Errorf("entry %s: no target", tt.path)
			}
			if d.TTFB < 0 || d.Duration < d.TTFB {
				t.Errorf("entry %s: ttfb %v ms, duration %v ms", tt.path, d.TTFB, d.Duration)
			}
			if tt.reqBody != "" && !strings.Contains(d.Request.Body.Data, tt.reqBody) {
				t.Errorf("request body = %q, want it to contain %q", d.Request.Body.Data, tt.reqBody)
			}
			if tt.respBody != "" && !strings.Contains(d.Response.Body.Data, tt.respBody) {
				t.Errorf("response body = %q, want it to contain %q", d.Response.Body.Data, tt.respBody)
			}
			if tt.respType != "" && !strings.HasPrefix(d.Response.Body.ContentType, tt.respType) {
				t.Errorf("response Content-Type = %q, want %s", d.Response.Body.ContentType, tt.respType)
			}
			if !strings.Contains(d.Failure, tt.failure) || (tt.failure != "" && d.Hint == "") {
				t.Errorf("failure = %q hint %q, want it to contain %q with a hint", d.Failure, d.Hint, tt.failure)
			}
			if d.Size == 0 && tt.status != 204 {
				t.Errorf("size = 0")
			}
		})
	}
	t.Run("query and headers", func(t *testing.T) {
		d := c.waitDone(t, "/api/items?page=2&q=a%20b")
		if len(d.Request.Query) != 2 || d.Request.Query[1] != [2]string{"q", "a b"} {
			t.Errorf("query = %v, want [page 2] [q a b]", d.Request.Query)
		}
		if got := findHeader(d.Response.Headers, "Set-Cookie"); !strings.Contains(got, "s3cret") {
			t.Errorf("Set-Cookie = %q: the page shows secrets, only HAR masks them", got)
		}
	})
	t.Run("image is base64", func(t *testing.T) {
		d := c.waitDone(t, "/api/image")
		if b, err := base64.StdEncoding.DecodeString(d.Response.Body.Data); d.Response.Body.Encoding != "base64" || err != nil || string(b) != string(tinyPNG()) {
			t.Errorf("image body: encoding %q, decoded %v %v, want the PNG's bytes", d.Response.Body.Encoding, len(b), err)
		}
	})
}

// TestCaptureWebSocket opens a socket through the core, exchanges
// messages, and reads them back: open while it lasts, then closed.
func TestCaptureWebSocket(t *testing.T) {
	c := startCore(t, coreOptions{store: Options{MaxWSMessages: 4}})
	ws := c.dialWS(t, "/ws")
	big := strings.Repeat("x", 70000) // a 64-bit length header
	msgs := []string{"hello", strings.Repeat("é", 200), big}
	for _, m := range msgs {
		if err := ws.send(wsframe.OpText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		got, err := ws.recv()
		if err != nil || string(got) != "echo: "+m {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(m), len(got), err)
		}
	}
	list := getJSON[[]summary](t, c, "/api/requests")
	if len(list) != 1 || !list[0].WebSocket || !list[0].Open || list[0].Status != 101 {
		t.Fatalf("while open: list = %+v, want one open WebSocket with status 101", list)
	}
	_ = ws.send(wsframe.OpClose, []byte{3, 232})
	ws.Close()
	d := c.waitDone(t, "/ws")
	if !d.WebSocket || d.Open {
		t.Errorf("after close: webSocket %t open %t, want true false", d.WebSocket, d.Open)
	}
	want := []struct {
		dir  Direction
		text string
		size int
	}{
		{ToServer, "hello", 5}, {ToClient, "echo: hello", 11}, {ToServer, msgs[1], 400}, {ToClient, "echo: " + msgs[1], 406},
	}
	if len(d.Messages) != len(want) {
		t.Fatalf("messages = %d, want %d (the cap)", len(d.Messages), len(want))
	}
	for i, w := range want {
		m := d.Messages[i]
		if m.Dir != w.dir || m.Text != w.text || m.Size != w.size || m.Opcode != wsframe.OpText {
			t.Errorf("message %d = %s %q size %d op %d, want %s %q size %d", i, m.Dir, m.Text, m.Size, m.Opcode, w.dir, w.text, w.size)
		}
	}
	if got := findHeader(d.Response.Headers, "Sec-Websocket-Accept"); got == "" {
		t.Errorf("101 response headers = %v, want Sec-WebSocket-Accept among them", d.Response.Headers)
	}
	if d.MessagesSeen != 7 { // 3 each way and the close
		t.Errorf("messages seen = %d, want 7", d.MessagesSeen)
	}
}

// TestStreamNotBuffered: an event stream reaches the client event by
// event while it is captured; the backend sends the next event only once
// the client has the previous one.
func TestStreamNotBuffered(t *testing.T) {
	c := startCore(t, coreOptions{})
	ack := make(chan struct{})
	c.backend.Config.Handler.(*http.ServeMux).HandleFunc("GET /api/lockstep", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			_ = rc.Flush()
			select {
			case <-ack:
			case <-time.After(waitTimeout):
				return
			}
		}
	})
	res, err := c.Client().Get(c.URL + "/api/lockstep")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	for i := range 3 {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d: %q, %v", i, line, err)
		}
		_, _ = br.ReadString('\n')
		if i == 0 {
			list := getJSON[[]summary](t, c, "/api/requests")
			if len(list) != 1 || !list[0].Open || !list[0].Stream {
				t.Errorf("during the stream: %+v, want one open stream", list)
			}
		}
		ack <- struct{}{}
	}
}

// TestBodyCaps: bodies beyond MaxBody are counted, not kept.
func TestBodyCaps(t *testing.T) {
	c := startCore(t, coreOptions{store: Options{MaxBody: 1024}})
	up := strings.Repeat("u", 5000)
	res, body := c.do(t, "POST", "/api/items", header("Content-Type", "text/plain"), up)
	if res.StatusCode != 200 || !strings.Contains(body, up) {
		t.Fatalf("POST: status %d, the backend did not get the whole body", res.StatusCode)
	}
	d := c.waitDone(t, "/api/items")
	if b := d.Request.Body; b.Size != 5000 || b.Kept != 1024 || !b.Truncated {
		t.Errorf("request body: size %d kept %d truncated %t, want 5000 1024 true", b.Size, b.Kept, b.Truncated)
	}
	res, body = c.do(t, "GET", "/api/big?n=300000&type=application/x-ndjson", nil, "")
	if res.StatusCode != 200 || len(body) != 300000 {
		t.Fatalf("GET big: status %d, %d bytes, want 300000", res.StatusCode, len(body))
	}
	d = c.waitDone(t, "/api/big?n=300000&type=application/x-ndjson")
	if b := d.Response.Body; b.Size != 300000 || b.Kept != 1024 || !b.Truncated || b.NotKept || d.Size != 300000 {
		t.Errorf("response body: size %d kept %d truncated %t not kept %t entry size %d, want 300000 1024 true false 300000", b.Size, b.Kept, b.Truncated, b.NotKept, d.Size)
	}
}

// TestOpaqueBodiesNotKept: a response body the page shows only as
// "binary" (a download) is counted and not copied; the details, the HAR
// export and its import say so. An image, which the page previews, and
// an upload, which replay sends again, are kept whatever their type.
func TestOpaqueBodiesNotKept(t *testing.T) {
	c := startCore(t, coreOptions{})
	for _, tc := range []struct {
		path     string
		notKept  bool
		wantKept int
	}{
		{"/api/big?n=300000", true, 0},
		{"/api/big?n=300000&type=video/mp4;+codecs=avc1", true, 0},
		{"/api/big?n=300000&type=Application/PDF", true, 0},
		{"/api/big?n=3000&type=image/png", false, 3000},
		{"/api/big?n=3000&type=application/json", false, 3000},
		{"/api/big?n=3000&type=application/octet-streamy", false, 3000},
	} {
		res, body := c.do(t, "GET", tc.path, nil, "")
		d := c.waitDone(t, tc.path)
		b := d.Response.Body
		if res.StatusCode != 200 || b.Size != int64(len(body)) || b.Kept != tc.wantKept || b.NotKept != tc.notKept || b.Truncated || d.Size != int64(len(body)) {
			t.Errorf("GET %s: status %d, body size %d kept %d not kept %t truncated %t, entry size %d; want 200, %d, %d, %t, false, %d",
				tc.path, res.StatusCode, b.Size, b.Kept, b.NotKept, b.Truncated, d.Size, len(body), tc.wantKept, tc.notKept, len(body))
		}
	}
	res, _ := c.do(t, "POST", "/api/items", header("Content-Type", "application/octet-stream"), "\x00\x01upload")
	if d := c.waitDone(t, "/api/items"); res.StatusCode != 200 || d.Request.Body.Kept != 8 || d.Request.Body.NotKept {
		t.Errorf("POST octet-stream: status %d, request body kept %d not kept %t, want 200, 8, false", res.StatusCode, d.Request.Body.Kept, d.Request.Body.NotKept)
	}

	var har harFile
	_, body := c.do(t, "GET", DefaultPrefix+"/api/har", nil, "")
	if err := json.Unmarshal([]byte(body), &har); err != nil {
		t.Fatalf("GET har: %v", err)
	}
	var found bool
	for _, e := range har.Log.Entries {
		if e.Request.URL != c.URL+"/api/big?n=300000" {
			continue
		}
		found = true
		if ct := e.Response.Content; ct.Size != 300000 || ct.Text != "" || ct.Comment != "binary, 300000 bytes, not kept" || !e.Devproxy.ResponseNotKept {
			t.Errorf("HAR content of the download = %+v, not kept %t; want size 300000, no text, comment %q", ct, e.Devproxy.ResponseNotKept, "binary, 300000 bytes, not kept")
		}
	}
	if !found {
		t.Fatalf("HAR has no entry for /api/big?n=300000: %s", body)
	}
	var v any
	_ = json.Unmarshal([]byte(body), &v)
	for _, p := range checkHAR("", harSpec(), v) {
		t.Errorf("HAR: %s", p)
	}

	// Imported again, it still says so.
	c.do(t, "DELETE", DefaultPrefix+"/api/requests", nil, "")
	if res, b := c.do(t, "POST", DefaultPrefix+"/api/har", header("Content-Type", "application/json"), body); res.StatusCode != 200 {
		t.Fatalf("POST har: status %d %s", res.StatusCode, b)
	}
	d := c.waitDone(t, "/api/big?n=300000")
	if b := d.Response.Body; !b.NotKept || b.Size != 300000 || b.Kept != 0 {
		t.Errorf("imported download: body not kept %t size %d kept %d, want true 300000 0", b.NotKept, b.Size, b.Kept)
	}
}

// TestInspectorNotCaptured: the inspector's own requests do not show.
func TestInspectorNotCaptured(t *testing.T) {
	c := startCore(t, coreOptions{})
	for range 3 {
		getJSON[[]summary](t, c, "/api/requests")
		c.do(t, "GET", DefaultPrefix+"/", nil, "")
	}
	if n := len(c.store.Snapshot()); n != 0 {
		t.Errorf("after using the inspector: %d entries, want 0", n)
	}
}

// TestCaptureOff: a nil store captures nothing and proxies as before.
func TestCaptureOff(t *testing.T) {
	c := startCore(t, coreOptions{off: true})
	res, body := c.do(t, "POST", "/api/items", header("Content-Type", "application/json"), `{"a":1}`)
	if res.StatusCode != 200 || !strings.Contains(body, `{\"a\":1}`) {
		t.Errorf("POST with capture off: %d %s", res.StatusCode, body)
	}
	ws := c.dialWS(t, "/ws")
	if err := ws.send(wsframe.OpText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if got, err := ws.recv(); err != nil || string(got) != "echo: hi" {
		t.Errorf("ws with capture off: %q %v", got, err)
	}
	ws.Close()
	res, _ = c.do(t, "GET", DefaultPrefix+"/api/requests", nil, "")
	if res.StatusCode != 200 {
		t.Errorf("list with capture off: status %d, want 200 (empty)", res.StatusCode)
	}
}

// TestListFilters checks the filters the page, the events and the HAR
// export share.
func TestListFilters(t *testing.T) {
	c := startCore(t, coreOptions{})
	for _, p := range []string{"/api/items?x=1", "/mock/a", "/down/b", "/page.html"} {
		c.do(t, "GET", p, nil, "")
		c.waitDone(t, p)
	}
	tests := []struct {
		query string
		want  []string // paths, newest first
	}{
		{"", []string{"/page.html", "/down/b", "/mock/a", "/api/items?x=1"}},
		{"?kind=route,mock", []string{"/down/b", "/mock/a", "/api/items?x=1"}},
		{"?kind=static", []string{"/page.html"}},
		{"?status=4xx", []string{"/mock/a"}},
		{"?status=5xx", []string{"/down/b"}},
		{"?status=failed", []string{"/down/b"}},
		{"?route=/api", []string{"/api/items?x=1"}},
		{"?q=ITEMS", []string{"/api/items?x=1"}},
		{"?q=did+not+answer", []string{"/down/b"}},
		{"?q=nothing-matches", nil},
	}
	for _, tt := range tests {
		list := getJSON[[]summary](t, c, "/api/requests"+tt.query)
		var got []string
		for _, s := range list {
			got = append(got, s.Path)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("GET api/requests%s = %v, want %v", tt.query, got, tt.want)
		}
	}
	res, _ := c.do(t, "DELETE", DefaultPrefix+"/api/requests", nil, "")
	if res.StatusCode != http.StatusNoContent || len(getJSON[[]summary](t, c, "/api/requests")) != 0 {
		t.Errorf("DELETE api/requests: status %d, list not empty", res.StatusCode)
	}
	res, body := c.do(t, "GET", DefaultPrefix+"/api/requests/999", nil, "")
	if res.StatusCode != 404 || !strings.Contains(body, "no request 999") {
		t.Errorf("GET api/requests/999: %d %s, want 404 naming it", res.StatusCode, body)
	}
}

// TestReplay: a replay reaches the backend again with the same method,
// headers and body and shows as a new entry marked as a replay.
func TestReplay(t *testing.T) {
	c := startCore(t, coreOptions{})
	h := header("Content-Type", "application/json", "X-Test", "replay-me", "Authorization", "Bearer t0ken")
	c.do(t, "POST", "/api/items?v=1", h, `{"name":"once"}`)
	first := <-c.backend.seen
	d := c.waitDone(t, "/api/items?v=1")

	res, body := c.do(t, "POST", fmt.Sprintf("%s/api/requests/%d/replay", DefaultPrefix, d.ID), nil, "")
	if res.StatusCode != 200 {
		t.Fatalf("replay: status %d %s", res.StatusCode, body)
	}
	var r replayResult
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.ID == 0 || r.ID == d.ID || r.Status != 200 {
		t.Fatalf("replay answer %s: want a new id and status 200", body)
	}
	var second seenRequest
	select {
	case second = <-c.backend.seen:
	case <-time.After(waitTimeout):
		t.Fatal("the replay did not reach the backend")
	}
	if second.Method != first.Method || second.URI != first.URI || second.Body != first.Body {
		t.Errorf("replay = %s %s %q, want %s %s %q", second.Method, second.URI, second.Body, first.Method, first.URI, first.Body)
	}
	for _, k := range []string{"Content-Type", "X-Test", "Authorization", "Content-Length", "User-Agent"} {
		if second.Header.Get(k) != first.Header.Get(k) {
			t.Errorf("replay header %s = %q, want %q", k, second.Header.Get(k), first.Header.Get(k))
		}
	}
	nd := getJSON[detail](t, c, fmt.Sprintf("/api/requests/%d", r.ID))
	if nd.ReplayOf != d.ID || nd.Request.Body.Data != `{"name":"once"}` || nd.Status != 200 {
		t.Errorf("new entry: replayOf %d body %q status %d, want %d, the same body, 200", nd.ReplayOf, nd.Request.Body.Data, nd.Status, d.ID)
	}
	if c.backend.hits.Load() != 2 {
		t.Errorf("backend hits = %d, want 2", c.backend.hits.Load())
	}
}

// TestEditReplay overrides method, URL, headers and body.
func TestEditReplay(t *testing.T) {
	c := startCore(t, coreOptions{})
	c.do(t, "POST", "/api/items", header("Content-Type", "application/json", "X-Old", "1"), `{"a":1}`)
	<-c.backend.seen
	d := c.waitDone(t, "/api/items")
	edit := `{"method":"PUT","url":"/api/items?edited=yes","headers":[["Content-Type","text/plain"],["X-New","2"]],"body":"changed body"}`
	res, body := c.do(t, "POST", fmt.Sprintf("%s/api/requests/%d/replay", DefaultPrefix, d.ID), header("Content-Type", "application/json"), edit)
	if res.StatusCode != 200 {
		t.Fatalf("edit and replay: %d %s", res.StatusCode, body)
	}
	var got seenRequest
	select {
	case got = <-c.backend.seen:
	case <-time.After(waitTimeout):
		t.Fatal("the edited replay did not reach the backend")
	}
	if got.Method != "PUT" || got.URI != "/api/items?edited=yes" || got.Body != "changed body" ||
		got.Header.Get("X-New") != "2" || got.Header.Get("X-Old") != "" || got.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("edited replay = %s %s %q X-New %q X-Old %q Content-Type %q",
			got.Method, got.URI, got.Body, got.Header.Get("X-New"), got.Header.Get("X-Old"), got.Header.Get("Content-Type"))
	}
	bad := []struct{ body, want string }{
		{`{"method":"GE T"}`, "method"},
		{`{"headers":[["bad name","x"]]}`, "header name"},
		{`{not json`, "not valid JSON"},
	}
	for _, b := range bad {
		res, body := c.do(t, "POST", fmt.Sprintf("%s/api/requests/%d/replay", DefaultPrefix, d.ID), nil, b.body)
		if res.StatusCode != 400 || !strings.Contains(body, b.want) || !strings.Contains(body, "replay") {
			t.Errorf("replay with %s: %d %s, want 400 naming %q", b.body, res.StatusCode, body, b.want)
		}
	}
}

// TestCrossSiteRefused: other origins can neither read nor replay.
func TestCrossSiteRefused(t *testing.T) {
	c := startCore(t, coreOptions{})
	c.do(t, "GET", "/api/items", nil, "")
	<-c.backend.seen
	d := c.waitDone(t, "/api/items")
	own := c.URL
	other := "http://" + closedAddr(t)
	https := strings.Replace(own, "http://", "https://", 1)
	endpoints := []struct{ method, path string }{
		{"GET", "/api/requests"},
		{"GET", fmt.Sprintf("/api/requests/%d", d.ID)},
		{"POST", fmt.Sprintf("/api/requests/%d/replay", d.ID)},
		{"GET", "/api/events"},
		{"GET", "/api/har"},
		{"DELETE", "/api/requests"},
		{"GET", "/app.js"},
	}
	bad := []struct {
		name   string
		header http.Header
	}{
		{"origin of another port", header("Origin", other)},
		{"origin of another scheme", header("Origin", https)},
		{"null origin", header("Origin", "null")},
		{"cross-site fetch", header("Sec-Fetch-Site", "cross-site")},
		{"same-site fetch from another port", header("Sec-Fetch-Site", "same-site")},
	}
	for _, e := range endpoints {
		for _, b := range bad {
			res, body := c.do(t, e.method, DefaultPrefix+e.path, b.header, "")
			if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "same-origin only") {
				t.Errorf("%s %s with %s: status %d %s, want 403", e.method, e.path, b.name, res.StatusCode, body)
			}
			for k := range res.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s %s: %s header sent", e.method, e.path, k)
				}
			}
		}
	}
	if n := c.backend.hits.Load(); n != 1 {
		t.Errorf("backend hits = %d, want 1: a refused replay reached it", n)
	}
	// The page itself, and the API from the page, are fine.
	ok := []struct {
		method, path string
		header       http.Header
	}{
		{"GET", "/", header("Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate")},
		{"GET", "/api/requests", header("Origin", own, "Sec-Fetch-Site", "same-origin")},
		{"POST", fmt.Sprintf("/api/requests/%d/replay", d.ID), header("Origin", own, "Sec-Fetch-Site", "same-origin")},
		{"GET", "/app.js", header("Sec-Fetch-Site", "same-origin")},
	}
	for _, o := range ok {
		res, body := c.do(t, o.method, DefaultPrefix+o.path, o.header, "")
		if res.StatusCode != 200 {
			t.Errorf("%s %s from the page: status %d %s, want 200", o.method, o.path, res.StatusCode, body)
		}
		if o.path == "/" && !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("page: Content-Security-Policy = %q", res.Header.Get("Content-Security-Policy"))
		}
	}
}
