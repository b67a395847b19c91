package inspect

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxExchanges  = 1000
	DefaultMaxBody       = 1 << 20
	DefaultBudget        = 64 << 20
	DefaultMaxWSMessages = 500
	// wsPreview is how much of one WebSocket message is kept.
	wsPreview = 4 << 10
	// sharedBody is the largest response body whose room is allocated
	// with the response header, before any of it is written: a larger one
	// gets its own allocation once the budget grants it room.
	sharedBody = 64 << 10
)

// Options configure a Store. The zero value gives the defaults.
type Options struct {
	// MaxExchanges is how many exchanges are kept; 0 means
	// DefaultMaxExchanges (1000). The oldest is dropped first.
	MaxExchanges int
	// MaxBody is how many bytes of each request and response body are
	// kept; the rest is counted only. 0 means DefaultMaxBody (1 MiB).
	MaxBody int64
	// Budget bounds the bytes of bodies and WebSocket messages kept by all
	// exchanges together; 0 means DefaultBudget (64 MiB). When a body
	// would exceed it, the oldest exchanges are dropped.
	Budget int64
	// MaxWSMessages is how many messages of one WebSocket are kept; 0
	// means DefaultMaxWSMessages (500). Later ones are counted only.
	MaxWSMessages int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Kind says what answered a request.
type Kind uint8

// The kinds of exchange.
const (
	KindRoute    Kind = iota // proxied to a route's target
	KindFrontend             // proxied to the frontend dev server
	KindStatic               // served from the frontend folder
	KindMock                 // answered by a route's respond block
	KindDevproxy             // devproxy's own endpoints
)

var kindNames = [...]string{"route", "frontend", "static", "mock", "devproxy"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MarshalText writes the kind's name, as the API and HAR show it.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	if v, ok := parseKind(string(b)); ok {
		*k = v
	}
	return nil
}

func parseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return 0, false
}

// Where says where devproxy sent a request.
type Where struct {
	Kind Kind
	// Route is the route's path prefix; "" for the frontend.
	Route string
	// Target is the URL the request went to; "" when nothing upstream
	// answered (static, mock).
	Target string
	// Via names what answered in place of Target: the URL of the route's
	// fallback, or the recording file of replay, as the log names it; ""
	// when Target (or the mock, or the folder) answered.
	Via string
	// Site is the named site whose host the request came to; "" for the
	// top-level one. The inspector on a site shows only its exchanges
	// (ForSite); Retarget keeps it.
	Site string
}

// Store keeps the last exchanges devproxy carried, within bounded memory.
// A nil *Store captures nothing: Begin returns a nil *Exchange, whose
// methods do nothing, so the core calls the hooks unconditionally.
type Store struct {
	opts Options
	used atomic.Int64 // bytes of bodies and messages kept

	mu     sync.Mutex
	nextID uint64
	list   []*Exchange // oldest first

	subsN atomic.Int32
	subMu sync.Mutex
	subs  map[*subscriber]struct{}
}

