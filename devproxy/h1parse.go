package devproxy

import (
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
	n := strings.Count(rest, "\r\n")
	h := make(http.Header, n)
	vals := make([]string, 0, n) // one backing array for the single values
	host, hosts := "", 0
	for {
		line, rest, found = strings.Cut(rest, "\r\n")
		if !found {
			return nil, false
		}
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' || strings.IndexByte(line, '\n') >= 0 {
			return nil, false
		}
		name, value, found := strings.Cut(line, ":")
		if !found || !validFieldName(name) {
			return nil, false
		}
		value = strings.Trim(value, " \t")
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
				return nil, false
			}
		}
		key := http.CanonicalHeaderKey(name)
		switch key {
		case "Host":
			host, hosts = value, hosts+1
			continue
		case "Content-Length", "Transfer-Encoding", "Trailer", "Expect", "Upgrade", "Http2-Settings":
			return nil, false
		}
		if vv, seen := h[key]; seen {
			h[key] = append(vv, value)
			continue
		}
		vals = append(vals, value)
		h[key] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if rest != "" || hosts != 1 {
		return nil, false
	}
	if p := h["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
		// as net/http does (RFC 7234, 5.4)
		if _, cc := h["Cache-Control"]; !cc {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
	return &http.Request{
		Method: method, URL: u, RequestURI: uri,
		Proto: proto, ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: http.NoBody, Host: host,
		Close: hasToken(h["Connection"], "close"),
	}, true
}

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
