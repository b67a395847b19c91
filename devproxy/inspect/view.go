package inspect

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// summary is one line of the list, as the API sends it.
type summary struct {
	ID          uint64  `json:"id"`
	Start       string  `json:"start"`
	Method      string  `json:"method"`
	URL         string  `json:"url"`
	Path        string  `json:"path"`
	Proto       string  `json:"proto"`
	Kind        Kind    `json:"kind"`
	Route       string  `json:"route,omitempty"`
	Target      string  `json:"target,omitempty"`
	Via         string  `json:"via,omitempty"`
	Site        string  `json:"site,omitempty"` // the named site; "" for the top-level one
	Status      int     `json:"status"`
	Size        int64   `json:"size"`
	TTFB        float64 `json:"ttfbMs"`     // -1 before the response header
	Duration    float64 `json:"durationMs"` // -1 while open
	Open        bool    `json:"open"`
	WebSocket   bool    `json:"webSocket,omitempty"`
	Stream      bool    `json:"stream,omitempty"`
	Failure     string  `json:"failure,omitempty"`
	Hint        string  `json:"hint,omitempty"`
	Error       string  `json:"error,omitempty"`
	ReplayOf    uint64  `json:"replayOf,omitempty"`
	Imported    bool    `json:"imported,omitempty"`
	ContentType string  `json:"contentType,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(v *View) summary {
	s := summary{
		ID: v.ID, Start: v.Start.UTC().Format(time.RFC3339Nano), Method: v.Method, URL: v.URL,
		Proto: v.Proto, Kind: v.Where.Kind, Route: v.Where.Route, Target: v.Where.Target, Via: v.Where.Via, Site: v.Where.Site,
		Status: v.Status, Size: v.Size, TTFB: -1, Duration: -1, Open: v.Open(),
		WebSocket: v.WebSocket, Stream: v.Stream, Failure: v.Failure, Hint: v.Hint, Error: v.Error,
		ReplayOf: v.ReplayOf, Imported: v.Imported,
	}
	if u, err := url.Parse(v.URL); err == nil {
		s.Path = u.RequestURI()
	}
	if !v.FirstByte.IsZero() {
		s.TTFB = ms(v.FirstByte.Sub(v.Start))
	}
	if !v.End.IsZero() {
		s.Duration = ms(v.End.Sub(v.Start))
	}
	if v.Open() && v.Size == 0 {
		s.Size = v.ResponseBody.Size
	}
	if v.ResponseHeader != nil {
		s.ContentType = v.ResponseHeader.Get("Content-Type")
	}
	return s
}

// filter selects exchanges by the list's query parameters: q (text in
// method, URL, status, target, failure), route (a route prefix), status (a
// class: 2xx … 5xx, or "failed"), kind (names, comma-separated).
type filter struct {
	text   string
	route  string
	status string
	kinds  []Kind
}

func parseFilter(q url.Values) filter {
	f := filter{text: strings.ToLower(q.Get("q")), route: q.Get("route"), status: q.Get("status")}
	for k := range strings.SplitSeq(q.Get("kind"), ",") {
		if kind, ok := parseKind(strings.TrimSpace(k)); ok {
			f.kinds = append(f.kinds, kind)
		}
	}
	return f
}

func (f *filter) match(s *summary) bool {
	if f.route != "" && s.Route != f.route {
		return false
	}
	if len(f.kinds) > 0 && !slices.Contains(f.kinds, s.Kind) {
		return false
	}
	switch f.status {
	case "":
	case "failed":
		if s.Failure == "" && s.Error == "" {
			return false
		}
	default:
		if len(f.status) != 3 || f.status[1:] != "xx" || s.Status/100 != int(f.status[0]-'0') {
			return false
		}
	}
	if f.text != "" {
		hay := strings.ToLower(s.Method + " " + s.URL + " " + strconv.Itoa(s.Status) + " " + s.Target + " " + s.Via + " " + s.Failure)
		if !strings.Contains(hay, f.text) {
			return false
		}
	}
	return true
}

// detail is one exchange with everything kept of it.
type detail struct {
	summary
	Request      messageJSON `json:"request"`
	Response     messageJSON `json:"response"`
	Messages     []wsJSON    `json:"messages,omitempty"`
	MessagesSeen int         `json:"messagesSeen,omitempty"`
}

type messageJSON struct {
	Headers [][2]string `json:"headers"`
	Query   [][2]string `json:"query,omitempty"`
	Body    bodyJSON    `json:"body"`
}

// bodyJSON is a body for the page: text as it is, anything else base64.
type bodyJSON struct {
	Size        int64  `json:"size"`
	Kept        int    `json:"kept"`
	Truncated   bool   `json:"truncated,omitempty"`
	NotKept     bool   `json:"notKept,omitempty"` // binary: counted, not kept
	ContentType string `json:"contentType,omitempty"`
	Encoding    string `json:"encoding,omitempty"` // "base64" or "" for text
	Decoded     string `json:"decoded,omitempty"`  // "gzip" when shown decompressed
	Data        string `json:"data"`
}

type wsJSON struct {
	Time     string    `json:"time"`
	Dir      Direction `json:"dir"`
	Opcode   byte      `json:"opcode"`
	Size     int       `json:"size"`
	Text     string    `json:"text,omitempty"`
	Hex      string    `json:"hex,omitempty"`
	Previewd bool      `json:"truncated,omitempty"`
}

// sortedHeaders lists h by name, values in order.
func sortedHeaders(h http.Header) [][2]string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([][2]string, 0, len(h))
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func detailOf(v *View) detail {
	d := detail{summary: summarize(v), MessagesSeen: v.MessagesSeen}
	d.Request = messageJSON{Headers: sortedHeaders(v.RequestHeader), Query: parseQuery(v.URL), Body: bodyOf(v.RequestBody, v.RequestHeader)}
	d.Response = messageJSON{Headers: sortedHeaders(v.ResponseHeader), Body: bodyOf(v.ResponseBody, v.ResponseHeader)}
	for _, m := range v.Messages {
		w := wsJSON{Time: m.Time.UTC().Format(time.RFC3339Nano), Dir: m.Dir, Opcode: m.Opcode, Size: m.Size, Previewd: len(m.Payload) < m.Size}
		if m.Opcode == 1 || (m.Opcode != 2 && utf8.Valid(m.Payload)) {
			w.Text = strings.ToValidUTF8(string(m.Payload), "\uFFFD")
		} else {
			w.Hex = hexPreview(m.Payload)
		}
		d.Messages = append(d.Messages, w)
	}
	return d
}

func hexPreview(p []byte) string {
	const max = 256
	var b strings.Builder
	for i, c := range p[:min(len(p), max)] {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(uint64(c)>>4, 16) + strconv.FormatUint(uint64(c)&15, 16))
	}
	if len(p) > max {
		b.WriteString(" …")
	}
	return b.String()
}

// decodedBody returns the body's bytes as the page should show them: a
// whole gzip body decompressed.
func decodedBody(b Body, h http.Header) ([]byte, string) {
	if strings.EqualFold(h.Get("Content-Encoding"), "gzip") && !b.Truncated && len(b.Data) > 0 {
		if zr, err := gzip.NewReader(bytes.NewReader(b.Data)); err == nil {
			if out, err := io.ReadAll(io.LimitReader(zr, 4*DefaultMaxBody)); err == nil {
				return out, "gzip"
			}
		}
	}
	return b.Data, ""
}

func bodyOf(b Body, h http.Header) bodyJSON {
	data, dec := decodedBody(b, h)
	out := bodyJSON{Size: b.Size, Kept: len(b.Data), Truncated: b.Truncated, NotKept: b.NotKept, ContentType: h.Get("Content-Type"), Decoded: dec}
	if isText(out.ContentType, data) {
		out.Data = string(data)
	} else {
		out.Encoding, out.Data = "base64", base64.StdEncoding.EncodeToString(data)
	}
	return out
}

// isText reports whether a body of that type is shown as text.
func isText(contentType string, data []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "json"), strings.HasSuffix(mt, "+json"),
		strings.HasSuffix(mt, "xml"), mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return utf8.Valid(data) || len(data) == 0
	case strings.HasPrefix(mt, "image/"), opaqueType(mt):
		return false
	}
	return utf8.Valid(data)
}
