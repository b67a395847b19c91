package inspect

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devproxy/devproxy/internal/wsframe"
)

// exchange runs the hooks of one exchange with the given bodies.
func exchange(s *Store, path string, reqBody, respBody []byte) *Exchange {
	r := httptest.NewRequest("POST", "http://127.0.0.1:8080"+path, bytes.NewReader(reqBody))
	ex := s.Begin(r, Where{Kind: KindRoute, Route: "/api", Target: "http://127.0.0.1:5000"})
	body := ex.TeeRequestBody(r.Body)
	buf := make([]byte, 1000)
	for {
		if _, err := body.Read(buf); err != nil {
			break
		}
	}
	ex.ResponseHeader(200, http.Header{"Content-Type": {"text/plain"}})
	for p := respBody; len(p) > 0; {
		n := min(len(p), 700)
		ex.ResponseBody(p[:n])
		p = p[n:]
	}
	ex.Finish(int64(len(respBody)), nil)
	return ex
}

func ids(s *Store) []uint64 {
	var out []uint64
	for _, ex := range s.Snapshot() {
		out = append(out, ex.ID)
	}
	return out
}

func TestStoreBounds(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		n         int
		req       int
		body      int
		wantIDs   string // newest first
		wantKept  int    // bytes kept of each surviving response body
		wantTrunc bool
	}{
		{"count", Options{MaxExchanges: 3}, 5, 10, 10, "[5 4 3]", 10, false},
		{"body cap", Options{MaxBody: 1000}, 2, 5000, 5000, "[2 1]", 1000, true},
		// 4 exchanges of 2×1000 bytes within 5000: the two oldest go.
		{"budget", Options{MaxBody: 1000, Budget: 5000}, 4, 1000, 1000, "[4 3]", 1000, false},
		// one body larger than the whole budget keeps what fits.
		{"budget smaller than a body", Options{MaxBody: 10000, Budget: 3000}, 1, 0, 8000, "[1]", 3000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.opts)
			body := bytes.Repeat([]byte("b"), tt.body)
			for i := range tt.n {
				exchange(s, fmt.Sprintf("/x/%d", i+1), body[:tt.req], body)
			}
			if got := fmt.Sprint(ids(s)); got != tt.wantIDs {
				t.Errorf("kept ids = %s, want %s", got, tt.wantIDs)
			}
			var used int64
			for _, ex := range s.Snapshot() {
				v := ex.Snapshot()
				used += int64(len(v.RequestBody.Data) + len(v.ResponseBody.Data))
				if len(v.ResponseBody.Data) != tt.wantKept || v.ResponseBody.Size != int64(tt.body) || v.ResponseBody.Truncated != tt.wantTrunc {
					t.Errorf("#%d response body: kept %d of %d truncated %t, want %d of %d truncated %t",
						v.ID, len(v.ResponseBody.Data), v.ResponseBody.Size, v.ResponseBody.Truncated, tt.wantKept, tt.body, tt.wantTrunc)
				}
			}
			if s.Used() != used {
				t.Errorf("Used() = %d, want %d (the bytes the kept exchanges hold)", s.Used(), used)
			}
			if b := s.opts.Budget; s.Used() > b {
				t.Errorf("Used() = %d, over the budget %d", s.Used(), b)
			}
			s.Clear()
			if s.Used() != 0 || len(s.Snapshot()) != 0 {
				t.Errorf("after Clear: Used() = %d, %d entries", s.Used(), len(s.Snapshot()))
			}
		})
	}
}

// TestSetMaxExchanges: a reload that keeps fewer requests drops the
// oldest at once, with their share of the budget; 0 is the default.
func TestSetMaxExchanges(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		wantIDs string
		more    string // after one more exchange
	}{
		{"fewer", 2, "[5 4]", "[6 5]"},
		{"more", 10, "[5 4 3 2 1]", "[6 5 4 3 2 1]"},
		{"default", 0, "[5 4 3 2 1]", "[6 5 4 3 2 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{MaxExchanges: 5})
			for i := range 5 {
				exchange(s, fmt.Sprintf("/x/%d", i+1), nil, []byte("body"))
			}
			s.SetMaxExchanges(tt.max)
			if got := fmt.Sprint(ids(s)); got != tt.wantIDs {
				t.Errorf("SetMaxExchanges(%d): kept ids = %s, want %s", tt.max, got, tt.wantIDs)
			}
			if want := int64(4 * len(s.Snapshot())); s.Used() != want {
				t.Errorf("SetMaxExchanges(%d): Used() = %d, want %d", tt.max, s.Used(), want)
			}
			exchange(s, "/x/6", nil, []byte("body"))
			if got := fmt.Sprint(ids(s)); got != tt.more {
				t.Errorf("SetMaxExchanges(%d), one more: kept ids = %s, want %s", tt.max, got, tt.more)
			}
		})
	}
}

