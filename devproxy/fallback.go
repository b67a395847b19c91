package devproxy

import (
	"errors"
	"net/http"
)

// errNotServed is what a dev server's answer becomes when it did not serve
// the request and the request is to go to the frontend's fallback_api.
var errNotServed = errors.New("the dev server does not serve this path")

// fallbackHandler is the frontend dev server with a fallback_api: the
// catch-all of Create React App's "proxy" field, for any dev server. A
// request no route claimed goes
//
//   - to the API at once when its method is not GET or HEAD, or it has a
//     body: dev servers serve files by GET, and a body cannot be sent twice;
//   - to the dev server when it is a page load (it asks for text/html, as
//     CRA decides): the app's pages are the dev server's;
//   - otherwise (fetches, scripts, images, WebSocket upgrades) to the dev
//     server first, and on to the API when the dev server answers that it
//     does not serve the path (notServed).
//
// CRA asks its dev server's own middleware first too (the bundle and its
// hot updates) and stats public/ files; asking the dev server over HTTP
// covers both, and its hot-reload socket, for every dev server, with one
// request to it more for each API GET.
type fallbackHandler struct {
	dev, api *upstream
}

func (h *fallbackHandler) serve(w http.ResponseWriter, r *http.Request, o *outcome) {
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead, hasBody(r):
		o.fallback = h.api.hostport
		h.api.serve(w, r, o)
	case wantsHTML(r):
		h.dev.serve(w, r, o)
	default:
		h.dev.serveOr(w, r, o, h.api)
	}
}

// hasBody reports whether r comes with a body, which could not be sent
// again to a second target.
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 || len(r.TransferEncoding) > 0
}

// notServed reports whether res, the dev server's answer to in, says that
// it has nothing at that path: a 404, or its HTML page (the SPA fallback
// of Vite and webpack-dev-server) for a request that did not ask for a
// page.
func notServed(in *http.Request, res *http.Response) bool {
	return res.StatusCode == http.StatusNotFound ||
		!wantsHTML(in) && isPageAnswer(in.URL.Path, res.StatusCode, headerGet(res.Header, "Content-Type"))
}
