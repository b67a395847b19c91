package runner

import (
	"testing"
	"time"
	"unicode/utf8"
)

type piece struct {
	text    string
	partial bool
}

func TestLineSplitter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		max    int
		want   []piece
	}{
		{"lines", []string{"a\nb\n"}, 100, []piece{{"a", false}, {"b", false}}},
		{"crlf", []string{"a\r\nb\r\n"}, 100, []piece{{"a", false}, {"b", false}}},
		{"across writes", []string{"ab", "c\nd", "e\n"}, 100, []piece{{"abc", false}, {"de", false}}},
		{"empty lines", []string{"\n\n"}, 100, []piece{{"", false}, {"", false}}},
		{"tail at close", []string{"a\nrest"}, 100, []piece{{"a", false}, {"rest", true}}},
		{"long line", []string{"abcdefghij\n"}, 4, []piece{{"abcd", true}, {"efgh", true}, {"ij", false}}},
		{"long line keeps runes whole", []string{"aé" + "é" + "\n"}, 4, []piece{{"aé", true}, {"é", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []piece
			s := newLineSplitter(time.Hour, tt.max, func(text string, partial bool) {
				got = append(got, piece{text, partial})
			})
			for _, w := range tt.writes {
				s.write([]byte(w))
			}
			s.close()
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("piece %d = %+v, want %+v", i, got[i], tt.want[i])
				}
				if !utf8.ValidString(got[i].text) {
					t.Errorf("piece %d = %q is not valid UTF-8", i, got[i].text)
				}
			}
		})
	}
}

func TestLineSplitterFlushesAfterDelay(t *testing.T) {
	got := make(chan piece, 4)
	s := newLineSplitter(20*time.Millisecond, 100, func(text string, partial bool) {
		got <- piece{text, partial}
	})
	s.write([]byte("Password: "))
	select {
	case p := <-got:
		if p != (piece{"Password: ", true}) {
			t.Errorf("flushed %+v, want the partial line", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("partial line not flushed after its delay")
	}
	s.write([]byte("ok\n"))
	if p := <-got; p != (piece{"ok", false}) {
		t.Errorf("next line = %+v, want {ok false}", p)
	}
	s.close()
	if len(got) != 0 {
		t.Errorf("close delivered %+v, want nothing more", <-got)
	}
}

// Regression: the timer armed for one partial line flushed whatever partial
// was pending when it fired, so a steady stream had a line cut in two every
// FlushDelay. A timer for an earlier partial must leave the next one alone.
func TestLineSplitterStaleTimerKeepsNextPartial(t *testing.T) {
	var got []piece
	s := newLineSplitter(time.Hour, 100, func(text string, partial bool) {
		got = append(got, piece{text, partial})
	})
	s.write([]byte("x"))
	stale := s.gen
	s.write([]byte("\nyy"))
	s.flushPartial(stale)
	if len(got) != 1 || got[0] != (piece{"x", false}) {
		t.Fatalf("after a stale timer: got %+v, want only the line \"x\"", got)
	}
	s.write([]byte("y"))
	s.flushPartial(s.gen)
	if len(got) != 2 || got[1] != (piece{"yyy", true}) {
		t.Errorf("after its own timer: got %+v, want the partial \"yyy\"", got)
	}
	s.close()
}
