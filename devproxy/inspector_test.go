package devproxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// entry is an exchange as the inspector's API lists and details it.
type entry struct {
	ID        uint64 `json:"id"`
	Method    string `json:"method"`
	URL       string `json:"url"`
	Path      string `json:"path"`
	Proto     string `json:"proto"`
	Kind      string `json:"kind"`
	Route     string `json:"route"`
	Target    string `json:"target"`
	Via       string `json:"via"`
	Site      string `json:"site"`
	Status    int    `json:"status"`
	Size      int64  `json:"size"`
	Duration  float64
	Open      bool   `json:"open"`
	WebSocket bool   `json:"webSocket"`
	Stream    bool   `json:"stream"`
	Failure   string `json:"failure"`
	Hint      string `json:"hint"`
	Error     string `json:"error"`
	ReplayOf  uint64 `json:"replayOf"`
	Request   struct {
		Headers [][2]string `json:"headers"`
		Body    apiBody     `json:"body"`
	} `json:"request"`
	Response struct {
		Headers [][2]string `json:"headers"`
		Body    apiBody     `json:"body"`
	} `json:"response"`
	Messages []struct {
		Dir    string `json:"dir"`
		Opcode byte   `json:"opcode"`
		Size   int    `json:"size"`
		Text   string `json:"text"`
	} `json:"messages"`
}

type apiBody struct {
	Size      int64  `json:"size"`
	Kept      int    `json:"kept"`
	Truncated bool   `json:"truncated"`
	Data      string `json:"data"`
}

// inspectorAPI calls the inspector's API on p as a tool does and decodes
// the JSON answer into v.
func (p *testProxy) inspectorAPI(t *testing.T, method, path string, body io.Reader, v any) int {
	t.Helper()
	res, b := p.do(t, method, "/__devproxy/api/"+path, body, nil)
	if v != nil && res.StatusCode < 300 {
		if err := json.Unmarshal([]byte(b), v); err != nil {
			t.Fatalf("%s api/%s: %v in %q", method, path, err, b)
		}
	}
	return res.StatusCode
}

// entries lists what the inspector keeps, newest first.
func (p *testProxy) entries(t *testing.T) []entry {
	t.Helper()
	var list []entry
	if code := p.inspectorAPI(t, "GET", "requests?kind=route,frontend,static,mock,devproxy", nil, &list); code != 200 {
		t.Fatalf("GET api/requests: status %d", code)
	}
	return list
}

// waitEntry polls the list until an entry for path is there and done (or,
// with open, there and still open), and returns its details.
func (p *testProxy) waitEntry(t *testing.T, path string, open bool) entry {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		for _, e := range p.entries(t) {
			if e.Path == path && e.Open == open && (!open || e.Status != 0) {
				var d entry
				p.inspectorAPI(t, "GET", fmt.Sprintf("requests/%d", e.ID), nil, &d)
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s entry for %s within %s; list: %+v", map[bool]string{true: "open", false: "finished"}[open], path, waitTimeout, p.entries(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestInspectorNamesWhatAnswered: when a route's fallback or its
// recordings answer in place of its target, the exchange names them, as
// the log line does; before, it named only the target that refused.
func TestInspectorNamesWhatAnswered(t *testing.T) {
	staging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "staging")
	}))
	defer staging.Close()
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "local")
	}))
	defer local.Close()
	down, down2 := "http://127.0.0.1:"+closedPort(t), "http://127.0.0.1:"+closedPort(t)
	recording := "HTTP/1.1 200 OK\nContent-Type: text/plain\n\nrecorded x"
	for _, tc := range []struct {
		name, route, body, log string
		wantTarget, wantVia    string
	}{
		{"target answers", "target: " + local.URL + "\n    fallback: " + staging.URL, "local", "/api " + strings.TrimPrefix(local.URL, "http://"), local.URL, ""},
		{"fallback", "target: " + down + "\n    fallback: " + staging.URL + "/base", "staging", "fallback", down, staging.URL + "/base"},
		{"replay auto", "target: " + down + "\n    record: ./mocks\n    replay: auto", "recorded x", "replayed", down, "./mocks/x/GET.http"},
		{"fallback down, replay auto", "target: " + down + "\n    fallback: " + down2 + "\n    record: ./mocks\n    replay: auto", "recorded x", "fallback replayed", down, "./mocks/x/GET.http"},
		{"replay always", "replay: ./mocks", "recorded x", "replayed", "", "./mocks/x/GET.http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"mocks/x/GET.http": recording})
			p := startProxyIn(t, dir, "routes:\n  /api:\n    "+tc.route+"\n", nil)
			p.wantBody(t, "/api/x", tc.body)
			p.log.waitLines(t, 1, "/api/x", tc.log)
			e := p.waitEntry(t, "/api/x", false)
			if e.Status != 200 || e.Route != "/api" || e.Target != tc.wantTarget || e.Via != tc.wantVia {
				t.Errorf("GET /api/x: entry status %d, route %q, target %q, via %q; want 200, %q, %q, %q",
					e.Status, e.Route, e.Target, e.Via, "/api", tc.wantTarget, tc.wantVia)
			}
		})
	}
}

