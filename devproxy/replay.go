package devproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/devproxy/devproxy/internal/regularfile"
	"github.com/devproxy/devproxy/internal/web"
)

// replayVia is how the log names the recordings as what answered.
const replayVia = "replay"

// replayHandler answers a route from the files record wrote: always
// (replay: FOLDER), or while the target refuses connections (replay:
// auto, as the target's down handler). A file is read on every request,
// so an edit shows at once.
//
// A request finds its file by method, path below the route prefix, query
// parameters in any order, and the hash of its body; no header is
// compared.
type replayHandler struct {
	dir    string
	prefix string
	// show turns a path into the words a failure uses: relative to the
	// config's folder when it is inside it.
	show func(string) string
	// record is the record folder of the route, "" when it records
	// nothing: a miss tells how to record the request.
	record string
}

func (h *replayHandler) serve(w http.ResponseWriter, r *http.Request, o *outcome) {
	h.serveDown(w, r, o, nil)
}

// serveDown answers r from its recording; why is the target's refusal
// under replay: auto, nil when replay answers every request.
func (h *replayHandler) serveDown(w http.ResponseWriter, r *http.Request, o *outcome, why *proxyError) {
	o.via = replayVia
	hash := ""
	if r.Body != nil && r.Body != http.NoBody {
		sum := sha256.New()
		n, err := io.Copy(sum, io.LimitReader(r.Body, maxHashedBody))
		if err != nil {
			writeProxyError(w, r, o, &proxyError{Status: http.StatusBadRequest, Route: h.prefix,
				Err: "cannot read the request body: " + err.Error(), Hint: "the client sent a broken body; check the code that makes this request"})
			return
		}
		hash = bodyHash(sum, n)
	}
	file := recordingName(h.dir, h.prefix, r, hash)
	o.ex.AnsweredBy(h.show(file))
	rec, pe := h.load(file)
	if pe != nil {
		pe.Route = h.prefix
		if why != nil && pe.Status == http.StatusNotFound {
			pe.Err += "; and the target is down: " + why.Err
			pe.Target = why.Target
			pe.Hint = "start the target: while it answers, devproxy records each request into " + h.show(h.dir) + "; " + why.Hint
		}
		writeProxyError(w, r, o, pe)
		return
	}
	o.mark("replayed")
	hdr := w.Header()
	for _, f := range rec.header {
		hdr.Add(f.Name, f.Value)
	}
	noBody := rec.status == http.StatusNoContent || rec.status == http.StatusNotModified
	switch {
	case r.Method == http.MethodHead && hdr.Get("Content-Length") != "":
		// A HEAD's recording keeps the length of the body it did not send.
	case noBody:
		hdr.Del("Content-Length")
	default:
		hdr.Set("Content-Length", strconv.Itoa(len(rec.body)))
	}
	w.WriteHeader(rec.status)
	if r.Method != http.MethodHead && !noBody {
		_, _ = w.Write(rec.body)
	}
}

// recording is a recording file as replay reads it.
type recording struct {
	status int
	header []headerField
	body   []byte
}

// headerField is one header line of a recording, in file order.
type headerField struct{ Name, Value string }

// load reads and parses file; a problem is the answer to send.
func (h *replayHandler) load(file string) (*recording, *proxyError) {
	data, err := regularfile.Read(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		hint := "record it: add record: " + h.show(h.dir) + " to routes." + h.prefix + " and make this request once while the target runs"
		if h.record != "" {
			hint = "make this request once while the target runs: devproxy records it into " + h.show(h.record)
		}
		return nil, &proxyError{Status: http.StatusNotFound, File: h.show(file),
			Err:  "no recording of this request: devproxy looked for " + h.show(file),
			Hint: hint + "; a request matches by method, path, query (in any order) and body"}
	case err != nil:
		return nil, &proxyError{Status: http.StatusInternalServerError, File: h.show(file),
			Err: "cannot read recording " + h.show(file) + ": " + pathErrReason(err), Hint: "make it a regular file, or delete it and record it again"}
	}
	rec, line, msg := parseRecording(data)
	if msg == "" && rec.form != "" {
		msg = h.body(file, &rec)
		line = rec.formLine
	}
	if msg != "" {
		return nil, &proxyError{Status: http.StatusInternalServerError, File: h.show(file),
			Err:  fmt.Sprintf("cannot replay %s:%d: %s", h.show(file), line, msg),
			Hint: "fix the file, or delete it and record it again"}
	}
	return &rec.recording, nil
}

