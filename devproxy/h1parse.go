package devproxy

import (
	"bufio"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// parseRequestHead parses the header block of a GET or HEAD as
// http.ReadRequest does, in a few allocations instead of one per field:
// the block becomes one string and the values, and the names sent in
// canonical form, are slices of it. ok is false for anything it does not
// handle the way ReadRequest would (a bare LF, a folded line, a name that
// is no token, a second Host, a body, ...); the caller then asks
// ReadRequest, whose answer stands. TestParseRequestHeadMatchesReadRequest
// holds the two to the same result.
func parseRequestHead(head []byte) (req *http.Request, ok bool) {
	s := string(head)
	line, rest, found := cutLine(s)
	if !found {
		return nil, false
	}
	method, target, _ := strings.Cut(line, " ")
	uri, proto, _ := strings.Cut(target, " ")
	if method != http.MethodGet && method != http.MethodHead || proto != "HTTP/1.1" || !strings.HasPrefix(uri, "/") {
		return nil, false
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, false
	}
	h, host, hosts, ok := parseFields(rest, true)
	if !ok || hosts != 1 {
		return nil, false
	}
	for _, k := range [...]string{"Content-Length", "Transfer-Encoding", "Trailer", "Expect", "Upgrade", "Http2-Settings"} {
		if _, has := h[k]; has {
			return nil, false
		}
	}
	return &http.Request{
		Method: method, URL: u, RequestURI: uri,
		Proto: proto, ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: http.NoBody, Host: host,
		Close: hasToken(h["Connection"], "close"),
	}, true
}

// parseFields parses the header lines of a block, up to the empty line
// that must end it, as textproto's ReadMIMEHeader does: ok is false for
// what it would refuse or read differently. With request set, Host is
// taken out of the header and counted, as ReadRequest and the server do.
func parseFields(rest string, request bool) (h http.Header, host string, hosts int, ok bool) {
	// One line per field and the empty one; a request's Host is not kept.
	// The exact size keeps a map of up to eight fields in one group (a
	// target's response, mostly) instead of a table.
	n := strings.Count(rest, "\n") - 1
	size := n
	if request {
		size--
	}
	f := fieldParse{h: make(http.Header, max(size, 0)), vals: make([]string, 0, max(n, 0))}
	// A name seldom comes twice (a browser's request never): each field
	// is stored without looking for an earlier one first, and a block
	// whose map then has fewer names than it had fields is parsed again,
	// appending the values of a name that comes again.
	ok = f.lines(rest, request, false)
	if ok && len(f.h) != f.fields {
		clear(f.h)
		f = fieldParse{h: f.h, vals: f.vals[:0]}
		ok = f.lines(rest, request, true)
	}
	if !ok {
		return nil, "", 0, false
	}
	h = f.h
	if p := h["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
		// as net/http does (RFC 7234, 5.4)
		if _, cc := h["Cache-Control"]; !cc {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
	return h, f.host, f.hosts, true
}

// fieldParse is what parseFields gathers from a block's lines: the header
// (its single values in one backing array), a request's Host and how many
// there were, and how many other fields were stored.
type fieldParse struct {
	h      http.Header
	vals   []string
	host   string
	hosts  int
	fields int
}

// lines puts the header lines of rest into f.h. With again set, the
// values of a name that comes again are appended to the earlier ones;
// else they replace them, and f.fields tells the caller.
func (f *fieldParse) lines(rest string, request, again bool) bool {
	for {
		line, after, found := cutLine(rest)
		if !found {
			return false
		}
		rest = after
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return false
		}
		name, value, found := strings.Cut(line, ":")
		if !found {
			return false
		}
		key, valid := headerKey(name)
		if !valid {
			return false
		}
		value = trimOWS(value)
		if !plainValue(value) {
			return false
		}
		if request && key == "Host" {
			f.host, f.hosts = value, f.hosts+1
			continue
		}
		f.fields++
		if again {
			if vv, seen := f.h[key]; seen {
				f.h[key] = append(vv, value)
				continue
			}
		}
		f.vals = append(f.vals, value)
		v := f.vals
		f.h[key] = v[len(v)-1 : len(v) : len(v)]
	}
	return rest == ""
}

// cutLine cuts s after its first line, which must end in CRLF: found is
// false at a bare LF, which parseFields refuses anyway, since no token or
// field value holds one. It finds the LF with IndexByte: strings.Cut's
// search for the two bytes was a sixth of parseRequestHead's time.
func cutLine(s string) (line, rest string, found bool) {
	i := strings.IndexByte(s, '\n')
	if i < 1 || s[i-1] != '\r' {
		return "", "", false
	}
	return s[:i-1], s[i+1:], true
}

// plainValue reports whether v holds no control character but tabs, as
// textproto requires of a field value. It looks at eight bytes at a time:
// a word with a byte under 0x20 or a DEL is then checked byte by byte, to
// let a tab through.
func plainValue(v string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(v); i += 8 {
		x := uint64(v[i]) | uint64(v[i+1])<<8 | uint64(v[i+2])<<16 | uint64(v[i+3])<<24 |
			uint64(v[i+4])<<32 | uint64(v[i+5])<<40 | uint64(v[i+6])<<48 | uint64(v[i+7])<<56
		del := x ^ 0x7f*ones
		// Nonzero exactly when a byte of x is under 0x20, or one of del
		// is zero (a byte of x is 0x7f).
		if (x-0x20*ones)&^x&highs|(del-ones)&^del&highs != 0 && !plainBytes(v[i:i+8]) {
			return false
		}
	}
	return plainBytes(v[i:])
}

// plainBytes is plainValue, one byte at a time.
func plainBytes(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// headerKey checks that name is a token, as validHeaderName does, and
// returns http.CanonicalHeaderKey(name), in one pass over the bytes: a
// name already in canonical form (nearly all of them) is returned as it
// is, without the second pass CanonicalHeaderKey makes to check it.
func headerKey(name string) (key string, ok bool) {
	if name == "" {
		return "", false
	}
	upper, canonical := true, true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z':
			canonical = canonical && !upper
		case 'A' <= c && c <= 'Z':
			canonical = canonical && upper
		case '0' <= c && c <= '9', c == '-':
		case strings.IndexByte("!#$%&'*+.^_`|~", c) >= 0:
		default:
			return "", false
		}
		upper = c == '-'
	}
	if canonical {
		return name, true
	}
	return canonicalName(name), true
}

// canonicalName is http.CanonicalHeaderKey(name), without a copy for the
// client hints Chromium sends in lower case with every request over
// HTTP/1.1 (three allocations per request).
func canonicalName(name string) string {
	switch name {
	case "sec-ch-ua":
		return "Sec-Ch-Ua"
	case "sec-ch-ua-mobile":
		return "Sec-Ch-Ua-Mobile"
	case "sec-ch-ua-platform":
		return "Sec-Ch-Ua-Platform"
	}
	return http.CanonicalHeaderKey(name)
}

// parseResponseHead parses a target's response head as http.ReadResponse
// does, for the responses it handles the same way in fewer allocations: a
// final status, and a body framed by one Content-Length or none at all (a
// HEAD, a 204 or a 304). br holds the head at its start; the body is read
// from br after the caller discards the head's n bytes. ok is false for
// the rest (1xx, chunked, a body that ends with the connection, trailers,
// several lengths, ...), which the caller reads with ReadResponse.
func parseResponseHead(head []byte, req *http.Request, br *bufio.Reader) (res *http.Response, ok bool) {
	s := string(head)
	line, rest, found := strings.Cut(s, "\r\n")
	if !found || strings.IndexByte(line, '\n') >= 0 {
		return nil, false
	}
	proto, status, _ := strings.Cut(line, " ")
	status = strings.TrimLeft(status, " ")
	code3, _, _ := strings.Cut(status, " ")
	if proto != "HTTP/1.1" || len(code3) != 3 || code3[0] < '2' || code3[0] > '9' ||
		code3[1] < '0' || code3[1] > '9' || code3[2] < '0' || code3[2] > '9' {
		return nil, false
	}
	code := int(code3[0]-'0')*100 + int(code3[1]-'0')*10 + int(code3[2]-'0')
	h, _, _, ok := parseFields(rest, false)
	if !ok {
		return nil, false
	}
	if _, te := h["Transfer-Encoding"]; te {
		return nil, false
	}
	if _, tr := h["Trailer"]; tr {
		return nil, false
	}
	cl := int64(-1)
	switch v := h["Content-Length"]; len(v) {
	case 0:
	case 1:
		if len(v[0]) == 0 || len(v[0]) > 18 {
			return nil, false
		}
		cl = 0
		for i := 0; i < len(v[0]); i++ {
			c := v[0][i]
			if c < '0' || c > '9' {
				return nil, false
			}
			cl = cl*10 + int64(c-'0')
		}
	default:
		return nil, false
	}
	res = &http.Response{
		Status: status, StatusCode: code,
		Proto: proto, ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Request: req, Body: http.NoBody,
	}
	if hasToken(h["Connection"], "close") {
		// ReadResponse takes it out, and says Close
		res.Close = true
		delete(h, "Connection")
	}
	switch {
	case req.Method == http.MethodHead:
		res.ContentLength = cl
		if cl < 0 {
			return nil, false
		}
	case code == http.StatusNoContent || code == http.StatusNotModified:
	case cl < 0:
		return nil, false // the body ends with the connection
	case cl > 0:
		res.ContentLength = cl
		res.Body = &lengthBody{r: br, n: cl}
	}
	return res, true
}

// lengthBody reads a body of n bytes from r, as net/http's does: io.EOF
// with the last bytes, io.ErrUnexpectedEOF if the connection ends first.
type lengthBody struct {
	r *bufio.Reader
	n int64
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	switch {
	case err == io.EOF && b.n > 0:
		err = io.ErrUnexpectedEOF
	case err == nil && b.n == 0:
		err = io.EOF
	}
	return n, err
}

func (b *lengthBody) Close() error { return nil }

// hasToken reports whether a comma-separated header value lists token,
// in any case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(f), token) {
				return true
			}
		}
	}
	return false
}