// TestInspectorKeepsRequestHeaderAsSent: an exchange keeps the request's
// own header map rather than a copy of it, so nothing may change that
// map. The proxy's forwarding headers, a route's headers, the frontend's
// Origin and a dropped h2c upgrade reach the target, and the inspector
// shows what the client sent, while the request is in flight and after.
// Under -race, the read in flight meets any write to the map.
func TestInspectorKeepsRequestHeaderAsSent(t *testing.T) {
	type got struct {
		h       http.Header
		release chan struct{}
	}
	arrived := make(chan got)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release := make(chan struct{})
		arrived <- got{r.Header.Clone(), release}
		<-release
		io.WriteString(w, "ok")
	}))
	defer be.Close()
	p := startProxy(t, "frontend: "+be.URL+"\nroutes:\n  /api:\n    target: "+be.URL+"\n    headers: {X-Route: added, X-Drop: \"\"}\n", nil)

	for _, tc := range []struct {
		path string
		sent http.Header
		// atTarget is what the target must get in place of sent's.
		atTarget map[string]string
	}{
		{"/api/x", http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Real-Ip": {"203.0.113.9"}, "X-Drop": {"s3cret"},
			"Upgrade": {"h2c"}, "Connection": {"Upgrade, HTTP2-Settings"}, "Http2-Settings": {"AAMAAABkAARAAAAAAAIAAAAA"}},
			map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "", "X-Drop": "", "X-Route": "added", "Upgrade": "", "Http2-Settings": ""}},
		{"/src/main.ts", http.Header{"Origin": {p.url}, "X-Forwarded-Host": {"evil.example"}},
			map[string]string{"Origin": be.URL, "X-Forwarded-Host": strings.TrimPrefix(p.url, "http://")}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				req, _ := http.NewRequest("GET", p.url+tc.path, nil)
				for k, v := range tc.sent {
					req.Header[k] = v
				}
				if res, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			}()
			var at got
			select {
			case at = <-arrived:
			case <-time.After(waitTimeout):
				t.Fatalf("GET %s: the target got nothing within %s", tc.path, waitTimeout)
			}
			for k, want := range tc.atTarget {
				if v := at.h.Get(k); v != want {
					t.Errorf("GET %s: the target got %s %q, want %q", tc.path, k, v, want)
				}
			}
			check := func(when string, e entry) {
				t.Helper()
				shown := http.Header{}
				for _, kv := range e.Request.Headers {
					shown.Add(kv[0], kv[1])
				}
				for k, v := range tc.sent {
					if got := shown.Values(k); strings.Join(got, ", ") != strings.Join(v, ", ") {
						t.Errorf("GET %s %s: the inspector shows %s %q, want %q as sent", tc.path, when, k, got, v)
					}
				}
				for k := range tc.atTarget {
					if _, sent := tc.sent[k]; !sent && shown.Get(k) != "" {
						t.Errorf("GET %s %s: the inspector shows %s %q, which the proxy set on its copy", tc.path, when, k, shown.Get(k))
					}
				}
			}
			var inFlight entry
			for _, e := range p.entries(t) {
				if e.Path == tc.path && e.Open {
					p.inspectorAPI(t, "GET", fmt.Sprintf("requests/%d", e.ID), nil, &inFlight)
				}
			}
			close(at.release)
			if inFlight.ID == 0 {
				t.Fatalf("GET %s: no open entry while the target held the request; list: %+v", tc.path, p.entries(t))
			}
			check("in flight", inFlight)
			<-done
			check("after", p.waitEntry(t, tc.path, false))
		})
	}
}