// body applies a recording's "# body:" line; it returns what is wrong
// with it, or "".
func (h *replayHandler) body(file string, rec *parsedRecording) string {
	switch {
	case rec.form == bodyCompactJSON:
		var c bytes.Buffer
		if err := json.Compact(&c, rec.body); err != nil {
			return "the body is not valid JSON (" + err.Error() + "); fix it, or remove the # body: line to send it as it is"
		}
		rec.body = c.Bytes()
	case strings.HasPrefix(rec.form, bodyFilePrefix):
		name := strings.TrimSpace(strings.TrimPrefix(rec.form, bodyFilePrefix))
		if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
			return fmt.Sprintf("the body file %q is not a file name in the recording's folder", name)
		}
		b, err := regularfile.Read(filepath.Join(filepath.Dir(file), name))
		if err != nil {
			return "cannot read the body file " + strconv.Quote(name) + ": " + pathErrReason(err)
		}
		rec.body = b
	default:
		return fmt.Sprintf("unknown # body: %q; devproxy writes %q or \"file NAME\"", rec.form, bodyCompactJSON)
	}
	return ""
}

// parsedRecording is a recording with its "# body:" line not yet
// applied.
type parsedRecording struct {
	recording
	form     string
	formLine int
}

// parseRecording reads a recording file: comment lines (#) anywhere in
// the heads; the request line and its headers, then a blank line (both
// may be left out in a file written by hand); the status line and the
// response headers, then a blank line; the body, every byte to the end.
// It returns the line of a problem and what it is, or "".
func parseRecording(data []byte) (parsedRecording, int, string) {
	var rec parsedRecording
	line, rest := 0, data
	next := func() (string, bool) {
		if len(rest) == 0 {
			return "", false
		}
		l, after, found := bytes.Cut(rest, []byte("\n"))
		if !found {
			after = nil
		}
		rest = after
		line++
		return strings.TrimSuffix(string(l), "\r"), true
	}
	// The request head, unless the file starts with the status line.
	inRequest := true
	for {
		l, ok := next()
		if !ok {
			return rec, line, "the file ends before the status line (HTTP/1.1 200 OK)"
		}
		if strings.HasPrefix(l, "#") || l == "" && inRequest && line == 1 {
			continue
		}
		if code, ok := statusLine(l); ok {
			rec.status = code
			break
		}
		if strings.HasPrefix(l, "HTTP/") {
			return rec, line, fmt.Sprintf("%q is not a status line such as HTTP/1.1 200 OK (200 to 599)", l)
		}
		if l == "" {
			inRequest = false
			continue
		}
		if !inRequest {
			return rec, line, fmt.Sprintf("want the status line, such as HTTP/1.1 200 OK, got %q", l)
		}
	}
	for {
		l, ok := next()
		if !ok || l == "" {
			break
		}
		if form, ok := strings.CutPrefix(l, "# body:"); ok {
			rec.form, rec.formLine = strings.TrimSpace(form), line
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || !web.IsToken(name) {
			return rec, line, fmt.Sprintf("%q is not a header line (Name: value)", l)
		}
		rec.header = append(rec.header, headerField{Name: http.CanonicalHeaderKey(name), Value: strings.TrimSpace(value)})
	}
	rec.body = rest
	return rec, 0, ""
}