// New returns an empty Store.
func New(opts Options) *Store {
	if opts.MaxExchanges <= 0 {
		opts.MaxExchanges = DefaultMaxExchanges
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if opts.MaxWSMessages <= 0 {
		opts.MaxWSMessages = DefaultMaxWSMessages
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{opts: opts, subs: map[*subscriber]struct{}{}}
}

// replayKey marks the context of a replayed request.
type replayKey struct{}

// replayMark is what a replay leaves in its request's context: the
// exchange it replays, and a slot for the new exchange's id.
type replayMark struct {
	of    uint64
	newID atomic.Uint64
}

// Begin records the start of a request and returns its exchange. Call it
// once the route is known, before the request body is read; r is not
// kept, but its header map is, as it is: from Begin on, nothing may
// change r.Header (the proxy changes its clone of the request; to drop a
// header, replace the map). Readers get a copy.
func (s *Store) Begin(r *http.Request, where Where) *Exchange {
	if s == nil {
		return nil
	}
	return s.BeginAt(r, where, s.opts.Now())
}

// BeginAt is Begin for a request that began at start, a reading of the
// clock the Store was given (Options.Now) that the caller made: the log
// reads it once for both.
func (s *Store) BeginAt(r *http.Request, where Where, start time.Time) *Exchange {
	if s == nil {
		return nil
	}
	ex := &Exchange{
		store:  s,
		Start:  start,
		Method: r.Method,
		Proto:  r.Proto,
		Where:  where,
		site:   where.Site,
		// Kept, not copied: a copy was one of the capture's four
		// allocations on a small GET, and its dearest.
		reqHdr: r.Header,
	}
	ex.setURL(r)
	// One lookup: a server request's context is several layers deep.
	m, replay := r.Context().Value(replayKey{}).(*replayMark)
	if replay {
		ex.ReplayOf = m.of
	}
	_, ex.upgrade = r.Header["Upgrade"]
	s.add(ex)
	if replay {
		m.newID.Store(ex.ID)
	}
	s.publish(eventNew, ex.ID)
	return ex
}

// setURL keeps the parts of the URL the client asked for; URL joins them
// when a reader asks, so that the request pays for no string building.
func (ex *Exchange) setURL(r *http.Request) {
	ex.scheme = "http"
	if r.TLS != nil {
		ex.scheme = "https"
	}
	ex.host, ex.uri = r.Host, r.RequestURI
	if r.URL.Host != "" {
		ex.host = r.URL.Host
	}
	if ex.uri == "" || ex.uri[0] != '/' {
		ex.uri = r.URL.RequestURI()
	}
}

// URL is the absolute URL the client asked for.
func (ex *Exchange) URL() string {
	if ex.host == "" {
		return ex.uri // imported: the HAR's URL as it is
	}
	return ex.scheme + "://" + ex.host + ex.uri
}

func (s *Store) add(ex *Exchange) {
	s.mu.Lock()
	s.nextID++
	ex.ID = s.nextID
	s.list = append(s.list, ex)
	var dropped *Exchange
	if len(s.list) > s.opts.MaxExchanges {
		dropped = s.list[0]
		s.list[0] = nil
		s.list = s.list[1:]
	}
	s.mu.Unlock()
	if dropped != nil {
		dropped.drop()
	}
}

// SetMaxExchanges changes how many exchanges are kept, as a reload of the
// config does; 0 means DefaultMaxExchanges. The oldest beyond the new
// number are dropped at once.
func (s *Store) SetMaxExchanges(n int) {
	if n <= 0 {
		n = DefaultMaxExchanges
	}
	s.mu.Lock()
	s.opts.MaxExchanges = n
	var dropped []*Exchange
	if extra := len(s.list) - n; extra > 0 {
		dropped = append(dropped, s.list[:extra]...)
		clear(s.list[:extra])
		s.list = s.list[extra:]
	}
	s.mu.Unlock()
	for _, ex := range dropped {
		ex.drop()
	}
}

// reserve takes up to n bytes of the budget for ex, dropping the oldest
// other exchanges when needed, and returns how many it got.
func (s *Store) reserve(ex *Exchange, n int64) int64 {
	for {
		used := s.used.Load()
		if free := s.opts.Budget - used; free >= n || (free > 0 && !s.hasOther(ex)) {
			k := min(n, free)
			if s.used.CompareAndSwap(used, used+k) {
				return k
			}
			continue
		}
		if !s.dropOldest(ex) {
			return 0
		}
	}
}

// hasOther reports whether an exchange other than ex could be dropped.
func (s *Store) hasOther(ex *Exchange) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.list) > 1 || (len(s.list) == 1 && s.list[0] != ex)
}

// dropOldest drops the oldest exchange other than keep; it reports false
// when there is none.
func (s *Store) dropOldest(keep *Exchange) bool {
	s.mu.Lock()
	var victim *Exchange
	for i, ex := range s.list {
		if ex != keep {
			victim = ex
			s.list = append(s.list[:i:i], s.list[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	if victim == nil {
		return false
	}
	victim.drop()
	return true
}

// Clear drops every exchange.
func (s *Store) Clear() {
	s.mu.Lock()
	list := s.list
	s.list = nil
	s.mu.Unlock()
	for _, ex := range list {
		ex.drop()
	}
	s.publish(eventClear, 0)
}

// clearSite drops the exchanges of one site and keeps the others'.
func (s *Store) clearSite(site string) {
	s.mu.Lock()
	var gone []*Exchange
	kept := s.list[:0]
	for _, ex := range s.list {
		if ex.site == site {
			gone = append(gone, ex)
		} else {
			kept = append(kept, ex)
		}
	}
	clear(s.list[len(kept):])
	s.list = kept
	s.mu.Unlock()
	for _, ex := range gone {
		ex.drop()
	}
	s.publishSite(eventClear, 0, site)
}

// Get returns the exchange with the id, or nil.
func (s *Store) Get(id uint64) *Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	// ids grow with the list, so a binary search finds it.
	lo, hi := 0, len(s.list)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case s.list[m].ID == id:
			return s.list[m]
		case s.list[m].ID < id:
			lo = m + 1
		default:
			hi = m
		}
	}
	return nil
}

// Snapshot returns the kept exchanges, newest first.
func (s *Store) Snapshot() []*Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Exchange, len(s.list))
	for i, ex := range s.list {
		out[len(s.list)-1-i] = ex
	}
	return out
}