func TestInspectorCapturesEveryKind(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", "api")
		fmt.Fprintf(w, `{"got":%q}`, b)
	}))
	defer api.Close()
	dev := namedBackend(t, "dev server")
	down := closedPort(t)
	// A dev server that serves only /app.js, in front of a fallback_api.
	devOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/app.js" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "bundle")
	}))
	defer devOnly.Close()
	fallback := "frontend:\n  url: " + devOnly.URL + "\n  fallback_api: " + api.URL + "\n"
	folder := t.TempDir()
	writeFiles(t, folder, map[string]string{"index.html": "<h1>static</h1>"})

	proxied := "frontend: " + dev.URL + "\nroutes:\n  /api: " + api.URL + "\n  /mock:\n    respond: {status: 201, body: mocked}\n  /down: http://127.0.0.1:" + down + "\n"
	tests := []struct {
		name, config  string
		method, path  string
		body          string
		header        http.Header
		wantStatus    int
		kind, route   string
		target        string
		reqBody       string
		respBody      string
		failure, hint string
	}{
		{name: "route", config: proxied, method: "POST", path: "/api/items?x=1", body: `{"a":1}`,
			header: http.Header{"Content-Type": {"application/json"}}, wantStatus: 200,
			kind: "route", route: "/api", target: api.URL, reqBody: `{"a":1}`, respBody: `{"got":"{\"a\":1}"}`},
		{name: "frontend", config: proxied, method: "GET", path: "/app.js", wantStatus: 200,
			kind: "frontend", target: dev.URL, respBody: "dev server"},
		{name: "mock", config: proxied, method: "GET", path: "/mock/x", wantStatus: 201,
			kind: "mock", route: "/mock", respBody: "mocked"},
		{name: "failure", config: proxied, method: "GET", path: "/down/x", wantStatus: 502,
			kind: "route", route: "/down", target: "http://127.0.0.1:" + down, failure: "connection refused", hint: "is the API running?"},
		{name: "refused", config: proxied, method: "GET", path: "/api/secret", header: http.Header{"Host": {"evil.example"}}, wantStatus: 403,
			kind: "devproxy", failure: "DNS rebinding", hint: "allowed_hosts"},
		{name: "cross-site", config: proxied, method: "POST", path: "/api/transfer", body: "x", header: http.Header{"Origin": {"http://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, wantStatus: 403,
			kind: "devproxy", failure: "cross-site request protection"},
		{name: "fallback_api", config: fallback, method: "GET", path: "/users/1", wantStatus: 200,
			kind: "route", route: "fallback_api", target: api.URL, respBody: `{"got":""}`},
		{name: "fallback_api's dev server", config: fallback, method: "GET", path: "/app.js", wantStatus: 200,
			kind: "frontend", target: devOnly.URL, respBody: "bundle"},
		{name: "static", config: "frontend: " + folder + "\n", method: "GET", path: "/index.html", wantStatus: 200,
			kind: "static", respBody: "<h1>static</h1>"},
		{name: "static 404", config: "frontend: " + folder + "\n", method: "GET", path: "/nope.js", wantStatus: 404,
			kind: "static", failure: "/nope.js is not in"},
		{name: "no frontend", config: "routes:\n  /api: " + api.URL + "\n", method: "GET", path: "/other", wantStatus: 404,
			kind: "devproxy", failure: "no route matches", hint: "add a route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, tt.config, nil)
			req, err := http.NewRequest(tt.method, p.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				if k == "Host" {
					req.Host = v[0]
					continue
				}
				req.Header[k] = v
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s: status %d, want %d", tt.method, tt.path, res.StatusCode, tt.wantStatus)
			}
			e := p.waitEntry(t, tt.path, false)
			if e.Method != tt.method || e.Status != tt.wantStatus || e.Kind != tt.kind || e.Route != tt.route || e.Target != tt.target {
				t.Errorf("entry: %s %d kind %q route %q target %q, want %s %d kind %q route %q target %q",
					e.Method, e.Status, e.Kind, e.Route, e.Target, tt.method, tt.wantStatus, tt.kind, tt.route, tt.target)
			}
			if e.Proto != "HTTP/1.1" || e.Duration < 0 {
				t.Errorf("entry: proto %q duration %v, want HTTP/1.1 and a duration", e.Proto, e.Duration)
			}
			if tt.reqBody != "" && e.Request.Body.Data != tt.reqBody {
				t.Errorf("request body = %q, want %q", e.Request.Body.Data, tt.reqBody)
			}
			if tt.respBody != "" && (e.Response.Body.Data != tt.respBody || e.Size != int64(len(tt.respBody))) {
				t.Errorf("response body = %q (size %d), want %q", e.Response.Body.Data, e.Size, tt.respBody)
			}
			if !strings.Contains(e.Failure, tt.failure) || !strings.Contains(e.Hint, tt.hint) || (tt.failure == "") != (e.Failure == "") {
				t.Errorf("failure %q hint %q, want %q and %q", e.Failure, e.Hint, tt.failure, tt.hint)
			}
			if tt.failure == "" && len(e.Response.Headers) == 0 {
				t.Error("no response headers captured")
			}
			// devproxy's own endpoints are never captured.
			p.get(t, "/__devproxy/status")
			for _, e := range p.entries(t) {
				if strings.HasPrefix(e.Path, "/__devproxy") {
					t.Errorf("devproxy's own request captured: %+v", e)
				}
			}
		})
	}
}

