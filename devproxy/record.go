package devproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A route with record: FOLDER writes each exchange its target answers to
// a file of its own in FOLDER, named after the request, which a person
// can read, edit and commit, and which replay answers from:
//
//	mocks/api/users/GET.http                  GET /api/users
//	mocks/api/users/GET__page=2&sort=name.http GET /api/users?sort=name&page=2
//	mocks/api/users/POST__body-3fa9c2d10b7e.http POST /api/users with a body
//	mocks/api/logo/GET.png                    the binary body of GET /api/logo
//
// A file holds the request line and headers, a blank line, the status
// line and response headers, a blank line and the body (see
// writeRecording).

// recordingExt is the extension of a recording file.
const recordingExt = ".http"

// masked replaces a secret's value in a recording.
const masked = "masked-by-devproxy"

// maxRecordedBody bounds the response body a recording keeps: larger
// responses (a video, a dump) are passed on and not recorded.
const maxRecordedBody = 32 << 20

// maxHashedBody bounds how much of a request body devproxy reads to name
// its recording; a larger body is named by its first maxHashedBody bytes.
const maxHashedBody = 64 << 20

// recordingName is the path of r's recording under dir, for a route
// with prefix: folders for the path below the prefix, a file named for
// the method, the query (its parameters sorted, so that their order does
// not matter) and bodyHash, the hash of the request body ("" for none).
func recordingName(dir, prefix string, r *http.Request, bodyHash string) string {
	rest := strings.TrimPrefix(r.URL.Path, prefix)
	parts := []string{dir}
	for seg := range strings.SplitSeq(strings.Trim(rest, "/"), "/") {
		if seg != "" {
			parts = append(parts, escapeName(seg))
		}
	}
	name := escapeName(r.Method)
	if q := sortedQuery(r.URL.RawQuery); q != "" {
		if q = escapeName(q); len(q) > 80 {
			sum := sha256.Sum256([]byte(q))
			q = "q-" + hex.EncodeToString(sum[:6])
		}
		name += "__" + q
	}
	if bodyHash != "" {
		name += "__body-" + bodyHash
	}
	return filepath.Join(append(parts, name+recordingExt)...)
}

// sortedQuery returns the query's parameters sorted, as sent otherwise.
func sortedQuery(raw string) string {
	if raw == "" {
		return ""
	}
	pairs := strings.Split(raw, "&")
	slices.Sort(pairs)
	return strings.Join(slices.DeleteFunc(pairs, func(s string) bool { return s == "" }), "&")
}

// escapeName makes s safe as one file name on every system: the bytes
// that some file system refuses or a shell trips on are written %XX, as
// in a URL.
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.IndexByte("-_.~@+,=&%!", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if s := b.String(); s != "." && s != ".." {
		return s
	}
	return strings.ReplaceAll(b.String(), ".", "%2E")
}

