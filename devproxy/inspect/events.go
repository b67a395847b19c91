package inspect

// eventType says what happened to an exchange.
type eventType uint8

const (
	eventNew    eventType = iota // Begin
	eventUpdate                  // response headers, a WebSocket message
	eventDone                    // Finish
	eventClear                   // Clear; id is 0
)

var eventNames = [...]string{"new", "update", "done", "clear"}

func (t eventType) String() string { return eventNames[t] }

type event struct {
	typ eventType
	id  uint64
	// site and siteOnly: a clear of one site's exchanges only.
	site     string
	siteOnly bool
}

// subscriber is one open event stream. Its channel is buffered so that a
// request never waits for a reader; a reader that falls behind loses
// events and is told to reload (lost).
type subscriber struct {
	ch   chan event
	lost chan struct{} // closed once an event was dropped
	once bool
}

// subscribe returns a new subscriber; cancel it with unsubscribe.
func (s *Store) subscribe() *subscriber {
	sub := &subscriber{ch: make(chan event, 256), lost: make(chan struct{})}
	s.subMu.Lock()
	s.subs[sub] = struct{}{}
	s.subsN.Add(1)
	s.subMu.Unlock()
	return sub
}

func (s *Store) unsubscribe(sub *subscriber) {
	s.subMu.Lock()
	if _, ok := s.subs[sub]; ok {
		delete(s.subs, sub)
		s.subsN.Add(-1)
	}
	s.subMu.Unlock()
}

// publish tells every subscriber, without waiting for any.
func (s *Store) publish(typ eventType, id uint64) {
	s.send(event{typ: typ, id: id})
}

// publishSite tells every subscriber of an event that concerns one
// site's exchanges only.
func (s *Store) publishSite(typ eventType, id uint64, site string) {
	s.send(event{typ: typ, id: id, site: site, siteOnly: true})
}

func (s *Store) send(ev event) {
	if s.subsN.Load() == 0 {
		return
	}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for sub := range s.subs {
		select {
		case sub.ch <- ev:
		default:
			if !sub.once {
				sub.once = true
				close(sub.lost)
			}
		}
	}
}
