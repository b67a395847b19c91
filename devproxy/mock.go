package devproxy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"time"
)

// mockHandler answers a route with its respond block; no backend is needed.
type mockHandler struct {
	name string
	r    *Respond
}

func (m *mockHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.r.Delay > 0 {
		t := time.NewTimer(m.r.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			if rec, ok := w.(*recorder); ok {
				rec.status = StatusClientClosed
			}
			return
		}
	}
	body := m.r.Body
	if m.r.File != "" {
		// Read on every request, so that editing the file needs no reload.
		b, err := readRegularFile(m.r.File)
		if err != nil {
			hint := "create the file, or fix routes." + m.name + ".respond.file in the config"
			if errors.Is(err, errNotRegular) {
				hint = "make it a regular file, or fix routes." + m.name + ".respond.file in the config"
			}
			writeProxyError(w, r, &proxyError{
				Status: http.StatusInternalServerError,
				Err:    "cannot read mock file " + strconv.Quote(m.r.File) + ": " + pathErrReason(err),
				Route:  m.name,
				Hint:   hint,
			})
			return
		}
		body = b
	}
	h := w.Header()
	if m.r.ContentType != "" {
		h.Set("Content-Type", m.r.ContentType)
	}
	for _, hv := range m.r.Headers {
		h.Set(hv.Name, hv.Value)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := m.r.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// errNotRegular is the reason a mock's file that is a device, a FIFO or a
// socket is not served.
var errNotRegular = errors.New("not a regular file")

// readRegularFile reads name if it is a regular file. It checks before
// opening, since opening a FIFO blocks until a writer comes, and again on
// what it opened, in case the name was replaced in between: a device such
// as /dev/zero would be read until memory runs out.
func readRegularFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", errNotRegular, fileKind(fi.Mode()))
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", errNotRegular, fileKind(fi.Mode()))
	}
	return io.ReadAll(f)
}

// fileKind names what a file that is not regular is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	}
	return "a special file"
}

// pathErrReason is the cause of a file error without the path, which the
// caller already names.
func pathErrReason(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