// Used returns the bytes of bodies and messages kept now.
func (s *Store) Used() int64 { return s.used.Load() }

// withReplay marks ctx as the context of a replay of exchange id: the
// exchange Begin records for a request with it is marked as a replay.
func withReplay(ctx context.Context, id uint64) (context.Context, *replayMark) {
	m := &replayMark{of: id}
	return context.WithValue(ctx, replayKey{}, m), m
}

// Direction is the way a WebSocket message went.
type Direction uint8

// The directions of a WebSocket message.
const (
	ToServer Direction = iota // from the client to the target
	ToClient                  // from the target to the client
)

func (d Direction) String() string {
	if d == ToServer {
		return "send"
	}
	return "receive"
}

// MarshalText writes "send" or "receive", as Chromium's HAR does.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "send" or "receive".
func (d *Direction) UnmarshalText(b []byte) error {
	*d = ToClient
	if string(b) == "send" {
		*d = ToServer
	}
	return nil
}

// Body is a captured body: its first bytes and how many there were.
type Body struct {
	Data []byte
	// Size is every byte seen, kept or not.
	Size int64
	// Truncated reports that bytes were seen and not kept, by the per-body
	// cap or the budget.
	Truncated bool
	// NotKept reports a response body of a type the page shows only as its
	// size and type (see opaqueType): counted, none of it kept.
	NotKept bool
}

// WSMessage is one WebSocket message (one frame) of a socket.
type WSMessage struct {
	Time    time.Time
	Dir     Direction
	Opcode  byte
	Size    int
	Payload []byte // the first wsPreview bytes
}

// Exchange is one request and its response as devproxy carried it. Its
// hook methods may be called on a nil *Exchange, which does nothing. The
// hooks of one exchange are called by the goroutine that serves it, except
// the WebSocket ones, which each direction's copy calls; readers take
// Exchange.Snapshot.
type Exchange struct {
	store *Store

	// Set by Begin, never changed; Where by Retarget, under mu.
	ID       uint64
	Start    time.Time
	Method   string
	Proto    string
	Where    Where
	ReplayOf uint64
	Imported bool
	reqHdr   http.Header // the request's own map, never changed
	upgrade  bool
	site     string // Where.Site, which Retarget keeps
	// The URL asked for, in parts (see URL).
	scheme, host, uri string

	mu       sync.Mutex
	dropped  bool
	reqBody  Body
	status   int
	respHdr  headerList
	respBody Body
	first    time.Time
	end      time.Time
	size     int64
	failure  string
	hint     string
	errText  string
	ws       []WSMessage
	wsCount  int
	stream   bool
	respLen  int64 // the response's Content-Length; 0 when unknown
	kept     int64 // bytes of the budget this exchange holds
}

// drop releases the exchange's bodies and its share of the budget.
func (ex *Exchange) drop() {
	ex.mu.Lock()
	ex.dropped = true
	kept := ex.kept
	ex.kept = 0
	ex.reqBody.Data, ex.respBody.Data = nil, nil
	for i := range ex.ws {
		ex.ws[i].Payload = nil
	}
	ex.mu.Unlock()
	ex.store.used.Add(-kept)
}

