package inspect

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The HAR 1.2 format (http://www.softwareishard.com/blog/har-12-spec/),
// with devproxy's own fields under "_devproxy" and WebSocket messages as
// Chromium writes them ("_webSocketMessages").

type harFile struct {
	Log harLog `json:"log"`
}

type harLog struct {
	Version string     `json:"version"`
	Creator harCreator `json:"creator"`
	Entries []harEntry `json:"entries"`
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harEntry struct {
	StartedDateTime string         `json:"startedDateTime"`
	Time            float64        `json:"time"`
	Request         harRequest     `json:"request"`
	Response        harResponse    `json:"response"`
	Cache           struct{}       `json:"cache"`
	Timings         harTimings     `json:"timings"`
	Devproxy        *harDevproxy   `json:"_devproxy,omitempty"`
	WebSocket       []harWSMessage `json:"_webSocketMessages,omitempty"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harCookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path,omitempty"`
	Domain   string `json:"domain,omitempty"`
	HTTPOnly bool   `json:"httpOnly,omitempty"`
	Secure   bool   `json:"secure,omitempty"`
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []harCookie  `json:"cookies"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	PostData    *harPostData `json:"postData,omitempty"`
	HeadersSize int64        `json:"headersSize"`
	BodySize    int64        `json:"bodySize"`
}

type harPostData struct {
	MimeType string  `json:"mimeType"`
	Params   []harNV `json:"params"`
	Text     string  `json:"text"`
	Encoding string  `json:"_encoding,omitempty"` // "base64" for a binary body
}

type harResponse struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []harCookie `json:"cookies"`
	Headers     []harNV     `json:"headers"`
	Content     harContent  `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int64       `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
}

type harContent struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

type harTimings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	SSL     float64 `json:"ssl"`
}

type harDevproxy struct {
	ID            uint64 `json:"id"`
	Kind          Kind   `json:"kind"`
	Route         string `json:"route,omitempty"`
	Target        string `json:"target,omitempty"`
	Via           string `json:"via,omitempty"`
	Failure       string `json:"failure,omitempty"`
	Hint          string `json:"hint,omitempty"`
	Error         string `json:"error,omitempty"`
	ReplayOf      uint64 `json:"replayOf,omitempty"`
	RequestBytes  int64  `json:"requestBodyBytes"`
	RequestCut    bool   `json:"requestBodyTruncated,omitempty"`
	ResponseBytes int64  `json:"responseBodyBytes"`
	ResponseCut   bool   `json:"responseBodyTruncated,omitempty"`
	// ResponseNotKept marks a binary response body that was counted, not
	// kept (Body.NotKept).
	ResponseNotKept bool `json:"responseBodyNotKept,omitempty"`
}

type harWSMessage struct {
	Type   string  `json:"type"`
	Time   float64 `json:"time"` // seconds since the epoch
	Opcode byte    `json:"opcode"`
	Data   string  `json:"data"`
}

// secretHeaders are masked in a HAR unless asked for: a HAR is made to be
// attached to bug reports.
var secretHeaders = map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true}

const masked = "[masked]"

func harHeaders(h http.Header, secrets bool) []harNV {
	out := []harNV{}
	for _, kv := range sortedHeaders(h) {
		if !secrets && secretHeaders[kv[0]] {
			kv[1] = masked
		}
		out = append(out, harNV{kv[0], kv[1]})
	}
	return out
}

func harCookies(cs []*http.Cookie, secrets bool) []harCookie {
	out := []harCookie{}
	for _, c := range cs {
		v := c.Value
		if !secrets {
			v = masked
		}
		out = append(out, harCookie{Name: c.Name, Value: v, Path: c.Path, Domain: c.Domain, HTTPOnly: c.HttpOnly, Secure: c.Secure})
	}
	return out
}

func httpVersion(proto string) string {
	if proto == "" {
		return "HTTP/1.1"
	}
	return proto
}

func buildHAR(views []View, version string, secrets bool) harFile {
	f := harFile{Log: harLog{Version: "1.2", Creator: harCreator{Name: "devproxy", Version: version}, Entries: []harEntry{}}}
	for i := range views {
		f.Log.Entries = append(f.Log.Entries, harEntryOf(&views[i], secrets))
	}
	return f
}

func harEntryOf(v *View, secrets bool) harEntry {
	reqHdr := v.RequestHeader
	if reqHdr == nil {
		reqHdr = http.Header{}
	}
	respHdr := v.ResponseHeader
	if respHdr == nil {
		respHdr = http.Header{}
	}
	e := harEntry{
		StartedDateTime: v.Start.UTC().Format(time.RFC3339Nano),
		Request: harRequest{
			Method: v.Method, URL: v.URL, HTTPVersion: httpVersion(v.Proto),
			Cookies:     harCookies((&http.Request{Header: reqHdr}).Cookies(), secrets),
			Headers:     harHeaders(reqHdr, secrets),
			QueryString: []harNV{},
			HeadersSize: -1, BodySize: v.RequestBody.Size,
		},
		Response: harResponse{
			Status: v.Status, StatusText: http.StatusText(v.Status), HTTPVersion: httpVersion(v.Proto),
			Cookies:     harCookies((&http.Response{Header: respHdr}).Cookies(), secrets),
			Headers:     harHeaders(respHdr, secrets),
			RedirectURL: respHdr.Get("Location"), HeadersSize: -1, BodySize: v.Size,
		},
		Timings: harTimings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1},
		Devproxy: &harDevproxy{
			ID: v.ID, Kind: v.Where.Kind, Route: v.Where.Route, Target: v.Where.Target, Via: v.Where.Via,
			Failure: v.Failure, Hint: v.Hint, Error: v.Error, ReplayOf: v.ReplayOf,
			RequestBytes: v.RequestBody.Size, RequestCut: v.RequestBody.Truncated,
			ResponseBytes: v.ResponseBody.Size, ResponseCut: v.ResponseBody.Truncated,
			ResponseNotKept: v.ResponseBody.NotKept,
		},
	}
	for _, kv := range parseQuery(v.URL) {
		e.Request.QueryString = append(e.Request.QueryString, harNV{kv[0], kv[1]})
	}
	if v.RequestBody.Size > 0 {
		pd := &harPostData{MimeType: reqHdr.Get("Content-Type"), Params: []harNV{}}
		if isText(pd.MimeType, v.RequestBody.Data) {
			pd.Text = string(v.RequestBody.Data)
		} else {
			pd.Text, pd.Encoding = base64.StdEncoding.EncodeToString(v.RequestBody.Data), "base64"
		}
		e.Request.PostData = pd
	}
	data, _ := decodedBody(v.ResponseBody, respHdr)
	e.Response.Content = harContent{Size: int64(len(data)), MimeType: respHdr.Get("Content-Type")}
	if !v.ResponseBody.Truncated {
		e.Response.Content.Size = max(e.Response.Content.Size, v.ResponseBody.Size)
	} else {
		e.Response.Content.Size = v.ResponseBody.Size
	}
	if v.ResponseBody.NotKept {
		e.Response.Content.Comment = "binary, " + strconv.FormatInt(v.ResponseBody.Size, 10) + " bytes, not kept"
	}
	if len(data) > 0 {
		if isText(e.Response.Content.MimeType, data) {
			e.Response.Content.Text = string(data)
		} else {
			e.Response.Content.Text, e.Response.Content.Encoding = base64.StdEncoding.EncodeToString(data), "base64"
		}
	}
	if !v.FirstByte.IsZero() {
		e.Timings.Wait = ms(v.FirstByte.Sub(v.Start))
	}
	if !v.End.IsZero() {
		e.Time = ms(v.End.Sub(v.Start))
		e.Timings.Receive = max(e.Time-e.Timings.Wait, 0)
	}
	for _, m := range v.Messages {
		data := string(m.Payload)
		if m.Opcode == 2 || !utf8.Valid(m.Payload) {
			data = base64.StdEncoding.EncodeToString(m.Payload)
		}
		e.WebSocket = append(e.WebSocket, harWSMessage{
			Type: m.Dir.String(), Time: float64(m.Time.UnixMicro()) / 1e6, Opcode: m.Opcode, Data: data,
		})
	}
	return e
}

// importHAR adds the entries of a HAR file to the store, marked as
// imported, to site's exchanges ("" the top-level one's), and returns
// how many.
func importHAR(s *Store, b []byte, site string) (int, error) {
	var f harFile
	if err := json.Unmarshal(b, &f); err != nil {
		return 0, fmt.Errorf("not HAR JSON: %v", err)
	}
	if f.Log.Version == "" && f.Log.Entries == nil {
		return 0, fmt.Errorf(`no "log" object with "entries"`)
	}
	exs := make([]*Exchange, 0, len(f.Log.Entries))
	for i, e := range f.Log.Entries {
		ex, err := exchangeOf(s, &e)
		if err != nil {
			return 0, fmt.Errorf("log.entries[%d]: %v", i, err)
		}
		ex.Where.Site, ex.site = site, site
		exs = append(exs, ex)
	}
	for i, ex := range exs {
		req, resp := ex.reqBody.Data, ex.respBody.Data
		ex.reqBody, ex.respBody = Body{}, Body{}
		s.add(ex)
		ex.keep(&ex.reqBody, req)
		ex.keep(&ex.respBody, resp)
		if d := f.Log.Entries[i].Devproxy; d != nil && d.ResponseNotKept {
			ex.respBody.NotKept, ex.respBody.Size = true, d.ResponseBytes
		}
		s.publish(eventDone, ex.ID)
	}
	return len(exs), nil
}

// exchangeOf turns a HAR entry into a finished exchange whose bodies are
// still to be kept (their Data is the decoded body, Size 0).
func exchangeOf(s *Store, e *harEntry) (*Exchange, error) {
	start, err := time.Parse(time.RFC3339Nano, e.StartedDateTime)
	if err != nil {
		return nil, fmt.Errorf("startedDateTime %q is not an ISO 8601 time", e.StartedDateTime)
	}
	if e.Request.Method == "" || e.Request.URL == "" {
		return nil, fmt.Errorf("request has no method or url")
	}
	ex := &Exchange{
		store: s, Start: start, Method: e.Request.Method, uri: e.Request.URL, Proto: e.Request.HTTPVersion,
		Imported: true, status: e.Response.Status,
	}
	reqHdr, respHdr := http.Header{}, http.Header{}
	for _, h := range e.Request.Headers {
		reqHdr.Add(h.Name, h.Value)
	}
	for _, h := range e.Response.Headers {
		respHdr.Add(h.Name, h.Value)
	}
	if e.Devproxy != nil {
		ex.Where = Where{Kind: e.Devproxy.Kind, Route: e.Devproxy.Route, Target: e.Devproxy.Target, Via: e.Devproxy.Via}
		ex.failure, ex.hint, ex.errText = e.Devproxy.Failure, e.Devproxy.Hint, e.Devproxy.Error
	}
	if pd := e.Request.PostData; pd != nil {
		data := []byte(pd.Text)
		if pd.Encoding == "base64" {
			if data, err = base64.StdEncoding.DecodeString(pd.Text); err != nil {
				return nil, fmt.Errorf("request.postData.text: not base64: %v", err)
			}
		}
		ex.reqBody.Data = data
		if pd.MimeType != "" && reqHdr.Get("Content-Type") == "" {
			reqHdr.Set("Content-Type", pd.MimeType)
		}
	}
	c := e.Response.Content
	data := []byte(c.Text)
	if strings.EqualFold(c.Encoding, "base64") {
		if data, err = base64.StdEncoding.DecodeString(c.Text); err != nil {
			return nil, fmt.Errorf("response.content.text: not base64: %v", err)
		}
	}
	// The content is kept decoded: the page shows it as it is.
	respHdr.Del("Content-Encoding")
	if mt, _, _ := mime.ParseMediaType(c.MimeType); mt != "" && respHdr.Get("Content-Type") == "" {
		respHdr.Set("Content-Type", c.MimeType)
	}
	ex.reqHdr, ex.respHdr = reqHdr, flatten(respHdr)
	ex.respBody.Data = data
	ex.first = start.Add(time.Duration(max(e.Timings.Wait, 0) * float64(time.Millisecond)))
	ex.end = start.Add(time.Duration(max(e.Time, 0) * float64(time.Millisecond)))
	ex.size = max(e.Response.BodySize, int64(len(data)))
	for _, m := range e.WebSocket {
		dir := ToClient
		if m.Type == "send" {
			dir = ToServer
		}
		p := []byte(m.Data)
		if len(ex.ws) >= s.opts.MaxWSMessages {
			continue
		}
		ex.ws = append(ex.ws, WSMessage{Time: time.UnixMicro(int64(m.Time * 1e6)), Dir: dir, Opcode: m.Opcode, Size: len(p), Payload: p[:min(len(p), wsPreview)]})
		ex.wsCount++
	}
	return ex, nil
}
