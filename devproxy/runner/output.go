package runner

import (
	"bytes"
	"sync"
	"time"
	"unicode/utf8"
)

// Stream names the pipe a line came from.
type Stream int

const (
	// Stdout is the command's standard output.
	Stdout Stream = iota + 1
	// Stderr is the command's standard error.
	Stderr
)

// String returns "stdout" or "stderr".
func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// Line is one line of a command's output.
type Line struct {
	// Name is the command's name (Options.Name).
	Name string
	// Stream is the pipe the line came from.
	Stream Stream
	// Text is the line as the command wrote it, escapes included, without
	// its line break (\n or \r\n). StripANSI removes the escapes.
	Text string
	// Partial is true when the line was delivered before its line break:
	// the command wrote nothing more for Options.FlushDelay, the line
	// reached Options.MaxLine bytes, or the command exited. What follows
	// arrives as the next Line.
	Partial bool
}

// lineSplitter cuts one stream's bytes into lines. write and the flush
// timer run on different goroutines; mu orders them so lines of one stream
// are delivered in order and each byte exactly once.
type lineSplitter struct {
	mu    sync.Mutex
	buf   []byte
	delay time.Duration
	max   int
	timer *time.Timer
	// gen counts the partial lines that began; a timer armed for one
	// partial must not cut the next one short.
	gen  uint64
	emit func(text string, partial bool)
}

func newLineSplitter(delay time.Duration, max int, emit func(string, bool)) *lineSplitter {
	return &lineSplitter{delay: delay, max: max, emit: emit}
}

// write takes the next bytes the command wrote.
func (s *lineSplitter) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	continued := len(s.buf) > 0
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i >= 0 && i <= s.max {
			s.emit(string(bytes.TrimSuffix(s.buf[:i], []byte("\r"))), false)
			s.buf = s.buf[i+1:]
			continued = false
			continue
		}
		if i < 0 && len(s.buf) < s.max {
			break
		}
		// A line longer than max goes in pieces, each cut before a rune
		// the cut would split, so each piece is valid UTF-8 when the
		// input is.
		cut := s.max
		for c := cut; c > cut-utf8.UTFMax && c > 0; c-- {
			if utf8.RuneStart(s.buf[c]) {
				cut = c
				break
			}
		}
		s.emit(string(s.buf[:cut]), true)
		s.buf = s.buf[cut:]
		continued = false
	}
	// Move what is left to the front so buf does not grow without bound
	// when the command writes many lines.
	s.buf = append(s.buf[:0], s.buf...)
	if len(s.buf) > 0 {
		if !continued {
			s.gen++
		}
		if s.timer == nil {
			s.arm()
		}
	}
}

// arm starts the flush timer for the partial line now pending.
func (s *lineSplitter) arm() {
	gen := s.gen
	s.timer = time.AfterFunc(s.delay, func() { s.flushPartial(gen) })
}

// flushPartial delivers a line that has waited for its line break for the
// flush delay. A timer armed for an earlier partial line, which has since
// been completed, gives the pending one its own full delay.
func (s *lineSplitter) flushPartial(gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = nil
	switch {
	case len(s.buf) == 0:
	case gen != s.gen:
		s.arm()
	default:
		s.emit(string(s.buf), true)
		s.buf = s.buf[:0]
	}
}

// close delivers what is left at the end of the stream.
func (s *lineSplitter) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if len(s.buf) > 0 {
		s.emit(string(s.buf), true)
		s.buf = nil
	}
}
