package inspect

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/wsframe"
)

// harSchema is the HAR 1.2 structure: for each object, its required
// fields and their JSON types, and the objects and arrays inside it.
// "?" marks an optional field.
type harShape map[string]any

func harSpec() harShape {
	nv := harShape{"name": "string", "value": "string"}
	cookie := harShape{"name": "string", "value": "string", "path?": "string", "domain?": "string",
		"expires?": "string", "httpOnly?": "boolean", "secure?": "boolean", "comment?": "string"}
	return harShape{"log": harShape{
		"version":  "string",
		"creator":  harShape{"name": "string", "version": "string", "comment?": "string"},
		"browser?": harShape{"name": "string", "version": "string"},
		"pages?":   []any{harShape{"startedDateTime": "datetime", "id": "string", "title": "string", "pageTimings": harShape{}}},
		"entries": []any{harShape{
			"pageref?":        "string",
			"startedDateTime": "datetime",
			"time":            "number",
			"request": harShape{
				"method": "string", "url": "string", "httpVersion": "string",
				"cookies": []any{cookie}, "headers": []any{nv}, "queryString": []any{nv},
				"postData?":   harShape{"mimeType": "string", "params?": []any{harShape{"name": "string", "value?": "string", "fileName?": "string", "contentType?": "string"}}, "text?": "string"},
				"headersSize": "number", "bodySize": "number",
			},
			"response": harShape{
				"status": "number", "statusText": "string", "httpVersion": "string",
				"cookies": []any{cookie}, "headers": []any{nv},
				"content":     harShape{"size": "number", "compression?": "number", "mimeType": "string", "text?": "string", "encoding?": "string", "comment?": "string"},
				"redirectURL": "string", "headersSize": "number", "bodySize": "number",
			},
			"cache": harShape{},
			"timings": harShape{"blocked?": "number", "dns?": "number", "connect?": "number",
				"send": "number", "wait": "number", "receive": "number", "ssl?": "number"},
			"serverIPAddress?": "string",
			"connection?":      "string",
		}},
	}}
}

// checkHAR walks v against the shape and returns every problem, by path.
func checkHAR(path string, shape, v any) []string {
	var errs []string
	switch s := shape.(type) {
	case harShape:
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an object", path, v)}
		}
		for k, sub := range s {
			name, optional := strings.CutSuffix(k, "?")
			got, ok := obj[name]
			if !ok {
				if !optional {
					errs = append(errs, path+"."+name+": missing")
				}
				continue
			}
			errs = append(errs, checkHAR(path+"."+name, sub, got)...)
		}
	case []any:
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an array", path, v)}
		}
		for i, x := range arr {
			errs = append(errs, checkHAR(fmt.Sprintf("%s[%d]", path, i), s[0], x)...)
		}
	case string:
		ok := false
		switch s {
		case "string":
			_, ok = v.(string)
		case "number":
			_, ok = v.(float64)
		case "boolean":
			_, ok = v.(bool)
		case "datetime":
			str, isStr := v.(string)
			_, err := time.Parse(time.RFC3339Nano, str)
			ok = isStr && err == nil
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: %v (%T), want a %s", path, v, v, s))
		}
	}
	return errs
}

func TestCheckHARFindsProblems(t *testing.T) {
	bad := `{"log":{"version":"1.2","creator":{"name":"x"},"entries":[{"startedDateTime":"yesterday","time":"1"}]}}`
	var v any
	_ = json.Unmarshal([]byte(bad), &v)
	errs := strings.Join(checkHAR("", harSpec(), v), "\n")
	for _, want := range []string{".log.creator.version: missing", ".log.entries[0].startedDateTime: yesterday", ".log.entries[0].time: 1 (string)", ".log.entries[0].request: missing"} {
		if !strings.Contains(errs, want) {
			t.Errorf("problems %s\nwant %q among them", errs, want)
		}
	}
}

