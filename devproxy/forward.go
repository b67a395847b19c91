package devproxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strings"
)

// forwardShort forwards a request that takes the short path (a plain-HTTP
// GET, HEAD or OPTIONS without a body or an upgrade) as
// httputil.ReverseProxy.ServeHTTP does, step for step, with its Rewrite,
// ModifyResponse and ErrorHandler (the call's), but without its fixed
// costs: the outgoing request is copied once with its headers filtered in
// the same pass instead of cloned and then cleaned, a 1xx reaches the
// client without a client trace in a new context, the response headers
// are handed over instead of added one by one, and the flush decision
// reads Content-Type without parsing it. Every other request goes through
// ReverseProxy itself.
func (c *proxyCall) forwardShort(w http.ResponseWriter, in *http.Request, t *upstreamTransport) {
	out := new(http.Request)
	*out = *in
	u := new(url.URL)
	*u = *in.URL
	out.URL = u
	out.Body = nil // as ReverseProxy does for a request without a body
	out.Close = false
	out.Header = c.scratch.forward(in.Header)
	u.RawQuery = cleanQuery(u.RawQuery)
	// c.proxy.Rewrite is c.u.rewrite; this is the same rewrite told that
	// the forwarding headers are gone and where their values go.
	c.u.rewriteOut(&httputil.ProxyRequest{In: in, Out: out}, &c.scratch)
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header.Set("User-Agent", "") // no Go default User-Agent
	}

	done := false
	got1xx := func(code int, h textproto.MIMEHeader) error {
		if done {
			return nil
		}
		wh := w.Header()
		for k, vv := range h {
			wh[k] = append(wh[k], vv...)
		}
		w.WriteHeader(code)
		clear(wh)
		return nil
	}
	res, err := t.roundTripShort(out, got1xx)
	done = true
	if err != nil {
		c.errorHandler(w, out, err)
		return
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		// Not asked for (the request has no Upgrade): modifyResponse
		// refuses it, as ReverseProxy's upgrade handling would.
		err := c.modifyResponse(res)
		res.Body.Close()
		if err == nil {
			err = fmt.Errorf("the target switched protocols to %q, which the request did not ask for", headerGet(res.Header, "Upgrade"))
		}
		c.errorHandler(w, out, err)
		return
	}
	stripHopByHop(res.Header, false)
	if err := c.modifyResponse(res); err != nil {
		res.Body.Close()
		c.errorHandler(w, out, err)
		return
	}
	if a, ok := w.(headerAdopter); !ok || !a.adoptHeader(res.Header) {
		wh := w.Header()
		for k, vv := range res.Header {
			if prior, ok := wh[k]; ok {
				wh[k] = append(prior, vv...)
			} else {
				wh[k] = vv
			}
		}
	}
	wh := w.Header()
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		wh.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(res.StatusCode)
	stream := res.ContentLength == -1 || isEventStreamType(headerGet(res.Header, "Content-Type"))
	if stream {
		// As ReverseProxy's: the headers go out at once, then each
		// write as it is made.
		_ = http.NewResponseController(w).Flush()
	}
	if err := c.copyBody(w, res.Body, stream); err != nil {
		defer res.Body.Close()
		if in.Context().Value(http.ServerContextKey) == nil {
			return
		}
		panic(http.ErrAbortHandler)
	}
	res.Body.Close()
	if len(res.Trailer) > 0 {
		_ = http.NewResponseController(w).Flush()
	}
	if len(res.Trailer) == announced {
		for k, vv := range res.Trailer {
			wh[k] = append(wh[k], vv...)
		}
		return
	}
	for k, vv := range res.Trailer {
		k = http.TrailerPrefix + k
		wh[k] = append(wh[k], vv...)
	}
}

// headerAdopter is a ResponseWriter that can take a header map as its
// own: the target's response headers, with no copy into a second map.
// adoptHeader reports whether it did, which it does only before any
// header was set and the header written.
type headerAdopter interface {
	adoptHeader(h http.Header) bool
}

// copyBody copies a response body as ReverseProxy's copyResponse does:
// with a pooled buffer, flushing after each write when stream is set. When
// the inspector keeps the body, each read goes straight into the room its
// capture has for it (bodyBufferer), and the capture then costs no copy.
func (c *proxyCall) copyBody(w http.ResponseWriter, body io.Reader, stream bool) error {
	var buf []byte
	defer func() {
		if buf != nil && c.proxy.BufferPool != nil {
			c.proxy.BufferPool.Put(buf)
		}
	}()
	room, _ := w.(bodyBufferer)
	flush := func() error { return nil }
	if stream {
		rc := http.NewResponseController(w)
		flush = rc.Flush
	}
	for {
		var p []byte
		if room != nil {
			p = room.bodyBuffer()
		}
		if len(p) == 0 {
			if buf == nil {
				if bp := c.proxy.BufferPool; bp != nil {
					buf = bp.Get()
				}
				if len(buf) == 0 {
					buf = make([]byte, 32<<10)
				}
			}
			p = buf
		}
		nr, rerr := body.Read(p)
		if nr > 0 {
			nw, werr := w.Write(p[:nr])
			if werr != nil {
				return werr
			}
			if nw != nr {
				return io.ErrShortWrite
			}
			_ = flush()
		}
		if rerr != nil {
			if rerr == io.EOF {
				return nil
			}
			return rerr
		}
	}
}

