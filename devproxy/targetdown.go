package devproxy

import (
	"io"
	"net/http"

	"github.com/devproxy/devproxy/internal/neterr"
)

// A route's target may have something that answers in its place while
// it refuses connections, the usual state of a local API that is not
// started: a fallback target (a shared environment), or the recordings
// of replay: auto. Each request tries the target first, so starting it
// switches back on the next request.

// downHandler answers a request in place of a target that refused the
// connection; why is that refusal, for the answer's words when this one
// fails too.
type downHandler interface {
	serveDown(w http.ResponseWriter, r *http.Request, o *outcome, why *proxyError)
}

// heldBody is a request body that the target's attempt may close
// unread: a refused dial never reads it, and the transport closes it.
// The down handler then gets the body as it came.
type heldBody struct {
	io.ReadCloser
	read bool
}

func (b *heldBody) Read(p []byte) (int, error) {
	b.read = true
	return b.ReadCloser.Read(p)
}

// Close keeps the body open for the down handler; the server closes it
// at the end of the request.
func (b *heldBody) Close() error { return nil }

// hold keeps r's body for the down handler, and returns the request to
// send to the target.
func (c *proxyCall) hold(r *http.Request) *http.Request {
	if r.Body == nil || r.Body == http.NoBody {
		return r
	}
	c.held = &heldBody{ReadCloser: r.Body}
	out := new(http.Request)
	*out = *r
	out.Body = c.held
	return out
}

// answerDown hands the request to the upstream's down handler when the
// target refused the connection before reading any of the body; it
// reports whether the down handler answered.
func (c *proxyCall) answerDown(w http.ResponseWriter, err error, pe *proxyError) bool {
	u := c.u
	if u.down == nil || c.in == nil || neterr.Classify(err).Kind != neterr.Refused {
		return false
	}
	if c.held != nil && c.held.read {
		return false
	}
	why := pe
	if c.prior != nil {
		why = u.after(c.prior, pe)
	}
	u.down.serveDown(w, c.in, c.o, why)
	return true
}

// serveDown serves r from the fallback target, after the route's target
// refused it. The log line and the inspector name the fallback as what
// answered.
func (u *upstream) serveDown(w http.ResponseWriter, r *http.Request, o *outcome, why *proxyError) {
	o.via = u.hostport
	o.ex.AnsweredBy(u.target.String())
	o.mark("fallback")
	u.forward(w, r, o, nil, why)
}

// after words the failure pe of this upstream, which stood in for a
// target that failed with prior: both are named, and the hint says to
// start the first or check this one.
func (u *upstream) after(prior, pe *proxyError) *proxyError {
	out := *pe
	out.Err = prior.Err + "; the fallback " + u.target.String() + " failed too: " + pe.Err
	out.Target = prior.Target + ", fallback " + u.target.String()
	out.Hint = "start the local API (" + prior.Target + "), or check that the fallback " + u.target.String() + " is up; " + pe.Hint
	out.Waiting = false
	return &out
}