// keep appends p to b within the per-body cap and the budget.
func (ex *Exchange) keep(b *Body, p []byte) {
	s := ex.store
	ex.mu.Lock()
	b.Size += int64(len(p))
	if b.NotKept {
		ex.mu.Unlock()
		return
	}
	room := s.opts.MaxBody - int64(len(b.Data))
	dropped := ex.dropped
	ex.mu.Unlock()
	n := min(int64(len(p)), max(room, 0))
	if n < int64(len(p)) || dropped {
		ex.mu.Lock()
		b.Truncated = true
		ex.mu.Unlock()
	}
	if n == 0 || dropped {
		return
	}
	if k := s.reserve(ex, n); k < n {
		ex.mu.Lock()
		b.Truncated = true
		ex.mu.Unlock()
		if n = k; n == 0 {
			return
		}
	}
	ex.mu.Lock()
	if ex.dropped {
		ex.mu.Unlock()
		s.used.Add(-n)
		return
	}
	if b.Data == nil && b == &ex.respBody && ex.respLen > 0 {
		// One allocation of the size to keep, not a doubling append's
		// series of copies (2 MiB copied for a 1 MiB download).
		b.Data = make([]byte, 0, min(ex.respLen, s.opts.MaxBody))
	}
	if l := len(b.Data); int64(cap(b.Data)-l) >= n && &b.Data[:l+1][l] == &p[0] {
		// p was read into the room after the kept bytes (BodyBuffer):
		// it is in place already.
		b.Data = b.Data[:l+int(n)]
	} else {
		b.Data = append(b.Data, p[:n]...)
	}
	ex.kept += n
	ex.mu.Unlock()
}

// minBodyBuffer is the least room BodyBuffer offers when the body goes on
// past it: less would split the body into reads smaller than the proxy's
// own buffer makes.
const minBodyBuffer = 4 << 10