// TestDroppedInFlight: an exchange dropped while its response is still
// streaming stops taking budget.
func TestDroppedInFlight(t *testing.T) {
	s := New(Options{MaxExchanges: 1})
	r := httptest.NewRequest("GET", "/long", nil)
	long := s.Begin(r, Where{})
	long.ResponseHeader(200, http.Header{})
	long.ResponseBody([]byte("first"))
	exchange(s, "/next", nil, []byte("x"))
	long.ResponseBody(bytes.Repeat([]byte("y"), 5000))
	long.Finish(5005, nil)
	if s.Used() != 1 {
		t.Errorf("Used() = %d, want 1: the dropped exchange still holds budget", s.Used())
	}
}

func TestNilHooks(t *testing.T) {
	var s *Store
	ex := s.Begin(httptest.NewRequest("GET", "/", nil), Where{})
	if ex != nil {
		t.Fatal("nil store: Begin returned an exchange")
	}
	body := ex.TeeRequestBody(http.NoBody)
	if body != http.NoBody {
		t.Error("nil exchange: TeeRequestBody did not return the body itself")
	}
	ex.ResponseHeader(200, nil)
	ex.ResponseBody([]byte("x"))
	ex.WSMessage(ToClient, 1, []byte("x"))
	_, _ = ex.WSFrames(ToServer).Write([]byte{0x81, 0})
	ex.Fail("x", "y")
	ex.Finish(1, nil)
}

// TestFrameTap feeds real frames to the tap in every split.
func TestFrameTap(t *testing.T) {
	var stream bytes.Buffer
	var f wsframe.Framer
	msgs := []struct {
		op   byte
		body []byte
	}{
		{wsframe.OpText, []byte("short")},
		{wsframe.OpText, bytes.Repeat([]byte("m"), 300)},    // 16-bit length
		{2, bytes.Repeat([]byte{0, 1, 2, 0xff}, 20000)},     // 64-bit length, binary
		{wsframe.OpPing, nil},                               // empty
		{wsframe.OpText, []byte(strings.Repeat("é", 5000))}, // over the preview
	}
	for _, mask := range []bool{true, false} {
		stream.Reset()
		for _, m := range msgs {
			if err := f.Write(&stream, m.op, m.body, mask); err != nil {
				t.Fatal(err)
			}
		}
		for _, split := range []int{1, 3, 7, 1000, stream.Len()} {
			t.Run(fmt.Sprintf("mask=%t split=%d", mask, split), func(t *testing.T) {
				s := New(Options{})
				ex := s.Begin(httptest.NewRequest("GET", "/ws", nil), Where{})
				tap := ex.WSFrames(ToServer)
				for p := stream.Bytes(); len(p) > 0; {
					n := min(split, len(p))
					if k, err := tap.Write(p[:n]); k != n || err != nil {
						t.Fatalf("Write = %d, %v", k, err)
					}
					p = p[n:]
				}
				v := ex.Snapshot()
				if len(v.Messages) != len(msgs) {
					t.Fatalf("messages = %d, want %d", len(v.Messages), len(msgs))
				}
				for i, m := range msgs {
					got := v.Messages[i]
					want := m.body[:min(len(m.body), wsPreview)]
					if got.Opcode != m.op || got.Size != len(m.body) || !bytes.Equal(got.Payload, want) || got.Dir != ToServer {
						t.Errorf("message %d: op %d size %d payload %d bytes (%q…), want op %d size %d",
							i, got.Opcode, got.Size, len(got.Payload), got.Payload[:min(8, len(got.Payload))], m.op, len(m.body))
					}
				}
			})
		}
	}
}

