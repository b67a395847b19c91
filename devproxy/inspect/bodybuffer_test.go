package inspect

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestBodyBuffer: bytes read into the room BodyBuffer offers and then
// passed to ResponseBody are kept where they are, with no copy, and the
// body is the same as when every part is copied; no room is offered where
// nothing more would be kept.
func TestBodyBuffer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		size    int    // the body's length
		length  bool   // sent with a Content-Length
		ct      string // Content-Type
		method  string
		reads   int  // the size of each read
		inPlace bool // reads go into the room; false: none may, or (no length) either way
	}{
		{name: "small module", size: 10 << 10, length: true, ct: "text/javascript", reads: 3000, inPlace: true},
		{name: "a read of all of it", size: 10 << 10, length: true, ct: "text/javascript", reads: 32 << 10, inPlace: true},
		{name: "past the shared room", size: 200 << 10, length: true, ct: "application/json", reads: 32 << 10, inPlace: true},
		{name: "past the cap", size: 3 << 20, length: true, ct: "application/json", reads: 32 << 10, inPlace: true},
		{name: "cap not a multiple of the reads", opts: Options{MaxBody: 10000}, size: 50000, length: true, ct: "text/plain", reads: 3000, inPlace: true},
		// Room from append's growth may be offered, or not.
		{name: "no length", size: 10 << 10, ct: "text/plain", reads: 3000},
		{name: "opaque", size: 10 << 10, length: true, ct: "application/octet-stream", reads: 3000},
		{name: "head", size: 0, length: true, ct: "text/plain", method: "HEAD", reads: 3000},
		{name: "over the budget", opts: Options{Budget: 5000}, size: 10 << 10, length: true, ct: "text/plain", reads: 3000, inPlace: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := make([]byte, tc.size)
			for i := range body {
				body[i] = byte('a' + rand.IntN(26))
			}
			kept := min(int64(tc.size), orDefault(tc.opts.MaxBody, DefaultMaxBody), orDefault(tc.opts.Budget, DefaultBudget))
			s := New(tc.opts)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			ex := s.Begin(httptest.NewRequest(method, "/m.js", nil), Where{})
			h := http.Header{"Content-Type": {tc.ct}}
			if tc.length {
				h["Content-Length"] = []string{strconv.Itoa(tc.size)}
			}
			ex.ResponseHeader(200, h)
			own := make([]byte, tc.reads)
			var placed int64 // bytes read into the room
			for p := body; len(p) > 0; {
				buf := ex.BodyBuffer()
				room := len(buf) > 0
				if !room {
					buf = own
				}
				n := copy(buf[:min(len(buf), tc.reads)], p) // as a Read into buf
				ex.ResponseBody(buf[:n])
				if room {
					placed += int64(n)
				}
				p = p[n:]
			}
			ex.Finish(int64(tc.size), nil)
			v := ex.Snapshot()
			if !bytes.Equal(v.ResponseBody.Data, body[:len(v.ResponseBody.Data)]) || v.ResponseBody.Size != int64(tc.size) {
				t.Fatalf("kept %d of %d bytes (size %d), not the body's first bytes", len(v.ResponseBody.Data), tc.size, v.ResponseBody.Size)
			}
			opaque := tc.ct == "application/octet-stream"
			if !opaque && int64(len(v.ResponseBody.Data)) != kept {
				t.Errorf("kept %d bytes, want %d", len(v.ResponseBody.Data), kept)
			}
			if got, want := v.ResponseBody.Truncated, kept < int64(tc.size); got != want && !opaque {
				t.Errorf("truncated = %t, want %t", got, want)
			}
			if s.Used() != int64(len(v.ResponseBody.Data)) {
				t.Errorf("budget used = %d, want the %d bytes kept", s.Used(), len(v.ResponseBody.Data))
			}
			switch {
			case !tc.inPlace && tc.length:
				if placed > 0 {
					t.Errorf("%d bytes were read into the capture's room, want none", placed)
				}
			case !tc.inPlace:
			case kept == int64(tc.size) && kept <= sharedBody:
				// A body kept whole in the room of its header goes there.
				if placed != kept {
					t.Errorf("%d of %d bytes were read into the capture's room, want all", placed, kept)
				}
			default:
				// The first read of a body past the shared room has no
				// room yet, and the room left near a cap may be too small.
				least := kept - minBodyBuffer
				if kept > sharedBody {
					least -= int64(tc.reads)
				}
				if placed < least {
					t.Errorf("%d of %d bytes kept were read into the capture's room, want %d or more", placed, kept, least)
				}
			}
		})
	}
}

// TestBodyBufferAfterDrop: an exchange dropped while its body is read
// offers no more room, and what was read into it is not counted.
func TestBodyBufferAfterDrop(t *testing.T) {
	s := New(Options{MaxExchanges: 1})
	ex := s.Begin(httptest.NewRequest("GET", "/long", nil), Where{})
	ex.ResponseHeader(200, http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"9000"}})
	buf := ex.BodyBuffer()
	if len(buf) != 9000 {
		t.Fatalf("room for a 9000-byte body: %d bytes, want 9000", len(buf))
	}
	copy(buf, "first")
	ex.ResponseBody(buf[:5])
	exchange(s, "/next", nil, []byte("x")) // drops /long
	if b := ex.BodyBuffer(); b != nil {
		t.Errorf("a dropped exchange offers %d bytes of room, want none", len(b))
	}
	ex.ResponseBody(buf[5:100])
	if s.Used() != 1 {
		t.Errorf("Used() = %d, want 1: the dropped exchange still holds budget", s.Used())
	}
}

func orDefault(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}