// BodyBuffer returns the room after the response body's kept bytes, for
// the proxy to read the next part of the body into and then write to the
// client and pass to ResponseBody as usual: ResponseBody then keeps those
// bytes where they are, without copying them. It is nil when there is no
// such room (capture off or done, a body not kept, a cap reached, less
// than minBodyBuffer left of a body that goes on); the proxy then reads
// into a buffer of its own.
// The room is allocated with the response header for a small body with a
// Content-Length, and at the first ResponseBody for a larger one. Only the
// goroutine that writes the response may call it.
func (ex *Exchange) BodyBuffer() []byte {
	if ex == nil {
		return nil
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	b := &ex.respBody
	room := cap(b.Data) - len(b.Data)
	if ex.dropped || b.NotKept || b.Truncated || room == 0 || room < minBodyBuffer && (ex.respLen == 0 || ex.respLen-b.Size > int64(room)) {
		return nil
	}
	// Nothing else writes there: ResponseBody appends only what the
	// proxy read here, and readers see the kept bytes only.
	return b.Data[len(b.Data):cap(b.Data)]
}

// TeeRequestBody returns a body that reads rc and captures what is read,
// as it is read: the upload is never buffered ahead of the target. Call it
// before the proxy reads the request body and use the result in its place.
func (ex *Exchange) TeeRequestBody(rc io.ReadCloser) io.ReadCloser {
	if ex == nil || rc == nil || rc == http.NoBody {
		return rc
	}
	return &teeBody{rc: rc, ex: ex}
}

type teeBody struct {
	rc io.ReadCloser
	ex *Exchange
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 {
		t.ex.keep(&t.ex.reqBody, p[:n])
	}
	return n, err
}

func (t *teeBody) Close() error { return t.rc.Close() }

// ResponseHeader records the response's status and headers: call it where
// the response writer's WriteHeader passes a final (>= 200) status on, or
// on the first Write with 200. h is copied. 101 marks a WebSocket, which
// stays open until Finish; a text/event-stream response likewise.
func (ex *Exchange) ResponseHeader(status int, h http.Header) {
	if ex == nil {
		return
	}
	now := ex.store.opts.Now()
	var respLen int64
	// A 304 has no length, and ParseInt's error for "" is an allocation.
	// The names are canonical: the map is read directly, without the
	// scan of each name h.Get makes.
	if v := h["Content-Length"]; len(v) > 0 && v[0] != "" {
		v := v[0]
		if cl, err := strconv.ParseInt(v, 10, 64); err == nil && cl > 0 {
			respLen = cl
		}
	}
	// A download the page could only call "binary" costs no copy: a
	// 1 MiB octet-stream cost 592 µs of CPU with its copy against 401
	// without capture (go run ./bench -only download).
	var ct string
	if v := h["Content-Type"]; len(v) > 0 {
		ct = v[0]
	}
	notKept := opaqueType(ct)
	// The header is encoded on the stack, then copied into one allocation
	// with room for a small body after it: a walk of the map to size it
	// first cost a third of the hooks on a small request.
	var stack [1024]byte
	enc := appendHeader(stack[:0], h)
	var body int64
	if !notKept && respLen <= sharedBody && ex.Method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified {
		body = min(respLen, ex.store.opts.MaxBody)
	}
	buf := make([]byte, len(enc), int64(len(enc))+body)
	copy(buf, enc)
	ex.mu.Lock()
	if ex.status != 0 {
		ex.mu.Unlock()
		return
	}
	ex.status, ex.respHdr, ex.first, ex.respLen = status, buf[:len(enc):len(enc)], now, respLen
	ex.respBody.NotKept = notKept
	if body > 0 && ex.respBody.Data == nil {
		ex.respBody.Data = buf[len(enc):len(enc)]
	}
	ex.stream = status == http.StatusSwitchingProtocols || isEventStream(ct)
	ex.mu.Unlock()
	if ex.store.subsN.Load() > 0 {
		ex.store.publish(eventUpdate, ex.ID)
	}
}

// ResponseBody captures p, the bytes just written to the client: call it
// from the response writer's Write after the write. p is copied, within
// the caps, and not kept.
func (ex *Exchange) ResponseBody(p []byte) {
	if ex == nil || len(p) == 0 {
		return
	}
	ex.keep(&ex.respBody, p)
}

// Retarget changes where the exchange says the request went, for a request
// that was sent on elsewhere (the frontend's fallback_api); call it before
// Finish.
func (ex *Exchange) Retarget(where Where) {
	if ex == nil {
		return
	}
	ex.mu.Lock()
	where.Site = ex.site
	ex.Where = where
	ex.mu.Unlock()
}

// AnsweredBy records what answered in place of the target the request was
// routed to: a route's fallback URL, or the recording of replay (see
// Where.Via); call it before Finish.
func (ex *Exchange) AnsweredBy(via string) {
	if ex == nil {
		return
	}
	ex.mu.Lock()
	ex.Where.Via = via
	ex.mu.Unlock()
}

// Fail records what went wrong and what to try, as the proxy's failure
// page says it.
func (ex *Exchange) Fail(what, hint string) {
	if ex == nil {
		return
	}
	ex.mu.Lock()
	ex.failure, ex.hint = what, hint
	ex.mu.Unlock()
}

// Finish records the end of the exchange: size is the response bytes
// written to the client (for a WebSocket, both ways), err an error that
// ended the response early (the client went away) or nil. Call it once
// ServeHTTP is done, after a WebSocket's copy has ended.
func (ex *Exchange) Finish(size int64, err error) {
	if ex == nil {
		return
	}
	ex.FinishAt(size, err, ex.store.opts.Now())
}

// FinishAt is Finish for an exchange that ended at now, a reading of the
// Store's clock (Options.Now) the caller made.
func (ex *Exchange) FinishAt(size int64, err error, now time.Time) {
	if ex == nil {
		return
	}
	ex.mu.Lock()
	ex.end, ex.size = now, size
	if err != nil {
		ex.errText = err.Error()
	}
	if ex.first.IsZero() {
		ex.first = now
	}
	ex.mu.Unlock()
	ex.store.publish(eventDone, ex.ID)
}

// WSMessage records one WebSocket message of the socket; payload is
// copied up to a preview and not kept.
func (ex *Exchange) WSMessage(dir Direction, opcode byte, payload []byte) {
	if ex == nil {
		return
	}
	ex.wsFrame(dir, opcode, len(payload), payload)
}

// wsFrame records a message of size bytes whose first bytes are payload.
func (ex *Exchange) wsFrame(dir Direction, opcode byte, size int, payload []byte) {
	s := ex.store
	ex.mu.Lock()
	ex.wsCount++
	full := len(ex.ws) >= s.opts.MaxWSMessages || ex.dropped
	ex.mu.Unlock()
	if full {
		return
	}
	n := min(len(payload), wsPreview)
	m := WSMessage{Time: s.opts.Now(), Dir: dir, Opcode: opcode, Size: size}
	if n > 0 {
		n = int(s.reserve(ex, int64(n)))
		m.Payload = append([]byte(nil), payload[:n]...)
	}
	ex.mu.Lock()
	if ex.dropped {
		ex.mu.Unlock()
		s.used.Add(-int64(n))
		return
	}
	ex.ws = append(ex.ws, m)
	ex.kept += int64(n)
	ex.mu.Unlock()
	if s.subsN.Load() > 0 {
		s.publish(eventUpdate, ex.ID)
	}
}

// opaqueType reports whether a body of Content-Type ct is one the page
// shows only as its size and type: no preview, no text. Images are not:
// the page previews them.
func opaqueType(ct string) bool {
	// Media types, or top-level types ending in '/'.
	opaque := [...]string{"audio/", "video/", "font/", "application/octet-stream",
		"application/pdf", "application/zip", "application/gzip", "application/wasm"}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	for _, t := range opaque {
		if t[len(t)-1] == '/' && len(mt) > len(t) && strings.EqualFold(mt[:len(t)], t) || strings.EqualFold(mt, t) {
			return true
		}
	}
	return false
}

func isEventStream(ct string) bool {
	const es = "text/event-stream"
	return len(ct) >= len(es) && strings.EqualFold(ct[:len(es)], es)
}

// View is a consistent copy of an exchange for readers.
type View struct {
	ID             uint64
	Start          time.Time
	Method, URL    string
	Proto          string
	Where          Where
	ReplayOf       uint64
	Imported       bool
	RequestHeader  http.Header
	RequestBody    Body
	Status         int
	ResponseHeader http.Header
	ResponseBody   Body
	FirstByte, End time.Time
	Size           int64
	Failure, Hint  string
	Error          string
	WebSocket      bool
	Stream         bool
	Messages       []WSMessage
	MessagesSeen   int
}

// Open reports whether the exchange has not finished yet.
func (v *View) Open() bool { return v.End.IsZero() }

// Snapshot returns a copy of the exchange as it is now. Body bytes are
// shared with the exchange and must not be changed.
func (ex *Exchange) Snapshot() View {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return View{
		ID: ex.ID, Start: ex.Start, Method: ex.Method, URL: ex.URL(), Proto: ex.Proto,
		Where: ex.Where, ReplayOf: ex.ReplayOf, Imported: ex.Imported,
		RequestHeader: ex.reqHdr.Clone(), RequestBody: cloneBody(ex.reqBody),
		Status: ex.status, ResponseHeader: ex.respHdr.header(), ResponseBody: cloneBody(ex.respBody),
		FirstByte: ex.first, End: ex.end, Size: ex.size,
		Failure: ex.failure, Hint: ex.hint, Error: ex.errText,
		WebSocket: ex.status == http.StatusSwitchingProtocols || (ex.upgrade && ex.status == 0),
		Stream:    ex.stream,
		Messages:  append([]WSMessage(nil), ex.ws...), MessagesSeen: ex.wsCount,
	}
}

// cloneBody shares the bytes: they are only ever appended to, so the
// slice header taken under the lock stays valid.
func cloneBody(b Body) Body {
	return Body{Data: b.Data[:len(b.Data):len(b.Data)], Size: b.Size, Truncated: b.Truncated, NotKept: b.NotKept}
}

// parseQuery returns the query of a URL as name/value pairs in order.
func parseQuery(raw string) [][2]string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return nil
	}
	var out [][2]string
	for part := range strings.SplitSeq(u.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// headerList is a header kept as one run of bytes: each name and each
// value after its length (a uvarint). It holds no pointers, and it shares
// one allocation with a small response body (ResponseHeader), where a
// copy of the map takes one per name. Readers build the map again.
type headerList []byte

// appendHeader appends h to b as a headerList.
func appendHeader(b []byte, h http.Header) []byte {
	for k, vs := range h {
		for _, v := range vs {
			b = binary.AppendUvarint(b, uint64(len(k)))
			b = append(b, k...)
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	return b
}

// flatten returns h as a headerList of its own.
func flatten(h http.Header) headerList {
	if len(h) == 0 {
		return nil
	}
	return appendHeader(nil, h)
}

func (l headerList) header() http.Header {
	h := http.Header{}
	next := func() (string, bool) {
		n, k := binary.Uvarint(l)
		if k <= 0 || uint64(len(l)-k) < n {
			return "", false
		}
		s := string(l[k : k+int(n)])
		l = l[k+int(n):]
		return s, true
	}
	for len(l) > 0 {
		name, ok := next()
		value, ok2 := next()
		if !ok || !ok2 {
			break
		}
		h[name] = append(h[name], value)
	}
	return h
}
