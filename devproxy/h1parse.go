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
	line, rest, found := strings.Cut(s, "\r\n")
	if !found || strings.IndexByte(line, '\n') >= 0 {
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
	n := strings.Count(rest, "\r\n") - 1
	size := n
	if request {
		size--
	}
	h = make(http.Header, max(size, 0))
	vals := make([]string, 0, max(n, 0)) // one backing array for the single values
	for {
		line, after, found := strings.Cut(rest, "\r\n")
		if !found {
			return nil, "", 0, false
		}
		rest = after
		if line == "" {
			break
		}
		// A bare LF fails the checks below: no token or value holds one.
		if line[0] == ' ' || line[0] == '\t' {
			return nil, "", 0, false
		}
		name, value, found := strings.Cut(line, ":")
		if !found {
			return nil, "", 0, false
		}
		key, valid := headerKey(name)
		if !valid {
			return nil, "", 0, false
		}
		value = trimOWS(value)
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
				return nil, "", 0, false
			}
		}
		if request && key == "Host" {
			host, hosts = value, hosts+1
			continue
		}
		if vv, seen := h[key]; seen {
			h[key] = append(vv, value)
			continue
		}
		vals = append(vals, value)
		h[key] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if rest != "" {
		return nil, "", 0, false
	}
	if p := h["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
		// as net/http does (RFC 7234, 5.4)
		if _, cc := h["Cache-Control"]; !cc {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
	return h, host, hosts, true
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