// TestInspectorStreamsPassThrough: with capture on, an event stream reaches
// the client event by event, a download streams before the target has
// finished it, and an upload reaches the target before the client has
// finished it; the capture keeps what fits.
func TestInspectorStreamsPassThrough(t *testing.T) {
	const chunk = 256 << 10
	gotFirst := make(chan struct{})
	upFirst := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/events":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: one\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-gotFirst:
			case <-time.After(waitTimeout):
				return
			}
			io.WriteString(w, "data: two\n\n")
		case "/api/download":
			// A type the page shows, so that its first 1 MiB is kept (an
			// octet-stream is counted only: TestOpaqueBodiesNotKept).
			w.Header().Set("Content-Type", "text/csv")
			w.Write(bytes.Repeat([]byte("d"), chunk))
			w.(http.Flusher).Flush()
			select {
			case <-gotFirst:
			case <-time.After(waitTimeout):
				return
			}
			for range 15 {
				w.Write(bytes.Repeat([]byte("d"), chunk))
			}
		case "/api/upload":
			buf := make([]byte, 5)
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				return
			}
			close(upFirst)
			rest, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%d", len(buf)+len(rest))
		}
	}))
	defer be.Close()
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)

	t.Run("event stream", func(t *testing.T) {
		res, err := http.Get(p.url + "/api/events")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		br := bufio.NewReader(res.Body)
		if line, err := br.ReadString('\n'); err != nil || line != "data: one\n" {
			t.Fatalf("first event: %q, %v; want data: one before the target sends the second", line, err)
		}
		if e := p.waitEntry(t, "/api/events", true); !e.Stream || e.Status != 200 {
			t.Errorf("open stream entry: stream %t status %d, want an open stream with 200", e.Stream, e.Status)
		}
		gotFirst <- struct{}{}
		rest, _ := io.ReadAll(br)
		if string(rest) != "\ndata: two\n\n" {
			t.Errorf("rest of the stream: %q", rest)
		}
		if e := p.waitEntry(t, "/api/events", false); e.Response.Body.Data != "data: one\n\ndata: two\n\n" {
			t.Errorf("captured stream = %q", e.Response.Body.Data)
		}
	})
	t.Run("download", func(t *testing.T) {
		res, err := http.Get(p.url + "/api/download")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if _, err := io.ReadFull(res.Body, make([]byte, chunk)); err != nil {
			t.Fatalf("first chunk before the target wrote the rest: %v", err)
		}
		gotFirst <- struct{}{}
		n, _ := io.Copy(io.Discard, res.Body)
		if n+chunk != 16*chunk {
			t.Errorf("downloaded %d bytes, want %d", n+chunk, 16*chunk)
		}
		e := p.waitEntry(t, "/api/download", false)
		if e.Size != 16*chunk || e.Response.Body.Size != 16*chunk || e.Response.Body.Kept != 1<<20 || !e.Response.Body.Truncated {
			t.Errorf("captured download: size %d, body %d bytes of %d truncated %t; want %d, 1 MiB kept and truncated",
				e.Size, e.Response.Body.Kept, e.Response.Body.Size, e.Response.Body.Truncated, 16*chunk)
		}
	})
	t.Run("upload", func(t *testing.T) {
		pr, pw := io.Pipe()
		done := make(chan string, 1)
		go func() {
			req, _ := http.NewRequest("POST", p.url+"/api/upload", pr)
			req.Header.Set("Content-Type", "text/plain")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- err.Error()
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			done <- string(b)
		}()
		io.WriteString(pw, "first")
		select {
		case <-upFirst:
		case <-time.After(waitTimeout):
			t.Fatal("the target did not get the upload's first bytes before the rest was sent")
		}
		io.WriteString(pw, " and the rest")
		pw.Close()
		if got := <-done; got != "18" {
			t.Errorf("upload answer %q, want 18", got)
		}
		if e := p.waitEntry(t, "/api/upload", false); e.Request.Body.Data != "first and the rest" {
			t.Errorf("captured upload = %q", e.Request.Body.Data)
		}
	})
}

