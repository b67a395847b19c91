package devproxy

import (
	"errors"
	"net/http"
)

// A loop is a target that is devproxy itself. The config check refuses
// the ones it can see (config.ParseFor, selfTargets); this file catches
// the rest at run time (a port forward or a name for this machine): every
// upstream request carries this server's hop (upstream.rewrite), a request
// that arrives with it is answered at once with a bare 508, and the
// request that left gets the 508 back, recognises its hop and answers the
// client with the one page and log line that explain the loop.

// hopHeader carries the hop of every devproxy a request went through.
const hopHeader = "X-Devproxy-Hop"

// errLoop is a request that reached devproxy itself through its target.
var errLoop = errors.New("the request came back to devproxy")

// cameBack reports whether r is a request this server sent upstream: its
// target is devproxy itself, under a name the config check could not know.
func (s *Server) cameBack(r *http.Request) bool {
	for _, v := range r.Header[hopHeader] {
		if v == s.hop {
			return true
		}
	}
	return false
}

// sendBack answers a request that came back with a bare 508 carrying the
// hop. The outer request, the one that left, logs the loop and tells the
// client: one loop, one line, one 508.
func (s *Server) sendBack(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Devproxy-Error", "1")
	h.Set(hopHeader, s.hop)
	w.WriteHeader(http.StatusLoopDetected)
}

// loopedBack reports whether res is the 508 this server sent back to its
// own request.
func (u *upstream) loopedBack(res *http.Response) bool {
	return res.StatusCode == http.StatusLoopDetected && u.hop != "" && headerGet(res.Header, hopHeader) == u.hop
}

// loopDetected is what the client is told of a request that came back.
func (u *upstream) loopDetected() *proxyError {
	what := "your API's own address"
	if u.frontend {
		what = "your dev server's own address (Vite: http://localhost:5173)"
	}
	return &proxyError{Status: http.StatusLoopDetected, Route: u.name, Target: u.target.String(),
		Err:  "loop detected: " + u.field() + " " + u.target.String() + " is devproxy itself; the request came back to it",
		Hint: "point " + u.field() + " at " + what + ", not at the address you open in the browser"}
}