// bodyBufferer is a ResponseWriter that offers the room its inspector
// capture has for the next bytes of the body (inspect.Exchange.BodyBuffer):
// bytes read there and then written are kept without a copy. nil means
// no room now.
type bodyBufferer interface {
	bodyBuffer() []byte
}

// isEventStreamType reports whether a Content-Type is text/event-stream,
// with or without parameters, as mime.ParseMediaType would read it.
func isEventStreamType(ct string) bool {
	const es = "text/event-stream"
	ct = strings.TrimLeft(ct, " \t")
	if len(ct) < len(es) || !strings.EqualFold(ct[:len(es)], es) {
		return false
	}
	rest := strings.TrimLeft(ct[len(es):], " \t")
	return rest == "" || rest[0] == ';'
}

// isHopHeader reports whether k is one of the headers ReverseProxy
// removes from every request, besides those the Connection header names.
func isHopHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade",
		// ReverseProxy drops these when Rewrite is set; setForwarded drops
		// the rest of the family
		"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
		return true
	}
	return false
}

// headerScratch is the outgoing request's header on the short path,
// kept with its proxyCall for the call's next request: the map, and the
// backing array of its values. Nothing keeps the outgoing request past
// the call (the hooks are devproxy's own), so the next one can take both
// over; the map and the array were a fifth of the bytes a proxied
// request allocated.
type headerScratch struct {
	h    http.Header
	vals []string
}

// maxScratchFields bounds the header a call keeps for its next request;
// a request with more fields gets a map of its own.
const maxScratchFields = 64

// forward fills the scratch header with h's fields without the hop-by-hop
// headers, those its Connection header names and the forwarding headers
// (isForwardingHeader), as ReverseProxy's clone and clean-up and
// setForwarded's removal leave it (Te: trailers kept). It leaves room in
// the values' array for the fields rewriteOut sets.
func (s *headerScratch) forward(h http.Header) http.Header {
	var buf [4]string // a browser names one: keep-alive
	named := buf[:0]
	for _, v := range h["Connection"] {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if f = textproto.TrimString(f); f != "" {
				named = append(named, f)
			}
		}
	}
	// Room for one value per field (a name sent twice makes append grow
	// the array, and the fields already in place keep the old one) and
	// for the fields rewriteOut sets.
	const room = 8 // X-Forwarded-For, -Host, -Proto, -Port, -Prefix, the hop, Te
	keep := len(h) <= maxScratchFields
	out, vals := s.h, s.vals[:0]
	if out == nil || !keep {
		out = make(http.Header, len(h)+room)
	} else {
		clear(out)
	}
	if cap(vals) < len(h)+room || !keep {
		vals = make([]string, 0, len(h)+room)
	}
	for k, vv := range h {
		if isHopHeader(k) || isForwardingHeader(k) || len(named) > 0 && connectionNames(named, k) {
			continue
		}
		start := len(vals)
		vals = append(vals, vv...)
		out[k] = vals[start:len(vals):len(vals)]
	}
	f := fieldSetter{h: out, vals: vals}
	if hasToken(h["Te"], "trailers") {
		f.set("Te", "trailers")
	}
	if keep {
		s.h = out
	}
	s.vals = f.vals
	return out
}

// connectionNames reports whether one of names, the tokens of a
// Connection header, names the header k of a parsed request: whether its
// canonical form is k, compared without making it.
func connectionNames(names []string, k string) bool {
	for _, n := range names {
		if validHeaderName(n) && asciiFold(n, k) || n == k {
			return true
		}
	}
	return false
}

// asciiFold reports whether a and b are equal with ASCII letters compared
// without case.
func asciiFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if x, y := a[i], b[i]; x != y {
			if lx := x | 0x20; lx != y|0x20 || lx < 'a' || lx > 'z' {
				return false
			}
		}
	}
	return true
}

// cleanQuery is ReverseProxy's query clean-up: a query that
// url.ParseQuery would not take whole (a semicolon, a bad escape) is
// re-encoded from what it does take.
func cleanQuery(s string) string {
	for i := 0; i < len(s); {
		switch s[i] {
		case ';':
			return reencodeQuery(s)
		case '%':
			if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
				return reencodeQuery(s)
			}
			i += 3
		default:
			i++
		}
	}
	return s
}

func reencodeQuery(s string) string {
	v, _ := url.ParseQuery(s)
	return v.Encode()
}