func TestInspectorWebSocket(t *testing.T) {
	be := httptest.NewServer(wsEchoHandler(t, "echo: ", nil))
	defer be.Close()
	p := startProxy(t, "routes:\n  /api: "+be.URL+"\n", nil)
	ws, res, err := wsDial(t, p.host, "/api/ws", nil)
	if err != nil || ws == nil {
		t.Fatalf("dial: %v (%v)", err, res)
	}
	if e := p.waitEntry(t, "/api/ws", true); !e.WebSocket || e.Status != 101 {
		t.Errorf("open socket entry: webSocket %t status %d, want 101", e.WebSocket, e.Status)
	}
	for _, msg := range []string{"hello", "again"} {
		if err := ws.send([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if got, err := ws.recv(); err != nil || string(got) != "echo: "+msg {
			t.Fatalf("recv = %q, %v", got, err)
		}
	}
	ws.close()
	e := p.waitEntry(t, "/api/ws", false)
	var got []string
	for _, m := range e.Messages {
		got = append(got, m.Dir+" "+m.Text)
	}
	// The client's close frame may follow.
	want := []string{"send hello", "receive echo: hello", "send again", "receive echo: again"}
	if len(got) < len(want) || fmt.Sprint(got[:len(want)]) != fmt.Sprint(want) {
		t.Errorf("messages = %q, want %q first", got, want)
	}
	if e.Status != 101 || e.Size == 0 || len(e.Response.Headers) == 0 {
		t.Errorf("finished socket: status %d size %d headers %v, want 101 with the bytes both ways and the 101's headers", e.Status, e.Size, e.Response.Headers)
	}
}

// TestInspectorMounted: the page and API answer under /__devproxy/ behind
// the same guards as everything else, and refuse other origins.
func TestInspectorMounted(t *testing.T) {
	p := startProxy(t, "routes:\n  /api/hello:\n    respond: {body: hi}\n", nil)
	tests := []struct {
		name, method, path string
		header             http.Header
		host               string
		want               int
		wantBody           string
	}{
		{name: "page", method: "GET", path: "/__devproxy/", want: 200, wantBody: "devproxy inspector"},
		{name: "page script", method: "GET", path: "/__devproxy/app.js", want: 200},
		{name: "no slash", method: "GET", path: "/__devproxy", want: 302},
		{name: "list", method: "GET", path: "/__devproxy/api/requests", want: 200, wantBody: "["},
		{name: "har", method: "GET", path: "/__devproxy/api/har", want: 200, wantBody: `"version": "1.2"`},
		{name: "status still there", method: "GET", path: "/__devproxy/status", want: 200, wantBody: `"inspector"`},
		{name: "unknown own path", method: "GET", path: "/__devproxy/apiary", want: 404, wantBody: "no such devproxy endpoint"},
		{name: "DNS rebinding", method: "GET", path: "/__devproxy/api/requests", host: "evil.example", want: 403, wantBody: "DNS rebinding"},
		{name: "other origin reads", method: "GET", path: "/__devproxy/api/requests", header: http.Header{"Origin": {"http://evil.example"}}, want: 403, wantBody: "same-origin only"},
		{name: "cross-site replay", method: "POST", path: "/__devproxy/api/requests/1/replay", header: http.Header{"Origin": {"http://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, want: 403, wantBody: "cross-site"},
		{name: "cross-site events", method: "GET", path: "/__devproxy/api/events", header: http.Header{"Sec-Fetch-Site": {"cross-site"}}, want: 403, wantBody: "same-origin only"},
		{name: "cross-site clear", method: "DELETE", path: "/__devproxy/api/requests", header: http.Header{"Origin": {"http://evil.example"}}, want: 403},
	}
	p.get(t, "/api/hello")
	p.waitEntry(t, "/api/hello", false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, p.url+tt.path, nil)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want || !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("%s %s: status %d body %.200q, want %d with %q", tt.method, tt.path, res.StatusCode, b, tt.want, tt.wantBody)
			}
			if res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s %s: sends CORS headers", tt.method, tt.path)
			}
		})
	}
	if list := p.entries(t); len(list) != 1 || list[0].Path != "/api/hello" {
		t.Errorf("entries after the inspector's own requests: %+v, want only /api/hello", list)
	}
	var st struct {
		Inspector struct {
			URL      string `json:"url"`
			Capture  bool   `json:"capture"`
			Requests int    `json:"requests"`
		} `json:"inspector"`
	}
	_, b := p.get(t, "/__devproxy/status")
	json.Unmarshal([]byte(b), &st)
	want := "http://localhost:" + strings.TrimPrefix(p.host, "127.0.0.1:") + "/__devproxy/"
	if st.Inspector.URL != want || !st.Inspector.Capture || st.Inspector.Requests != 1000 {
		t.Errorf("status inspector = %+v, want %s, capture on, 1000", st.Inspector, want)
	}
	p.log.waitFor(t, "➜ inspect "+want+"\n")
}

