package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// TestBuffer writes from several goroutines while reading (go test -race
// checks the locking) and finds every write once.
func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("ab"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("ab", 800) {
		t.Errorf("String() = %d bytes, want 1600 of \"ab\"", len(got))
	}
}