// TestHARExport captures every kind, exports HAR, checks it against the
// HAR 1.2 structure, the masking of secrets, and imports it again.
func TestHARExport(t *testing.T) {
	c := startCore(t, coreOptions{})
	c.do(t, "POST", "/api/items?a=1", header("Content-Type", "application/json", "Authorization", "Bearer t0ken", "Cookie", "sid=c00kie"), `{"x":1}`)
	c.do(t, "GET", "/api/image", nil, "")
	c.do(t, "GET", "/mock/m", nil, "")
	c.do(t, "GET", "/down/d", nil, "")
	ws := c.dialWS(t, "/ws")
	_ = ws.send(wsframe.OpText, []byte("ping me"))
	_, _ = ws.recv()
	ws.Close()
	for _, p := range []string{"/api/items?a=1", "/api/image", "/mock/m", "/down/d", "/ws"} {
		c.waitDone(t, p)
	}

	get := func(query string) (*http.Response, string, map[string]any) {
		res, body := c.do(t, "GET", DefaultPrefix+"/api/har"+query, nil, "")
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("GET api/har%s: %v", query, err)
		}
		return res, body, v
	}
	res, body, v := get("")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), ".har") {
		t.Errorf("GET api/har: status %d Content-Disposition %q", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
	for _, p := range checkHAR("", harSpec(), v) {
		t.Errorf("HAR: %s", p)
	}
	var har harFile
	if err := json.Unmarshal([]byte(body), &har); err != nil {
		t.Fatal(err)
	}
	if har.Log.Version != "1.2" || len(har.Log.Entries) != 5 || har.Log.Creator.Name != "devproxy" {
		t.Fatalf("HAR: version %q, %d entries, creator %q; want 1.2, 5, devproxy", har.Log.Version, len(har.Log.Entries), har.Log.Creator.Name)
	}
	post := har.Log.Entries[0]
	if post.Request.Method != "POST" || post.Request.PostData == nil || post.Request.PostData.Text != `{"x":1}` || len(post.Request.QueryString) != 1 {
		t.Errorf("first entry: %s, postData %+v, query %v", post.Request.Method, post.Request.PostData, post.Request.QueryString)
	}
	if !strings.Contains(post.Response.Content.Text, `"name":"first"`) || post.Response.Status != 200 || post.Time <= 0 {
		t.Errorf("first entry response: %d %q time %v", post.Response.Status, post.Response.Content.Text, post.Time)
	}
	if strings.Contains(body, "t0ken") || strings.Contains(body, "c00kie") || strings.Contains(body, "s3cret") {
		t.Errorf("HAR without ?secrets=1 holds a secret")
	}
	if img := har.Log.Entries[1].Response.Content; img.Encoding != "base64" || img.MimeType != "image/png" {
		t.Errorf("image content: encoding %q mimeType %q", img.Encoding, img.MimeType)
	}
	if d := har.Log.Entries[3].Devproxy; d == nil || !strings.Contains(d.Failure, "did not answer") || d.Hint == "" {
		t.Errorf("failure entry: _devproxy %+v", d)
	}
	if m := har.Log.Entries[4].WebSocket; len(m) < 2 || m[0].Type != "send" || m[0].Data != "ping me" || m[1].Type != "receive" {
		t.Errorf("websocket entry: messages %+v", m)
	}

	_, body, _ = get("?secrets=1")
	for _, s := range []string{"Bearer t0ken", "sid=c00kie", "s3cret"} {
		if !strings.Contains(body, s) {
			t.Errorf("HAR with ?secrets=1: %q missing", s)
		}
	}
	_, _, v = get("?kind=mock")
	if n := len(v["log"].(map[string]any)["entries"].([]any)); n != 1 {
		t.Errorf("HAR ?kind=mock: %d entries, want 1", n)
	}

	// Import into another inspector.
	other := startCore(t, coreOptions{})
	res, out := other.do(t, "POST", DefaultPrefix+"/api/har", header("Content-Type", "application/json"), body)
	if res.StatusCode != 200 || !strings.Contains(out, `"imported":5`) {
		t.Fatalf("POST api/har: %d %s", res.StatusCode, out)
	}
	list := getJSON[[]summary](t, other, "/api/requests?kind=route,mock")
	if len(list) != 5 || !list[0].Imported || list[4].Path != "/api/items?a=1" || list[4].Status != 200 {
		t.Fatalf("after import: %+v", list)
	}
	d := getJSON[detail](t, other, fmt.Sprintf("/api/requests/%d", list[4].ID))
	if d.Request.Body.Data != `{"x":1}` || !strings.Contains(d.Response.Body.Data, `"name":"first"`) || findHeader(d.Request.Headers, "Authorization") != "Bearer t0ken" {
		t.Errorf("imported entry: request body %q, response %q, Authorization %q", d.Request.Body.Data, d.Response.Body.Data, findHeader(d.Request.Headers, "Authorization"))
	}
	for _, bad := range []struct{ body, want string }{
		{`not json`, "not HAR JSON"},
		{`{"log":{"version":"1.2","entries":[{"startedDateTime":"x","request":{"method":"GET","url":"/"}}]}}`, "log.entries[0]: startedDateTime"},
		{`{}`, `object with`},
	} {
		res, out := other.do(t, "POST", DefaultPrefix+"/api/har", nil, bad.body)
		if res.StatusCode != 400 || !strings.Contains(out, bad.want) {
			t.Errorf("POST api/har %s: %d %s, want 400 with %q", bad.body, res.StatusCode, out, bad.want)
		}
	}
}