// TestInspectorReplayUsesCurrentConfig: a replay goes through devproxy as
// a new request, routed by the config of the moment, and is listed.
func TestInspectorReplayUsesCurrentConfig(t *testing.T) {
	got := make(chan string, 10)
	backend := func(name string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- fmt.Sprintf("%s %s %s %s %s", name, r.Method, r.URL.RequestURI(), r.Header.Get("X-Token"), b)
			fmt.Fprint(w, name)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	one, two := backend("one"), backend("two")
	p := startProxy(t, "routes:\n  /api: "+one.URL+"\n", nil)
	p.do(t, "PUT", "/api/items/7?v=1", strings.NewReader("payload"), http.Header{"X-Token": {"t1"}})
	if g := <-got; g != "one PUT /api/items/7?v=1 t1 payload" {
		t.Fatalf("first request reached the target as %q", g)
	}
	first := p.waitEntry(t, "/api/items/7?v=1", false)

	saveByRename(t, p.file, "routes:\n  /api: "+two.URL+"\n")
	if err := p.waitReload(t); err != nil {
		t.Fatal(err)
	}
	var r struct {
		ID     uint64 `json:"id"`
		Status int    `json:"status"`
	}
	if code := p.inspectorAPI(t, "POST", fmt.Sprintf("requests/%d/replay", first.ID), nil, &r); code != 200 || r.Status != 200 {
		t.Fatalf("replay: status %d, result %+v", code, r)
	}
	if g := <-got; g != "two PUT /api/items/7?v=1 t1 payload" {
		t.Errorf("replay reached the target as %q, want the same request at the current target", g)
	}
	var replayed entry
	p.inspectorAPI(t, "GET", fmt.Sprintf("requests/%d", r.ID), nil, &replayed)
	if replayed.ReplayOf != first.ID || replayed.Target != two.URL || replayed.Response.Body.Data != "two" {
		t.Errorf("replayed entry: replayOf %d target %q body %q, want %d, %s, two", replayed.ReplayOf, replayed.Target, replayed.Response.Body.Data, first.ID, two.URL)
	}
	edit := `{"method":"POST","url":"/api/other","body":"edited"}`
	if code := p.inspectorAPI(t, "POST", fmt.Sprintf("requests/%d/replay", first.ID), strings.NewReader(edit), &r); code != 200 {
		t.Fatalf("edit and replay: status %d", code)
	}
	if g := <-got; g != "two POST /api/other t1 edited" {
		t.Errorf("edited replay reached the target as %q", g)
	}
}

// TestInspectorOff: inspect: false and -inspect=false stop the capture,
// the status says so and the banner too; a reload turns it back on and
// changes how many requests are kept.
func TestInspectorOff(t *testing.T) {
	mock := "routes:\n  /api:\n    respond: {body: hi}\n"
	capturing := func(p *testProxy) bool {
		var st struct {
			Inspector struct {
				Capture bool `json:"capture"`
			} `json:"inspector"`
		}
		_, b := p.get(t, "/__devproxy/status")
		json.Unmarshal([]byte(b), &st)
		return st.Inspector.Capture
	}
	t.Run("config", func(t *testing.T) {
		p := startProxy(t, "inspect: false\n"+mock, nil)
		p.log.waitFor(t, "/__devproxy/ (capture off)")
		p.get(t, "/api/a")
		if list := p.entries(t); len(list) != 0 || capturing(p) {
			t.Errorf("inspect: false: %d entries, capture %t; want none, off", len(list), capturing(p))
		}
		saveByRename(t, p.file, "inspect: {requests: 2}\n"+mock)
		if err := p.waitReload(t); err != nil {
			t.Fatal(err)
		}
		p.log.waitFor(t, "inspect on")
		for _, path := range []string{"/api/b", "/api/c", "/api/d"} {
			p.get(t, path)
			p.waitEntry(t, path, false)
		}
		if list := p.entries(t); len(list) != 2 || list[0].Path != "/api/d" || list[1].Path != "/api/c" || !capturing(p) {
			t.Errorf("after inspect: {requests: 2}: %+v, want /api/d and /api/c", list)
		}
		saveByRename(t, p.file, "inspect: false\n"+mock)
		if err := p.waitReload(t); err != nil {
			t.Fatal(err)
		}
		p.log.waitFor(t, "inspect off")
		p.get(t, "/api/e")
		if list := p.entries(t); len(list) != 2 || list[0].Path != "/api/d" || capturing(p) {
			t.Errorf("inspect: false again: %+v, want the two kept before, no /api/e", list)
		}
	})
	t.Run("flag", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "devproxy.yaml")
		if err := os.WriteFile(file, []byte(mock), 0o644); err != nil {
			t.Fatal(err)
		}
		p := startProxyOpts(t, file, func(o *Options) { o.NoInspect = true })
		p.get(t, "/api/a")
		if list := p.entries(t); len(list) != 0 || capturing(p) {
			t.Errorf("NoInspect: %d entries, capture %t; want none, off", len(list), capturing(p))
		}
	})
}