// TestConcurrentCapture runs many exchanges while readers list, detail
// and subscribe; -race checks the locking.
func TestConcurrentCapture(t *testing.T) {
	s := New(Options{MaxExchanges: 50, Budget: 64 << 10, MaxBody: 4 << 10})
	sub := s.subscribe()
	defer s.unsubscribe(sub)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-sub.ch:
				default:
				}
				for _, ex := range s.Snapshot() {
					v := ex.Snapshot()
					_ = detailOf(&v)
				}
			}
		})
	}
	var writers sync.WaitGroup
	body := bytes.Repeat([]byte("z"), 3000)
	for w := range 4 {
		writers.Go(func() {
			for i := range 200 {
				ex := exchange(s, fmt.Sprintf("/w%d/%d", w, i), body, body)
				ex.WSMessage(ToClient, 1, body)
			}
		})
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	var kept int64
	for _, ex := range s.Snapshot() {
		v := ex.Snapshot()
		kept += int64(len(v.RequestBody.Data) + len(v.ResponseBody.Data))
		for _, m := range v.Messages {
			kept += int64(len(m.Payload))
		}
	}
	if n := len(s.Snapshot()); n == 0 || n > 50 {
		t.Errorf("kept %d exchanges, want 1…50", n)
	}
	if s.Used() != kept || s.Used() > 64<<10 {
		t.Errorf("Used() = %d, want %d (what the exchanges hold), within %d", s.Used(), kept, 64<<10)
	}
}

// TestResponseHeaderKept: the response header, kept as one run of bytes
// beside a small body, reads back as it was: several values, empty ones,
// values longer than a one-byte length, headers beyond the stack buffer.
func TestResponseHeaderKept(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Header
		body string
	}{
		{"small", http.Header{"Content-Type": {"application/json"}, "Content-Length": {"2"}, "Set-Cookie": {"a=1", "b=2"}, "X-Empty": {""}}, "{}"},
		{"long value", http.Header{"X-Long": {strings.Repeat("v", 300)}, "Content-Length": {"3"}}, "abc"},
		{"beyond 1 KiB", http.Header{"X-A": {strings.Repeat("a", 900)}, "X-B": {strings.Repeat("b", 900)}}, "body"},
		{"none", http.Header{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{})
			ex := s.Begin(httptest.NewRequest("GET", "/x", nil), Where{})
			ex.ResponseHeader(200, tc.h)
			ex.ResponseBody([]byte(tc.body))
			ex.Finish(int64(len(tc.body)), nil)
			v := ex.Snapshot()
			if len(v.ResponseHeader) != len(tc.h) {
				t.Errorf("response header = %q, want %q", v.ResponseHeader, tc.h)
			}
			for k, want := range tc.h {
				if got := v.ResponseHeader[k]; strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
					t.Errorf("response header %s = %q, want %q", k, got, want)
				}
			}
			if string(v.ResponseBody.Data) != tc.body {
				t.Errorf("response body = %q, want %q", v.ResponseBody.Data, tc.body)
			}
		})
	}
}

// BeginAt and FinishAt keep the caller's readings of the clock: the
// request log's, so that both say the same times. Begin and Finish read
// the Store's clock.
func TestBeginAtFinishAtKeepTheCallersTimes(t *testing.T) {
	var calls []time.Time
	clock := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := New(Options{Now: func() time.Time {
		clock = clock.Add(time.Second)
		calls = append(calls, clock)
		return clock
	}})
	r := httptest.NewRequest("GET", "http://127.0.0.1:8080/a", nil)
	start, end := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	ex := s.BeginAt(r, Where{Kind: KindFrontend}, start)
	ex.ResponseHeader(200, http.Header{})
	ex.FinishAt(0, nil, end)
	if v := ex.Snapshot(); !v.Start.Equal(start) || !v.End.Equal(end) || len(calls) != 1 || !v.FirstByte.Equal(calls[0]) {
		t.Errorf("BeginAt/FinishAt: start %v end %v first byte %v, %d clock reads; want %v, %v, %v and 1",
			v.Start, v.End, v.FirstByte, len(calls), start, end, clock)
	}
	ex = s.Begin(r, Where{Kind: KindFrontend})
	ex.Finish(0, nil)
	if v := ex.Snapshot(); len(calls) != 3 || !v.Start.Equal(calls[1]) || !v.End.Equal(calls[2]) {
		t.Errorf("Begin/Finish: start %v end %v after %d clock reads, want the store's clock", v.Start, v.End, len(calls))
	}
	var nilStore *Store
	if ex := nilStore.BeginAt(r, Where{}, start); ex != nil {
		t.Errorf("a nil Store's BeginAt = %v, want nil", ex)
	}
	var nilEx *Exchange
	nilEx.FinishAt(0, nil, end)
}
