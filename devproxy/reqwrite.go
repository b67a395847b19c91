package devproxy

import (
	"bufio"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
)

// writeRequest writes req for the short path exactly as req.Write would,
// byte for byte: the request line, Host, User-Agent, then the other
// headers sorted by name, invalid names dropped, newlines in values made
// spaces and values trimmed. Request.Write sorts through a pooled sorter
// of key-value pairs and an exclusion map; on the 15 headers a browser
// sends with each module request that was an eighth of devproxy's CPU on a
// page load (the pageload bench scenario). What this does not write the
// same way for certain (another method, a body, a trailer, a Host that is
// not plain ASCII, a client trace of the write) goes to req.Write.
func writeRequest(w *bufio.Writer, req *http.Request) error {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead || req.ContentLength != 0 || req.Close ||
		len(req.TransferEncoding) > 0 || req.Trailer != nil || !plainHost(host) || tracesWrite(req) {
		return req.Write(w)
	}
	uri := req.URL.RequestURI()
	if hasCTL(uri) {
		return req.Write(w) // which refuses it
	}
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	ua := "Go-http-client/1.1" // net/http's default, unless the header is there, even empty
	if v, ok := req.Header["User-Agent"]; ok {
		ua = ""
		if len(v) > 0 {
			ua = v[0]
		}
	}
	if ua != "" {
		w.WriteString("User-Agent: ")
		w.WriteString(headerValue(ua))
		w.WriteString("\r\n")
	}
	var buf [32]namedValues
	fields := buf[:0]
	for k, vv := range req.Header {
		switch k {
		case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		fields = append(fields, namedValues{k, vv})
	}
	sortFields(fields)
	for _, f := range fields {
		if !validHeaderName(f.name) {
			continue
		}
		for _, v := range f.values {
			w.WriteString(f.name)
			w.WriteString(": ")
			w.WriteString(headerValue(v))
			w.WriteString("\r\n")
		}
	}
	_, err := w.WriteString("\r\n")
	return err
}

// namedValues is a header's name and values, for writing in name order
// without a second lookup of each name.
type namedValues struct {
	name   string
	values []string
}

// compareNames orders two fields by name, as strings.Compare does.
func compareNames(a, b namedValues) int { return strings.Compare(a.name, b.name) }

// sortFields sorts fields by name as slices.Sort sorts the names: an
// insertion sort on each name's first eight bytes read as one number, the
// whole names compared only on a tie. The twenty-odd names of a browser's
// request sort in a third of slices.Sort's time, which was 4% of
// devproxy's CPU on a page load.
func sortFields(fields []namedValues) {
	var pre [48]uint64
	if len(fields) > len(pre) {
		slices.SortFunc(fields, compareNames)
		return
	}
	for i, f := range fields {
		pre[i] = prefix8(f.name)
	}
	for i := 1; i < len(fields); i++ {
		f, p := fields[i], pre[i]
		j := i
		for ; j > 0 && (pre[j-1] > p || pre[j-1] == p && fields[j-1].name > f.name); j-- {
			fields[j], pre[j] = fields[j-1], pre[j-1]
		}
		fields[j], pre[j] = f, p
	}
}

// prefix8 is s's first eight bytes as a big-endian number, zeros after a
// shorter s: the numbers of two strings are in their order, or equal.
func prefix8(s string) uint64 {
	if len(s) >= 8 {
		return uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
			uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
	}
	var p uint64
	for i := range 8 {
		p <<= 8
		if i < len(s) {
			p |= uint64(s[i])
		}
	}
	return p
}

// tracesWrite reports whether req has a client trace that wants to hear
// of the write. ReverseProxy puts a trace on every request, with only
// Got1xxResponse, which the short path calls itself.
func tracesWrite(req *http.Request) bool {
	t := httptrace.ContextClientTrace(req.Context())
	return t != nil && (t.WroteHeaderField != nil || t.WroteHeaders != nil || t.WroteRequest != nil || t.Wait100Continue != nil)
}

// headerValue is v as Request.Write sends it: CR and LF made spaces,
// then spaces and tabs trimmed.
func headerValue(v string) string {
	// IndexByte twice is several times faster than ContainsAny, and a
	// value is written for every header of every request.
	if strings.IndexByte(v, '\n') >= 0 || strings.IndexByte(v, '\r') >= 0 {
		v = strings.NewReplacer("\n", " ", "\r", " ").Replace(v)
	}
	return trimOWS(v)
}

// trimOWS trims the spaces and tabs around a header value.
func trimOWS(v string) string {
	i, j := 0, len(v)
	for i < j && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	for j > i && (v[j-1] == ' ' || v[j-1] == '\t') {
		j--
	}
	return v[i:j]
}

// plainHost reports whether host is written by Request.Write as it is: a
// name, IPv4 or bracketed IPv6 address and a port, with no zone and
// nothing that is not ASCII.
func plainHost(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

// hasCTL reports whether s has an ASCII control character, which
// Request.Write refuses in a request target.
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// validHeaderName reports whether k is an HTTP token, the header names
// Request.Write writes.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
		case strings.IndexByte("!#$%&'*+.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