// TestInspectorCapturesBodiesWhole: a proxied body reaches the client
// byte for byte and the inspector keeps its first MiB, whether the proxy
// read it into the capture's own room (a body with a length) or into a
// buffer of its own (no length), in one piece or in several.
func TestInspectorCapturesBodiesWhole(t *testing.T) {
	body := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + (i*7+i/13)%26)
		}
		return string(b)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		parts, _ := strconv.Atoi(r.URL.Query().Get("parts"))
		b := body(n)
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Query().Get("length") != "no" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		for i := range parts {
			io.WriteString(w, b[i*n/parts:(i+1)*n/parts])
			w.(http.Flusher).Flush()
		}
	}))
	defer api.Close()
	p := startProxy(t, "frontend: "+api.URL+"\nroutes:\n  /api: "+api.URL+"\n", nil)
	for _, tc := range []struct {
		n, parts int
		length   bool
	}{
		{100, 1, true},
		{10 << 10, 1, true},
		{10 << 10, 4, true},
		{70 << 10, 3, true}, // past the room allocated with the header
		{3 << 20, 5, true},  // past the 1 MiB the inspector keeps
		{50 << 10, 4, false},
	} {
		path := fmt.Sprintf("/api/b?n=%d&parts=%d&length=%s", tc.n, tc.parts, map[bool]string{true: "yes", false: "no"}[tc.length])
		t.Run(path, func(t *testing.T) {
			res, got := p.get(t, path)
			want := body(tc.n)
			if res.StatusCode != 200 || got != want {
				t.Fatalf("GET %s: %d, %d bytes (same: %t), want 200 and the %d bytes sent", path, res.StatusCode, len(got), got == want, tc.n)
			}
			// The exchange ends once the response is written, which may
			// be after the client has read it: waitEntry waits for that.
			e := p.waitEntry(t, path, false)
			kept := min(tc.n, 1<<20)
			b := e.Response.Body
			if b.Size != int64(tc.n) || b.Kept != kept || b.Data != want[:kept] || b.Truncated != (kept < tc.n) {
				t.Errorf("captured: size %d, kept %d, truncated %t, the body's first bytes: %t; want size %d, kept %d, truncated %t, the same bytes",
					b.Size, b.Kept, b.Truncated, b.Data == want[:min(len(b.Data), kept)], tc.n, kept, kept < tc.n)
			}
		})
	}
}