// bodyHash is the name part of a request body: the first 12 hex digits
// of its SHA-256, or "" for no body.
func bodyHash(h hash.Hash, n int64) string {
	if n == 0 {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// recordHandler records what next answers into its folder.
type recordHandler struct {
	next   handler
	dir    string
	prefix string
	// secrets writes Authorization, Cookie and Set-Cookie as they are.
	secrets bool
	// from names the target in a recording's first line.
	from string
	now  func() time.Time
	// warn logs a recording that could not be written.
	warn func(string)
}

func (h *recordHandler) serve(w http.ResponseWriter, r *http.Request, o *outcome) {
	hb := &hashingBody{ReadCloser: r.Body, h: sha256.New()}
	in := r
	if r.Body != nil && r.Body != http.NoBody {
		in = new(http.Request)
		*in = *r
		in.Body = hb
	}
	rw := &recordWriter{ResponseWriter: w}
	h.next.serve(rw, in, o)
	if o.err != nil || o.via == replayVia || rw.status < 200 || rw.skip || r.Context().Err() != nil {
		return
	}
	if in != r {
		// The target may answer before it read the whole body; the name
		// is the hash of all of it.
		_, _ = io.CopyN(hb, r.Body, maxHashedBody-hb.n)
	}
	file := recordingName(h.dir, h.prefix, r, bodyHash(hb.h, hb.n))
	if err := h.write(file, r, rw); err != nil {
		h.warn(fmt.Sprintf("%s: cannot record %s %s: %v", h.prefix, sanitize(r.Method), sanitize(r.RequestURI), err))
		return
	}
	o.mark("recorded")
}

// hashingBody hashes a request body as it is read.
type hashingBody struct {
	io.ReadCloser
	h hash.Hash
	n int64
}

func (b *hashingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.n < maxHashedBody {
		b.h.Write(p[:min(int64(n), maxHashedBody-b.n)])
	}
	b.n += int64(n)
	return n, err
}

// Write lets the rest of a body the target did not read be hashed.
func (b *hashingBody) Write(p []byte) (int, error) {
	b.h.Write(p)
	b.n += int64(len(p))
	return len(p), nil
}

// recordWriter keeps a copy of the response as it goes to the client.
type recordWriter struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
	// skip is set for a response not to record: an event stream, or a
	// body past maxRecordedBody.
	skip bool
}

func (rw *recordWriter) WriteHeader(code int) {
	if rw.status == 0 && code >= 200 {
		rw.status = code
		rw.header = rw.Header().Clone()
		if strings.HasPrefix(rw.header.Get("Content-Type"), "text/event-stream") {
			rw.skip = true
		}
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recordWriter) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if !rw.skip {
		if rw.body.Len()+len(p) > maxRecordedBody {
			rw.skip = true
			rw.body = bytes.Buffer{}
		} else {
			rw.body.Write(p)
		}
	}
	return rw.ResponseWriter.Write(p)
}

// Flush passes flushes through, so that streamed responses still stream.
func (rw *recordWriter) Flush() {
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rw *recordWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// Body forms of a recording, in its "# body:" line.
const (
	// bodyCompactJSON is a JSON body sent compact and written indented:
	// replay compacts it again, to the bytes the target sent.
	bodyCompactJSON = "json, compacted when replayed"
	// bodyFilePrefix names the side file of a binary body.
	bodyFilePrefix = "file "
)

// skippedHeader reports whether a recording leaves out a response
// header: replay sets the length of the body it sends itself (a HEAD's
// is kept, as it has no body to count), and devproxy's own markers are
// not the target's.
func skippedHeader(method string) func(string) bool {
	return func(name string) bool {
		switch name {
		case "Content-Length":
			return method != http.MethodHead
		case "Transfer-Encoding", "Connection", "Keep-Alive":
			return true
		}
		return strings.HasPrefix(name, "X-Devproxy-")
	}
}

// secretHeader reports whether a header's value is masked in a recording.
func secretHeader(name string) bool {
	return name == "Authorization" || name == "Cookie" || name == "Set-Cookie" || name == "Proxy-Authorization"
}

// maskValue masks a secret header's value; a Set-Cookie keeps its name
// and attributes, so that the recording still shows what it sets.
func maskValue(name, v string) string {
	if name != "Set-Cookie" {
		return masked
	}
	nv, attrs, _ := strings.Cut(v, ";")
	cookie, _, _ := strings.Cut(nv, "=")
	out := strings.TrimSpace(cookie) + "=" + masked
	if attrs != "" {
		out += ";" + attrs
	}
	return out
}

// write writes the recording of r and its response to file, replacing
// the one there: a new file is renamed over the old, so that replay never
// reads half of one.
func (h *recordHandler) write(file string, r *http.Request, rw *recordWriter) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Recorded by devproxy from %s on %s.\n", h.from, h.now().UTC().Format(time.RFC3339))
	b.WriteString("# Edit freely: devproxy reads this file on every request it answers from it.\n")
	fmt.Fprintf(&b, "%s %s\n", r.Method, requestTarget(r))
	h.writeHeaders(&b, r.Header, nil)
	b.WriteString("\n")
	fmt.Fprintf(&b, "HTTP/1.1 %03d %s\n", rw.status, http.StatusText(rw.status))
	body := rw.body.Bytes()
	form, text := bodyForm(rw.header, body)
	var side string
	switch {
	case len(body) == 0:
	case form == bodyCompactJSON:
		var ind bytes.Buffer
		_ = json.Indent(&ind, body, "", "  ")
		text = ind.Bytes()
	case text == nil:
		side = strings.TrimSuffix(file, recordingExt) + sideExt(rw.header.Get("Content-Type"))
		form = bodyFilePrefix + filepath.Base(side)
	}
	if form != "" {
		fmt.Fprintf(&b, "# body: %s\n", form)
	}
	h.writeHeaders(&b, rw.header, skippedHeader(r.Method))
	b.WriteString("\n")
	b.Write(text)
	if side != "" {
		if err := writeFileAtomic(side, body); err != nil {
			return err
		}
	}
	return writeFileAtomic(file, b.Bytes())
}

// requestTarget is r's path and query as the client sent them.
func requestTarget(r *http.Request) string {
	if r.URL.RawQuery != "" {
		return sanitize(r.URL.EscapedPath() + "?" + r.URL.RawQuery)
	}
	return sanitize(r.URL.EscapedPath())
}

// writeHeaders writes h sorted by name, secrets masked unless the route
// keeps them, leaving out the names skip reports.
func (h *recordHandler) writeHeaders(b *bytes.Buffer, hdr http.Header, skip func(string) bool) {
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range hdr {
			if !yield(k) {
				return
			}
		}
	}) {
		if skip != nil && skip(name) {
			continue
		}
		for _, v := range hdr[name] {
			if secretHeader(name) && !h.secrets {
				v = maskValue(name, v)
			}
			fmt.Fprintf(b, "%s: %s\n", name, v)
		}
	}
}

// bodyForm decides how a recording holds body: text is the body to write
// into the file, nil for a binary one that goes to a side file; form is
// the "# body:" line, "" for text written as it came.
func bodyForm(h http.Header, body []byte) (form string, text []byte) {
	if ce := h.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return "", nil
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	textual := isJSON || strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+xml") ||
		mt == "application/xml" || mt == "application/javascript" || mt == "application/x-www-form-urlencoded" ||
		mt == "" && len(body) > 0
	if !textual || !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		return "", nil
	}
	if isJSON && json.Valid(body) {
		var c bytes.Buffer
		if json.Compact(&c, body) == nil && bytes.Equal(c.Bytes(), body) {
			return bodyCompactJSON, nil
		}
	}
	return "", body
}

// sideExt is the extension of a binary body's side file, by its type.
func sideExt(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "application/pdf":
		return ".pdf"
	case "application/zip":
		return ".zip"
	case "font/woff2":
		return ".woff2"
	}
	return ".bin"
}

// writeFileAtomic writes data to a new file beside path and renames it
// over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	// A recording is a file to commit, readable as any other.
	merr := f.Chmod(0o644)
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(merr, werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return nil
}

// statusLine parses "HTTP/1.1 200 OK" into 200.
func statusLine(line string) (int, bool) {
	_, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(line, "HTTP/") {
		return 0, false
	}
	code, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	n, err := strconv.Atoi(code)
	return n, err == nil && n >= 200 && n <= 599
}
