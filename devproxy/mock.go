package devproxy

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/devproxy/devproxy/devproxy/config"
	"github.com/devproxy/devproxy/internal/regularfile"
)

// mockHandler answers a route with its respond block; no backend is needed.
type mockHandler struct {
	name string
	r    *config.Respond
}

func (m *mockHandler) serve(w http.ResponseWriter, r *http.Request, o *outcome) {
	if m.r.Delay > 0 {
		t := time.NewTimer(m.r.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			o.clientClosed()
			return
		}
	}
	body := m.r.Body
	if m.r.File != "" {
		// Read on every request, so that editing the file needs no reload.
		b, err := regularfile.Read(m.r.File)
		if err != nil {
			hint := "create the file, or fix routes." + m.name + ".respond.file in the config"
			if errors.Is(err, regularfile.ErrNotRegular) {
				hint = "make it a regular file, or fix routes." + m.name + ".respond.file in the config"
			}
			writeProxyError(w, r, o, &proxyError{
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

// pathErrReason is the cause of a file error without the path, which the
// caller already names.
func pathErrReason(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
